/**
 * The gate's one request path. Every request is classified once (routes.ts), handled by the
 * handler of its class, and finished by one step: the error as problem+json, CORS, the request
 * id, HEAD, and exactly one decision line with the status the client got.
 */
import type { GateEnv } from "../config.ts";
import { admittedOrigin, preflightResponse, withCorsHeaders } from "../cors.ts";
import { GateProblem } from "../problem.ts";
import { errorResponse } from "../problem.ts";
import { Decision, REQUEST_ID_HEADER, requestIdFrom } from "../observe/decision.ts";
import { logMisconfiguration, Misconfiguration } from "../observe/misconfigured.ts";
import { gateRoute } from "./handlers/admin.ts";
import { RequestContext } from "./handlers/context.ts";
import { healthResponse } from "./handlers/health.ts";
import { forwardAuth } from "./handlers/forward-auth.ts";
import { forwardPublic, proxy } from "./handlers/proxy.ts";
import { rpcVerify, type RpcVerdict } from "./handlers/rpc.ts";
import { whoami } from "./handlers/whoami.ts";
import { assignApp } from "./decision-app.ts";
import { APP_AMBIGUOUS_DETAIL, classify, NO_APP_DETAIL, type Route } from "./routes.ts";
import { configFor, GateState, type GateAppOptions, type Runtime } from "./runtime.ts";

export type { GateAppOptions, RpcVerdict };

/** The Worker: `export default createGateApp()`. */
export interface GateWorker {
  /** `env` is checked whole by the configuration schema (src/config.ts), so any object is taken. */
  fetch(request: Request, env?: object, ctx?: ExecutionContext): Promise<Response>;
  /** The decision alone, for another Worker (the `StsGate` entrypoint's `verify`): never throws. */
  verify(request: Request, env?: object, ctx?: ExecutionContext): Promise<RpcVerdict>;
}

export function createGateApp(options: GateAppOptions = {}): GateWorker {
  const state = new GateState(options);
  return {
    async fetch(request, env, ctx) {
      const prepared = await configFor(env as GateEnv | undefined);
      const ready = prepared instanceof Misconfiguration ? prepared : state.runtimeFor(prepared);
      return serve(request, env as GateEnv | undefined, ctx, ready);
    },
    async verify(request, env, ctx) {
      const prepared = await configFor(env as GateEnv | undefined);
      const ready = prepared instanceof Misconfiguration ? prepared : state.runtimeFor(prepared);
      return rpcVerify(request, ready, ctx, env as GateEnv | undefined);
    },
  };
}

async function serve(request: Request, env: GateEnv | undefined, execution: ExecutionContext | undefined, ready: Runtime | Misconfiguration): Promise<Response> {
  const url = new URL(request.url);
  const decision = new Decision(requestIdFrom(request.headers), request.method, url.pathname);
  // Rule `allowLinesSwitch` (LOG_ALLOWED): a misconfigured gate has no setting, and its lines are errors anyway.
  if (!(ready instanceof Misconfiguration)) decision.logAllowed = ready.config.logAllowed;
  let route: Route | undefined;
  let response: Response;
  let failure: unknown;
  try {
    route = classify(request, url, ready);
    response = await handle(route, request, url, ready, decision, env, execution);
  } catch (error) {
    failure = error;
    response = errorResponse(error, decision.requestId);
  }
  // Health is the gate's, not an app's: it names the host's app in its line, but takes no app's CORS.
  const app = route !== undefined && route.kind !== "health" && "app" in route ? route.app : undefined;
  // A preflight's answer is all CORS already; every other answer gets the gate's CORS headers only.
  const answer = route?.kind === "preflight" && failure === undefined ? response : withCorsHeaders(response, app && admittedOrigin(request.headers, app.corsAllowedOrigins));
  decision.finish({ status: answer.status, error: failure });
  // A fetched response's headers are immutable: it is re-wrapped once, for the request id (and,
  // for HEAD, without a body). A response the gate made is changed in place.
  const forwarded = failure === undefined && (route?.kind === "proxy" || route?.kind === "public") && answer === response;
  const out = request.method === "HEAD" ? new Response(null, answer) : forwarded ? new Response(answer.body, answer) : answer;
  out.headers.set(REQUEST_ID_HEADER, decision.requestId);
  return out;
}

async function handle(
  route: Route,
  request: Request,
  url: URL,
  ready: Runtime | Misconfiguration,
  decision: Decision,
  env: GateEnv | undefined,
  execution: ExecutionContext | undefined,
): Promise<Response> {
  switch (route.kind) {
    case "health":
      decision.served("health");
      assignApp(decision, route.ready, route.app, env);
      return healthResponse(route.ready);
    case "misconfigured": {
      logMisconfiguration(route.failure, decision.requestId);
      assignApp(decision, route.failure, undefined, env);
      const problem = new GateProblem("misconfigured", `The gate's configuration is invalid (${route.failure.settings.join(", ") || "the environment"}); its logs say why.`);
      decision.finish({ status: problem.status, error: problem, settings: route.failure.settings });
      return problem.getResponse();
    }
    case "noApp":
      assignApp(decision, ready, undefined, env);
      // Rule `appByHost`: no token is read, KV is not touched, STS is not called.
      throw new GateProblem("no_app", NO_APP_DETAIL);
    case "appAmbiguous":
      assignApp(decision, ready, route.app, env);
      throw new GateProblem("app_ambiguous", APP_AMBIGUOUS_DETAIL);
    default:
      break;
  }
  const runtime = ready as Runtime;
  const app = runtime.of(route.app);
  assignApp(decision, runtime, route.app, env);
  const ctx = new RequestContext(request, url, runtime, decision, execution);
  switch (route.kind) {
    case "jwks":
      decision.served("jwks");
      // Public keys are public: no token needed, and origins' verifiers may cache them.
      return new Response(runtime.signer?.jwksBody ?? `{"keys":[]}`, { headers: { "content-type": "application/json", "cache-control": "public, max-age=300" } });
    case "preflight":
      decision.served("preflight");
      return preflightResponse(route.origin, request.headers.get("access-control-request-headers"));
    case "gate":
      return gateRoute(ctx, app);
    case "whoami":
      return whoami(ctx, app);
    case "forwardAuth":
      return forwardAuth(ctx, app);
    case "public":
      return forwardPublic(ctx, app);
    case "proxy":
      return proxy(ctx, app);
  }
}
