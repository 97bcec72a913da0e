import type { AssertedRequest } from "../../assertion/signer.ts";
import { authorize, type Caller } from "../../authorize.ts";
import { forwardToOrigin } from "../../forward.ts";
import type { AppRuntime } from "../runtime.ts";
import type { RequestContext } from "./context.ts";

/** A guarded request: verify, decide with the app's policy, forward with the identity. */
export async function proxy(ctx: RequestContext, app: AppRuntime): Promise<Response> {
  const caller = await authorize(app.verifier, app.app.policy, ctx.authorizeRequest(), ctx.decision);
  return forward(ctx, app, caller);
}

/** Rule `publicPathsStrict`: a public path is forwarded for any method without verification. */
export function forwardPublic(ctx: RequestContext, app: AppRuntime): Promise<Response> {
  ctx.decision.public();
  return forward(ctx, app, undefined);
}

/** The request to the app's origin, timed by its decision; with the caller's identity and assertion, if any. */
function forward(ctx: RequestContext, { app, signer }: AppRuntime, caller: Caller | undefined): Promise<Response> {
  const options = {
    originUrl: app.originUrl,
    origin: ctx.runtime.config.origin,
    timeoutMs: app.originTimeoutMs,
    requestId: ctx.decision.requestId,
    // Real time, not the options' clock: that one is for replaying recorded tokens; the
    // assertion is checked by the origin against its own clock.
    assert: caller && signer && ((target: AssertedRequest) => signer.sign(caller, target, Date.now())),
  };
  return ctx.decision.forward(() => forwardToOrigin(ctx.request, caller, options, ctx.url));
}
