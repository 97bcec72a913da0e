import { Hono, type Context } from "hono";
import type { AssertionSigner } from "./assertion/signer.ts";
import type { GateConfig, GateEnv } from "./config.ts";
import { isLoopbackHost } from "./edge/dev-wiring.ts";
import { cors } from "./cors.ts";
import { healthResponse, HEALTH_PATH } from "./health.ts";
import { stsAuth, type StsAuthOptions, type StsAuthVariables } from "./middleware.ts";
import { decisionFor } from "./observe/decision.ts";
import { Misconfiguration, refuseMisconfigured } from "./observe/misconfigured.ts";
import { errorResponse } from "./problem.ts";
import { gateRoutes } from "./revocation/hono.ts";
import { forwardCaller, needsGateRoutes, serveGateRequest } from "./gate-fetch.ts";
import { configFor, GateState, type GateAppOptions } from "./gate-state.ts";

export type { GateAppOptions };

/** Where the gate publishes its assertion keys; answered before authentication. */
export const JWKS_PATH = "/.well-known/jwks.json";

type AppEnv = { Bindings: GateEnv; Variables: StsAuthVariables & { config: GateConfig; signer: AssertionSigner | undefined } };

/** The Worker: its `fetch` takes each request on the plain path, or hands it to the Hono app. */
export interface GateWorker {
  /** `env` is checked whole by the configuration schema (src/config.ts), so any object is taken. */
  fetch(request: Request, env?: object, ctx?: ExecutionContext): Promise<Response>;
}

/**
 * The gate. A request takes the plain path of src/gate-fetch.ts (the verifier, the policy, the
 * forward) unless it needs one of the routes of the Hono app below, which implements the whole
 * gate: the health check, the JWKS, the gate's own prefix, preflights, refusals of a
 * misconfigured gate. Both share one GateState.
 */
export function createGateApp(options: GateAppOptions = {}): GateWorker {
  const state = new GateState(options);
  const app = createHonoGate(state);
  return {
    async fetch(request, env, ctx) {
      const ready = await configFor(env as GateEnv | undefined);
      const url = new URL(request.url);
      if (ready instanceof Misconfiguration || needsGateRoutes(request.method, url, ready, state)) return app.fetch(request, env, ctx);
      return serveGateRequest(request, url, ready, state, ctx);
    },
  };
}

/**
 * The gate with every request on the Hono app's path, the one createGateApp takes only for the
 * requests the plain path hands it. The two paths must give the same answer to every request;
 * this lets a test hold them to it (test/integration/two-paths.test.ts).
 */
export function createRoutedGateApp(options: GateAppOptions = {}): GateWorker {
  const app = createHonoGate(new GateState(options));
  return { fetch: async (request, env, ctx) => app.fetch(request, env, ctx) };
}

/** The whole gate as a Hono app: the stsAuth middleware configured from the Worker's env, then forwarding. */
function createHonoGate(state: GateState) {
  const app = new Hono<AppEnv>();
  const authOptions = (c: Context<AppEnv>): StsAuthOptions => {
    const config = c.get("config");
    return { ...state.verifierOptions(config), policy: config.policy, metrics: config.metrics };
  };

  /**
   * Whether this request would be served or refused as misconfigured: an invalid configuration,
   * or development wiring addressed by another host. Health asks the same question, so it answers
   * 503 in exactly the cases where requests are refused.
   */
  const readiness = async (c: Context<AppEnv>) => {
    const ready = await configFor(c.env);
    if (ready instanceof Misconfiguration) return ready;
    const devWiring = state.devWiringOf(ready.config);
    return devWiring !== undefined && !isLoopbackHost(new URL(c.req.url).hostname) ? devWiring : ready;
  };

  // Every answer, the gate's own routes included, carries X-Request-Id and writes one decision
  // line with the status the client got; a handler that wrote its own line makes this a no-op.
  app.use("*", async (c, next) => {
    const decision = decisionFor(c);
    await next();
    decision.answered(c);
  });
  app.get(HEALTH_PATH, async (c) => {
    decisionFor(c).served("health");
    return healthResponse(await readiness(c));
  });
  app.use("*", async (c, next) => {
    const ready = await readiness(c);
    if (ready instanceof Misconfiguration) return refuseMisconfigured(c, ready, c.env);
    c.set("config", ready.config);
    c.set("signer", ready.signer);
    await next();
  });
  // Before authentication: a browser's preflight carries no token.
  app.use("*", cors((c) => (c.get("config") as GateConfig).corsAllowedOrigins));
  // Public keys are public: no token needed, and origins' verifiers may cache them.
  app.get(JWKS_PATH, (c) => {
    decisionFor(c).served("jwks");
    const body = c.var.signer?.jwksBody ?? `{"keys":[]}`;
    return new Response(body, { headers: { "content-type": "application/json", "cache-control": "public, max-age=300" } });
  });
  // The gate's own /.well-known/sts-gate/ (revocations; 404 otherwise): never forwarded.
  app.use("*", gateRoutes({ auth: authOptions, snapshot: (c) => state.snapshotFor(c.get("config") as GateConfig) }));
  app.use("*", stsAuth(authOptions));
  app.all("*", (c) => {
    const { caller, config, signer } = c.var;
    return forwardCaller(c.req.raw, caller, { config, signer }, decisionFor(c));
  });

  app.onError((error, c) => errorResponse(error, decisionFor(c).requestId));
  return app;
}
