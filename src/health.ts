import type { AssertionSigner } from "./assertion/signer.ts";
import type { GateConfig } from "./config.ts";
import { Misconfiguration } from "./observe/misconfigured.ts";
import { PROBLEM_CONTENT_TYPE, PROBLEMS, problemType } from "./problem.ts";
import { GATE_VERSION } from "./version.ts";

/** For uptime checks: no token, never reaches STS or the origin. */
export const HEALTH_PATH = "/.well-known/sts-gate/health";

interface Ready {
  config: GateConfig;
  signer: AssertionSigner | undefined;
}

/**
 * 200 with facts an operator may check from outside (none of them secret), or 503 naming the
 * invalid settings. `ready` is the outcome of the very check requests pass (the configuration, prepared once
 * per isolate, and development wiring against the host addressed), so health is 503 exactly when
 * requests are refused as misconfigured.
 */
export function healthResponse(ready: Ready | Misconfiguration): Response {
  const headers = { "cache-control": "no-store" };
  if (ready instanceof Misconfiguration) {
    const { title } = PROBLEMS.misconfigured;
    const body = {
      type: problemType("misconfigured"),
      title,
      status: 503,
      detail: `Invalid settings: ${ready.settings.join(", ") || "the environment"}. The gate's logs say what is wrong with each.`,
      code: "misconfigured",
      settings: ready.settings,
      version: GATE_VERSION,
    };
    return new Response(JSON.stringify(body), { status: 503, headers: { ...headers, "content-type": PROBLEM_CONTENT_TYPE } });
  }
  const { config, signer } = ready;
  return Response.json(
    {
      status: "ok",
      version: GATE_VERSION,
      audience: config.audience,
      assertionKeyId: signer?.kid ?? null,
      bindings: {
        METRICS: config.metrics !== undefined,
        STS_RATE_LIMITER: config.stsRateLimiter !== undefined,
        STS: config.sts !== undefined,
        ORIGIN: config.origin !== undefined,
      },
    },
    { headers },
  );
}
