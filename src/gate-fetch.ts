/**
 * The gate's request path without a framework: the one verifier, the policy, the decision
 * line and the forward, for every request the Hono app (src/app.ts) need not see. That is
 * nearly all of them, so Hono's dispatch and its response re-wrapping stay off the hot path
 * (BENCHMARKS.md, "Where the time goes").
 *
 * Requests it leaves to the app, which has the routes for them: the gate's own paths and
 * anything that might spell one (`/.well-known/…` in any case, any `%` escape, any `//`), preflights and
 * every OPTIONS, a configuration that is invalid, and development wiring addressed by another
 * host. Both paths share one GateState, so a token verified on one is remembered on the other.
 */
import type { AssertedRequest } from "./assertion/signer.ts";
import { authorize, type Caller } from "./authorize.ts";
import { admittedOrigin, withCorsHeaders } from "./cors.ts";
import { isLoopbackHost } from "./edge/dev-wiring.ts";
import { forwardToOrigin } from "./forward.ts";
import type { GateState, ReadyConfig } from "./gate-state.ts";
import { Decision, REQUEST_ID_HEADER, requestIdFrom } from "./observe/decision.ts";
import { errorResponse } from "./problem.ts";
import { rateLimitKey } from "./verify/rate-limit-key.ts";

const WELL_KNOWN = /\/\.well-known/i;

/** Whether the request needs the app's routes rather than the plain path. */
export function needsGateRoutes(method: string, url: URL, ready: ReadyConfig, state: GateState): boolean {
  if (method === "OPTIONS") return true;
  const { pathname } = url;
  // Every spelling the app's routers or isGatePath could read as one of the gate's paths: an
  // escape, a `;` parameter, repeated slashes, or `/.well-known` anywhere (a segment of dots
  // before it folds away, and one with trailing dots after it still reads as the prefix).
  if (pathname.includes("%") || pathname.includes(";") || pathname.includes("//") || WELL_KNOWN.test(pathname)) return true;
  return state.devWiringOf(ready.config) !== undefined && !isLoopbackHost(url.hostname);
}

/** Verify, decide, forward: one decision line, the request id and CORS on every answer. */
export async function serveGateRequest(
  request: Request,
  url: URL,
  ready: ReadyConfig,
  state: GateState,
  ctx: ExecutionContext | undefined,
): Promise<Response> {
  const { config } = ready;
  const decision = new Decision(requestIdFrom(request.headers), request.method, url.pathname);
  decision.sink = { metrics: config.metrics, audience: config.audience };
  let response: Response;
  let failure: unknown;
  try {
    const caller = await authorize(
      state.verifierFor(config),
      config.policy,
      {
        authorization: request.headers.get("authorization"),
        method: request.method,
        path: url.pathname,
        clientKey: config.stsRateLimiter ? rateLimitKey(request.headers.get("cf-connecting-ip") ?? undefined) : undefined,
        waitUntil: ctx ? (promise) => ctx.waitUntil(promise) : undefined,
      },
      decision,
    );
    response = await forwardCaller(request, caller, ready, decision, url);
  } catch (error) {
    failure = error;
    response = errorResponse(error, decision.requestId);
  }
  const answer = withCorsHeaders(response, admittedOrigin(request.headers, config.corsAllowedOrigins));
  decision.finish({ status: answer.status, error: failure });
  // A fetched response's headers are immutable: it is re-wrapped once, for the request id (and,
  // for HEAD, without a body). A response the gate made is changed in place.
  const made = failure !== undefined || answer !== response;
  const out = made && request.method !== "HEAD" ? answer : new Response(request.method === "HEAD" ? null : answer.body, answer);
  out.headers.set(REQUEST_ID_HEADER, decision.requestId);
  return out;
}

/** The verified request to the origin, timed by its decision, with the assertion when there is a key. */
export function forwardCaller(request: Request, caller: Caller, { config, signer }: ReadyConfig, decision: Decision, url?: URL): Promise<Response> {
  const options = {
    originUrl: config.originUrl,
    origin: config.origin,
    timeoutMs: config.originTimeoutMs,
    requestId: decision.requestId,
    // Real time, not the options' clock: that one is for replaying recorded tokens; the
    // assertion is checked by the origin against its own clock.
    assert: signer && ((target: AssertedRequest) => signer.sign(caller, target, Date.now())),
  };
  return decision.forward(() => forwardToOrigin(request, caller, options, url));
}
