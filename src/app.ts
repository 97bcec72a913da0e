import { Hono } from "hono";
import { assertionSignerFor, AssertionKeyError, type AssertionSigner } from "./assertion/signer.ts";
import { IdentityCache } from "./cache.ts";
import { parseConfig, type GateConfig, type GateEnv } from "./config.ts";
import { cors } from "./cors.ts";
import { forwardToOrigin } from "./forward.ts";
import { log } from "./log.ts";
import { stsAuth, type StsAuthVariables } from "./middleware.ts";
import { GateProblem, problemResponse } from "./problem.ts";

export interface GateAppOptions {
  now?: () => number;
  cache?: IdentityCache;
}

/** Where the gate publishes its assertion keys; answered before authentication. */
export const JWKS_PATH = "/.well-known/jwks.json";

/** The configuration with its keys imported: what the request path needs. */
interface ReadyConfig {
  config: GateConfig;
  signer: AssertionSigner | undefined;
}

type AppEnv = { Bindings: GateEnv; Variables: StsAuthVariables & { config: GateConfig; signer: AssertionSigner | undefined } };

/** The gate: the stsAuth middleware configured from the Worker's env, then forwarding. */
export function createGateApp(options: GateAppOptions = {}) {
  const app = new Hono<AppEnv>();
  // The in-isolate caches belong to this app, sized by CACHE_MAX_ENTRIES.
  const caches = new WeakMap<GateConfig, IdentityCache>();
  const cacheFor = (config: GateConfig): IdentityCache => {
    let cache = caches.get(config);
    if (cache === undefined) {
      cache = new IdentityCache(config.cacheMaxEntries);
      caches.set(config, cache);
    }
    return cache;
  };

  app.use("*", async (c, next) => {
    const ready = await configFor(c.env);
    if (ready instanceof GateProblem) return ready.getResponse();
    c.set("config", ready.config);
    c.set("signer", ready.signer);
    await next();
  });
  // Before authentication: a browser's preflight carries no token.
  app.use("*", cors((c) => (c.get("config") as GateConfig).corsAllowedOrigins));
  // Public keys are public: no token needed, and origins' verifiers may cache them.
  app.get(JWKS_PATH, (c) => {
    const body = c.var.signer?.jwksBody ?? `{"keys":[]}`;
    return new Response(body, { headers: { "content-type": "application/json", "cache-control": "public, max-age=300" } });
  });
  app.use(
    "*",
    stsAuth((c) => {
      const config = c.get("config") as GateConfig;
      return {
        audience: config.audience,
        policy: config.policy,
        kv: config.identityCache,
        sts: config.sts,
        timeoutMs: config.stsTimeoutMs,
        rateLimiter: config.stsRateLimiter,
        cache: cacheFor(config),
        ...options,
      };
    }),
  );
  app.all("*", (c) => {
    const { caller, config, signer } = c.var;
    return forwardToOrigin(c.req.raw, caller, {
      originUrl: config.originUrl,
      origin: config.origin,
      timeoutMs: config.originTimeoutMs,
      // Real time, not options.now: that clock is for replaying recorded tokens; the
      // assertion is checked by the origin against its own clock.
      assert: signer && ((request) => signer.sign(caller, request, Date.now())),
    });
  });

  app.onError((error) => {
    if (error instanceof GateProblem) return error.getResponse();
    log({ event: "internal", level: "error", message: "unexpected error", error: error.name });
    return problemResponse("internal_error");
  });
  return app;
}

// The env object is stable for an isolate's life, so configuration is parsed, and the
// assertion key imported, once per env.
const configs = new WeakMap<object, Promise<ReadyConfig | GateProblem>>();

function configFor(env: GateEnv | undefined): Promise<ReadyConfig | GateProblem> {
  const key = env ?? {};
  let ready = configs.get(key);
  if (ready === undefined) {
    ready = prepare(key);
    configs.set(key, ready);
  }
  return ready;
}

async function prepare(env: GateEnv): Promise<ReadyConfig | GateProblem> {
  const parsed = parseConfig(env);
  if (!parsed.ok) return misconfigured(parsed.issues);
  const { config } = parsed;
  if (config.assertion === undefined) {
    log({
      event: "config",
      level: "warn",
      message:
        "ASSERTION_PRIVATE_JWK is not set: requests are forwarded without X-Caller-Assertion, so the origin can trust the X-Caller-* headers only as far as it trusts the network path from the gate",
      setting: "ASSERTION_PRIVATE_JWK",
    });
    return { config, signer: undefined };
  }
  try {
    return { config, signer: await assertionSignerFor(config.assertion) };
  } catch (error) {
    // The message names the field and never the key; an unexpected error is reported by name only.
    return misconfigured([error instanceof AssertionKeyError ? error.message : `ASSERTION_PRIVATE_JWK: could not be prepared (${errorName(error)})`]);
  }
}

function misconfigured(issues: string[]): GateProblem {
  // Each issue names the field; values are never printed, since vars may hold secrets.
  for (const issue of issues) log({ event: "config", level: "error", message: issue, code: "misconfigured" });
  return new GateProblem("misconfigured", "The gate's configuration is invalid; its logs name the field.");
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
