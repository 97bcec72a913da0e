import type { GateEnv } from "../config.ts";
import type { Decision } from "../observe/decision.ts";
import { metricsDataset } from "../observe/metrics.ts";
import { Misconfiguration } from "../observe/misconfigured.ts";
import type { AppConfig } from "./apps.ts";
import type { Runtime } from "./runtime.ts";

/**
 * The app a decision is about (null when none serves the request), and where its data point
 * goes: every request the gate decides on has a line naming its app, and a data point.
 */
export function assignApp(decision: Decision, ready: Runtime | Misconfiguration, app: AppConfig | undefined, env: GateEnv | undefined): void {
  decision.app = app?.name ?? null;
  if (ready instanceof Misconfiguration) {
    // The audience may itself be what is wrong; the data point is still written, under what there is.
    decision.sink = { metrics: metricsDataset(env?.METRICS), audience: typeof env?.AUDIENCE === "string" ? env.AUDIENCE : "" };
  } else {
    decision.sink = { metrics: ready.config.metrics, audience: app?.audience ?? "" };
  }
}
