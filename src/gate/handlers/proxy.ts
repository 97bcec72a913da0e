import type { AssertedRequest } from "../../assertion/signer.ts";
import { authorize, type Caller } from "../../authorize.ts";
import type { GateConfig } from "../../config.ts";
import { forwardToOrigin } from "../../forward.ts";
import type { Decision } from "../../observe/decision.ts";
import type { AppRuntime } from "../runtime.ts";
import type { RequestContext } from "./context.ts";

/** A guarded request: verify, decide with the app's policy, forward with the identity. */
export async function proxy(ctx: RequestContext, app: AppRuntime): Promise<Response> {
  const caller = await authorize(app.verifier, app.app.policy, ctx.authorizeRequest(), ctx.decision);
  return forwardCaller(ctx, app, caller);
}

/** Rule `publicPathsStrict`: a public path is forwarded for any method without verification. */
export function forwardPublic(ctx: RequestContext, app: AppRuntime): Promise<Response> {
  ctx.decision.public();
  return send(ctx, app, undefined);
}

/** The verified request to the origin, timed by its decision, with the assertion when there is a key. */
export function forwardCaller(ctx: RequestContext, app: AppRuntime, caller: Caller): Promise<Response> {
  return send(ctx, app, caller);
}

function send(ctx: RequestContext, { app, signer }: AppRuntime, caller: Caller | undefined): Promise<Response> {
  const config: GateConfig = ctx.runtime.config;
  const options = {
    originUrl: app.originUrl,
    origin: config.origin,
    timeoutMs: app.originTimeoutMs,
    requestId: ctx.decision.requestId,
    // Real time, not the options' clock: that one is for replaying recorded tokens; the
    // assertion is checked by the origin against its own clock.
    assert: caller && signer && ((target: AssertedRequest) => signer.sign(caller, target, Date.now())),
  };
  const decision: Decision = ctx.decision;
  return decision.forward(() => forwardToOrigin(ctx.request, caller, options, ctx.url));
}
