import type { Context, MiddlewareHandler } from "hono";
import { stsAuth, type StsAuthOptions, type StsAuthVariables } from "../middleware.ts";
import { decisionFor } from "../observe/decision.ts";
import { GateProblem } from "../problem.ts";
import { handleAdminRequest, refusedRouteResponse, routeGateRequest, type GateRouteRefusal } from "./admin-api.ts";
import { isGatePath } from "./paths.ts";
import type { RevocationSnapshot } from "./snapshot.ts";

export interface GateRoutesOptions {
  /** The options stsAuth verifies callers with: the same pipeline as every other request. */
  auth: (c: Context) => StsAuthOptions;
  /** This isolate's revocation snapshot, or undefined when the policy has no admins (the API is off). */
  snapshot: (c: Context) => RevocationSnapshot | undefined;
}

/**
 * The gate's own prefix, /.well-known/sts-gate/: never forwarded. Register it after any route of
 * the gate's that needs no token there (the health endpoint) and before the stsAuth that guards
 * forwarding: a request under the prefix ends here.
 */
export function gateRoutes(options: GateRoutesOptions): MiddlewareHandler<{ Variables: StsAuthVariables }> {
  // Admins go through stsAuth like every caller (token rules, cache, STS, revocations), and
  // are then granted by the policy's admins instead of its rules.
  const auth = stsAuth((c) => ({ ...options.auth(c), grants: "admins" }));
  return async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (!isGatePath(path)) return next();
    const route = routeGateRequest(c.req.method, path);
    if ("refusal" in route) return refuse(c, route);
    // Rule `revocationApiOff`: without admins in the policy the feature does not exist.
    const snapshot = options.snapshot(c);
    if (snapshot === undefined) return refuse(c, { refusal: new GateProblem("not_found", "The revocation API is off: the policy names no admins.") });
    await auth(c, async () => {
      // On the context, so stsAuth's decision line carries the status the admin got (201, 204).
      c.res = await handleAdminRequest(route, c.req.raw, c.var.caller, snapshot);
    });
    return c.res;
  };
}

/** A refusal under the prefix: its own decision line, before any token is read. */
function refuse(c: Context, route: GateRouteRefusal): Response {
  decisionFor(c).finish({ status: route.refusal.status, error: route.refusal });
  return refusedRouteResponse(route);
}
