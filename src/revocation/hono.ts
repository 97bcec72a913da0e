import type { Context, MiddlewareHandler } from "hono";
import { stsAuth, type StsAuthOptions, type StsAuthVariables } from "../middleware.ts";
import { problemResponse } from "../problem.ts";
import { handleAdminRequest, routeGateRequest } from "./admin-api.ts";
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
    if (route instanceof Response) return route;
    // Rule `revocationApiOff`: without admins in the policy the feature does not exist.
    const snapshot = options.snapshot(c);
    if (snapshot === undefined) return problemResponse("not_found", "The revocation API is off: the policy names no admins.");
    let response: Response | undefined;
    await auth(c, async () => {
      response = await handleAdminRequest(route, c.req.raw, c.var.caller, snapshot);
    });
    return response ?? problemResponse("internal_error");
  };
}
