import { errorName, log, type DecisionLog } from "../log.ts";

/**
 * The data point's layout, position by position (blob1 is BLOBS[0], and so on). The SQL in the
 * README depends on it: fields are only ever appended, never moved.
 */
export const METRICS_LAYOUT = {
  indexes: ["audience"],
  blobs: ["outcome", "code", "type", "cache", "method", "account", "rule", "principal", "app"],
  doubles: ["totalMs", "stsMs", "originMs", "status", "originStatus"],
} as const;

// Analytics Engine's limits: one index of at most 96 bytes, blobs of at most 16 KiB in all.
const MAX_INDEX_BYTES = 96;
const MAX_BLOB_BYTES = 1024;

/** Where a decision's data point goes: the dataset, indexed by the gate's audience. */
export interface MetricsSink {
  metrics: AnalyticsEngineDataset | undefined;
  audience: string;
}

/** METRICS is optional, and not a dependency: anything that cannot take a data point is none. */
export function metricsDataset(binding: unknown): AnalyticsEngineDataset | undefined {
  return typeof binding === "object" && binding !== null && typeof (binding as AnalyticsEngineDataset).writeDataPoint === "function"
    ? (binding as AnalyticsEngineDataset)
    : undefined;
}

/**
 * One data point per decision. writeDataPoint queues the write and returns; a binding that
 * throws (or, not being the real one, rejects) costs the request nothing but a warning.
 */
export function writeDecisionPoint(sink: MetricsSink, line: DecisionLog): void {
  if (sink.metrics === undefined) return;
  const values: Record<string, unknown> = { ...line, audience: sink.audience };
  const point: AnalyticsEngineDataPoint = {
    indexes: METRICS_LAYOUT.indexes.map((name) => truncateUtf8(String(values[name] ?? ""), MAX_INDEX_BYTES)),
    blobs: METRICS_LAYOUT.blobs.map((name) => truncateUtf8(String(values[name] ?? ""), MAX_BLOB_BYTES)),
    doubles: METRICS_LAYOUT.doubles.map((name) => Number(values[name] ?? 0)),
  };
  try {
    const result: unknown = sink.metrics.writeDataPoint(point);
    if (result instanceof Promise) result.catch(warn);
  } catch (error) {
    warn(error);
  }
}

// A broken binding fails on every request; one line a minute says so without flooding the logs.
const WARN_EVERY_MS = 60_000;
let lastWarning = -Infinity;

function warn(error: unknown): void {
  const now = Date.now();
  if (now - lastWarning < WARN_EVERY_MS) return;
  lastWarning = now;
  log({ event: "metrics", level: "warn", message: "METRICS: writeDataPoint failed; the request was not affected", error: errorName(error) });
}

/** At most `max` UTF-8 bytes, cut at a character boundary. */
function truncateUtf8(text: string, max: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= max) return text;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}
