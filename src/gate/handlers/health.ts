import { Misconfiguration } from "../../observe/misconfigured.ts";
import { PROBLEM_CONTENT_TYPE, PROBLEMS, problemType } from "../../problem.ts";
import { GATE_VERSION } from "../../version.ts";
import type { Runtime } from "../runtime.ts";

/**
 * 200 with facts an operator may check from outside (none of them secret), or 503 naming the
 * invalid settings. `ready` is the outcome of the very check requests pass (the configuration,
 * prepared once per isolate, and development wiring against the host addressed), so health is
 * 503 exactly when requests are refused as misconfigured. Apps are listed by name and validity;
 * their hosts and policies are not shown.
 */
export function healthResponse(ready: Runtime | Misconfiguration): Response {
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
      ...(ready.apps !== undefined && { apps: ready.apps }),
      version: GATE_VERSION,
    };
    return new Response(JSON.stringify(body), { status: 503, headers: { ...headers, "content-type": PROBLEM_CONTENT_TYPE } });
  }
  const { config, signer } = ready;
  return Response.json(
    {
      status: "ok",
      version: GATE_VERSION,
      // A gate without APPS has one audience, which its callers know; apps are listed by name.
      ...(!config.fromApps && { audience: config.apps[0]!.audience }),
      apps: config.apps.map((app) => ({ name: app.name, valid: true })),
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
