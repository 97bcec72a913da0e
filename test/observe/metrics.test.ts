import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { DecisionLog } from "../../src/log";
import { METRICS_LAYOUT, metricsDataset, writeDecisionPoint } from "../../src/observe/metrics";
import { captureLog } from "../support/gate";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const line: DecisionLog = {
  event: "decision",
  level: "info",
  requestId: "r-1",
  outcome: "allow",
  app: "default",
  status: 200,
  originStatus: 201,
  originMs: 7,
  rule: "readers",
  principal: "arn:aws:iam::111122223333:role/reader",
  account: "111122223333",
  type: "assumed-role",
  cache: "miss",
  stsMs: 12,
  totalMs: 30,
  method: "GET",
  path: "/x",
} as DecisionLog;

/** The test env's real METRICS binding (Miniflare's Analytics Engine), with every data point recorded on its way. */
function spiedMetrics() {
  const points: AnalyticsEngineDataPoint[] = [];
  const real = env.METRICS as AnalyticsEngineDataset;
  const metrics = { writeDataPoint: (p: AnalyticsEngineDataPoint) => (points.push(p), real.writeDataPoint(p)) } as AnalyticsEngineDataset;
  return { metrics, points };
}

describe("writeDecisionPoint", () => {
  it("writes one point in the documented layout: the audience as index, blobs and doubles by position", () => {
    const { metrics, points } = spiedMetrics();
    writeDecisionPoint({ metrics, audience: "sts-gate-test" }, line);
    expect(points).toEqual([
      {
        indexes: ["sts-gate-test"],
        blobs: ["allow", "", "assumed-role", "miss", "GET", "111122223333", "readers", "arn:aws:iam::111122223333:role/reader", "default"],
        doubles: [30, 12, 7, 200, 201],
      },
    ]);
    expect(METRICS_LAYOUT.blobs).toHaveLength(points[0]!.blobs!.length);
  });

  it("cuts a long blob at 1024 UTF-8 bytes on a character boundary, and the index at 96", () => {
    const { metrics, points } = spiedMetrics();
    writeDecisionPoint({ metrics, audience: "é".repeat(60) }, { ...line, principal: `${"a".repeat(1023)}é` } as DecisionLog);
    const bytes = (s: string) => new TextEncoder().encode(s).length;
    expect(points[0]!.indexes![0]).toBe("é".repeat(48));
    expect(points[0]!.blobs![7]).toBe("a".repeat(1023));
    expect(bytes(points[0]!.blobs![7] as string)).toBeLessThanOrEqual(1024);
  });

  it("writes nothing without a dataset", () => {
    expect(() => writeDecisionPoint({ metrics: undefined, audience: "a" }, line)).not.toThrow();
  });

  it("costs the request nothing when the binding throws or rejects: a warning at most once a minute", async () => {
    // The warning's minute is read from Date: an injected one, well past any earlier warning.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 3600_000 });
    const log = captureLog();
    const faultThrowingMetrics = { writeDataPoint: () => { throw new Error("fault"); } } as unknown as AnalyticsEngineDataset;
    expect(() => writeDecisionPoint({ metrics: faultThrowingMetrics, audience: "a" }, line)).not.toThrow();
    expect(() => writeDecisionPoint({ metrics: faultThrowingMetrics, audience: "a" }, line)).not.toThrow();
    const warnings = log.raw.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "metrics");
    expect(warnings).toHaveLength(1);
    vi.setSystemTime(Date.now() + 60_000);
    writeDecisionPoint({ metrics: faultThrowingMetrics, audience: "a" }, line);
    expect(log.raw.filter((l) => l.includes('"metrics"'))).toHaveLength(2);
    const faultRejectingMetrics = { writeDataPoint: () => Promise.reject(new Error("fault")) } as unknown as AnalyticsEngineDataset;
    expect(() => writeDecisionPoint({ metrics: faultRejectingMetrics, audience: "a" }, line)).not.toThrow();
    await Promise.resolve();
  });
});

describe("metricsDataset", () => {
  it("takes anything with writeDataPoint, and nothing else", () => {
    expect(metricsDataset(env.METRICS)).toBe(env.METRICS);
    for (const other of [undefined, null, "METRICS", {}, { writeDataPoint: "no" }]) expect(metricsDataset(other)).toBeUndefined();
  });
});
