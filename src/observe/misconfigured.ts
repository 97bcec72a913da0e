import type { Context } from "hono";
import { log } from "../log.ts";
import { GateProblem } from "../problem.ts";
import { decisionFor } from "./decision.ts";
import { metricsDataset } from "./metrics.ts";

/**
 * An invalid configuration, as found once per isolate. Each issue names its field first
 * (`POLICY.allow[0]: ...`) and never quotes a value, since vars may hold secrets.
 */
export class Misconfiguration {
  /** The settings at fault, by top-level name (`POLICY` for `POLICY.allow[0]`). */
  readonly settings: string[];

  constructor(readonly issues: string[]) {
    this.settings = [...new Set(issues.map(settingOf).filter((name) => name !== ""))];
  }
}

function settingOf(issue: string): string {
  return /^[A-Za-z0-9_]*/.exec(issue)![0];
}

/**
 * Refuses a request as misconfigured. Every refused request says why, not only the first one
 * an isolate sees: each issue is a line, and the decision line lists the settings.
 */
export function refuseMisconfigured(c: Context, failure: Misconfiguration, env: { METRICS?: unknown; AUDIENCE?: unknown }): Response {
  const decision = decisionFor(c);
  for (const issue of failure.issues) {
    log({ event: "config", level: "error", code: "misconfigured", requestId: decision.requestId, setting: settingOf(issue), message: issue });
  }
  const problem = new GateProblem("misconfigured", `The gate's configuration is invalid (${failure.settings.join(", ") || "the environment"}); its logs say why.`);
  // The audience may itself be what is wrong; the data point is still written, under what there is.
  const audience = typeof env.AUDIENCE === "string" ? env.AUDIENCE : "";
  decision.sink = { metrics: metricsDataset(env.METRICS), audience };
  decision.finish({ status: problem.status, error: problem, settings: failure.settings });
  return problem.getResponse();
}
