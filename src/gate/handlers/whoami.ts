import type { VerifyContext } from "../../verify/verifier.ts";
import type { Resolved } from "../../verify/isolate-cache.ts";
import type { CallerIdentity } from "../../identity.ts";
import type { Decision } from "../../observe/decision.ts";
import { GateProblem } from "../../problem.ts";
import type { AppRuntime } from "../runtime.ts";
import type { RequestContext } from "./context.ts";

/** What whoami answers: the identity the gate sees, and nothing of the policy. */
export interface WhoamiBody {
  arn: string;
  principal: string;
  account: string;
  userId: string;
  type: string;
}

/**
 * `GET /.well-known/sts-gate/whoami`: who the gate thinks the caller is, whether or not the
 * policy would let them in. Everything before the policy applies as to any request: the token
 * rules, the rate limit, the caches, STS and revocations. Nothing is forwarded.
 */
export async function whoami(ctx: RequestContext, app: AppRuntime): Promise<Response> {
  const { method } = ctx.request;
  if (method !== "GET" && method !== "HEAD") {
    const problem = new GateProblem("method_not_allowed", "Allowed here: GET, HEAD.");
    const res = problem.getResponse();
    res.headers.set("allow", "GET, HEAD");
    ctx.decision.finish({ status: problem.status, error: problem });
    return res;
  }
  const { authorization, clientKey, waitUntil } = ctx.authorizeRequest();
  const resolved = await verifyOnly(app, authorization, { clientKey, waitUntil }, ctx.decision);
  ctx.decision.served("whoami");
  return new Response(JSON.stringify(identityBody(resolved.identity)), { headers: { "content-type": "application/json", "cache-control": "no-store" } });
}

/** The verifier alone, its progress recorded in the decision as authorize() does. */
export async function verifyOnly(app: AppRuntime, authorization: string | null | undefined, context: VerifyContext, decision: Decision): Promise<Resolved> {
  const trace: NonNullable<VerifyContext["trace"]> = {};
  try {
    return await app.verifier.verify(authorization, { ...context, trace });
  } finally {
    if (trace.resolved) decision.identified(trace.resolved);
    else if (trace.accessKeyId !== undefined) decision.keyed(trace.accessKeyId);
  }
}

export function identityBody(identity: CallerIdentity): WhoamiBody {
  return { arn: identity.arn, principal: identity.principal, account: identity.account, userId: identity.userId, type: identity.type };
}
