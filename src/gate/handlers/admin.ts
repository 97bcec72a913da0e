import { authorize } from "../../authorize.ts";
import { GateProblem } from "../../problem.ts";
import { handleAdminRequest, refusedRouteResponse, routeGateRequest } from "../../revocation/admin-api.ts";
import type { AppRuntime } from "../runtime.ts";
import type { RequestContext } from "./context.ts";

/**
 * The gate's own prefix, /.well-known/sts-gate/: never forwarded. A path the gate does not know
 * is 404 and a known one with another method 405, token or not. Admins go through the same
 * verifier as every caller (token rules, cache, STS, revocations), with a token for the audience
 * of the app serving the host, and are granted by ADMINS (or POLICY.admins) instead of rules.
 */
export async function gateRoute(ctx: RequestContext, app: AppRuntime): Promise<Response> {
  const route = routeGateRequest(ctx.request.method, ctx.url.pathname);
  if ("refusal" in route) {
    ctx.decision.finish({ status: route.refusal.status, error: route.refusal });
    return refusedRouteResponse(route);
  }
  const { admins } = ctx.runtime.config;
  const snapshot = ctx.runtime.snapshot;
  // Rule `revocationApiOff`: without admins the feature does not exist.
  if (admins === undefined || snapshot === undefined) throw new GateProblem("not_found", "The revocation API is off: no admins are named.");
  ctx.decision.sink = { metrics: ctx.runtime.config.metrics, audience: app.app.audience };
  const caller = await authorize(app.verifier, admins, ctx.authorizeRequest({ grants: "admins" }), ctx.decision);
  return handleAdminRequest(route, ctx.request, caller, snapshot, ctx.decision.requestId);
}
