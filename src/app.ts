import { Hono, type Context } from "hono";
import { assertionSignerFor, AssertionKeyError, type AssertionSigner } from "./assertion/signer.ts";
import { IdentityCache } from "./verify/isolate-cache.ts";
import { parseConfig, type GateConfig, type GateEnv } from "./config.ts";
import { devWiringReasons, isLoopbackHost } from "./edge/dev-wiring.ts";
import { cors } from "./cors.ts";
import { forwardToOrigin } from "./forward.ts";
import { healthCheck, HEALTH_PATH } from "./health.ts";
import { log } from "./log.ts";
import { stsAuth, type StsAuthOptions, type StsAuthVariables } from "./middleware.ts";
import { decisionFor } from "./observe/decision.ts";
import { Misconfiguration, refuseMisconfigured } from "./observe/misconfigured.ts";
import { problemResponse, refusalOf } from "./problem.ts";
import { gateRoutes } from "./revocation/hono.ts";
import { RevocationSnapshot } from "./revocation/snapshot.ts";
import { RevocationStore } from "./revocation/store.ts";

export interface GateAppOptions {
  now?: () => number;
  cache?: IdentityCache;
  /**
   * Public keys (`x`, or `x.y` for P-256) to treat as committed, besides those that have been:
   * a gate signing with one serves loopback hosts only. It can only make the gate stricter.
   */
  committedKeys?: ReadonlySet<string>;
  /** The revocation snapshot's clock (refresh and expiry); real time by default. For tests. */
  revocationClock?: () => number;
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
export function createGateApp(appOptions: GateAppOptions = {}) {
  const { revocationClock, ...options } = appOptions;
  const app = new Hono<AppEnv>();
  // The in-isolate caches belong to this app, sized by CACHE_MAX_ENTRIES.
  const caches = new WeakMap<GateConfig, IdentityCache>();
  // Rule `devWiringLoopbackOnly`: why a configuration is development wiring, which serves
  // loopback hosts only and answers any other host as misconfigured (undefined in production).
  const devWirings = new WeakMap<GateConfig, Misconfiguration | undefined>();
  const devWiringOf = (config: GateConfig): Misconfiguration | undefined => {
    if (!devWirings.has(config)) {
      const reasons = devWiringReasons(config, options.committedKeys);
      devWirings.set(
        config,
        reasons.length === 0
          ? undefined
          : new Misconfiguration(reasons.map((r) => `${r}; development wiring serves only localhost, 127.0.0.1 and [::1], and this request addressed another host`)),
      );
    }
    return devWirings.get(config);
  };
  const cacheFor = (config: GateConfig): IdentityCache => {
    let cache = caches.get(config);
    if (cache === undefined) {
      cache = new IdentityCache(config.cacheMaxEntries);
      caches.set(config, cache);
    }
    return cache;
  };
  // One revocation snapshot per isolate (per app), only when the policy names admins.
  const snapshots = new WeakMap<GateConfig, RevocationSnapshot>();
  const snapshotFor = (config: GateConfig): RevocationSnapshot | undefined => {
    if (!config.policy.hasAdmins) return undefined;
    let snapshot = snapshots.get(config);
    if (snapshot === undefined) {
      snapshot = new RevocationSnapshot(new RevocationStore(config.identityCache), revocationClock);
      snapshots.set(config, snapshot);
    }
    return snapshot;
  };
  const authOptions = (c: Context<AppEnv>): StsAuthOptions => {
    const config = c.get("config");
    return {
      audience: config.audience,
      policy: config.policy,
      kv: config.identityCache,
      sts: config.sts,
      timeoutMs: config.stsTimeoutMs,
      rateLimiter: config.stsRateLimiter,
      cache: cacheFor(config),
      revocations: snapshotFor(config),
      metrics: config.metrics,
      now: options.now,
      ...(options.cache ? { cache: options.cache } : {}),
    };
  };

  app.get(HEALTH_PATH, healthCheck(configFor));
  app.use("*", async (c, next) => {
    const ready = await configFor(c.env);
    if (ready instanceof Misconfiguration) return refuseMisconfigured(c, ready, c.env);
    const devWiring = devWiringOf(ready.config);
    if (devWiring !== undefined && !isLoopbackHost(new URL(c.req.url).hostname)) return refuseMisconfigured(c, devWiring, c.env);
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
  // The gate's own /.well-known/sts-gate/ (revocations; 404 otherwise): never forwarded.
  app.use("*", gateRoutes({ auth: authOptions, snapshot: (c) => snapshotFor(c.get("config") as GateConfig) }));
  app.use("*", stsAuth(authOptions));
  app.all("*", (c) => {
    const { caller, config, signer } = c.var;
    const decision = decisionFor(c);
    return decision.forward(() =>
      forwardToOrigin(c.req.raw, caller, {
        originUrl: config.originUrl,
        origin: config.origin,
        timeoutMs: config.originTimeoutMs,
        requestId: decision.requestId,
        // Real time, not options.now: that clock is for replaying recorded tokens; the
        // assertion is checked by the origin against its own clock.
        assert: signer && ((request) => signer.sign(caller, request, Date.now())),
      }),
    );
  });

  app.onError((error, c) => {
    const refusal = refusalOf(error);
    if (refusal) return problemResponse(refusal.code, refusal.detail);
    log({ event: "internal", level: "error", message: "unexpected error", error: error.name, requestId: decisionFor(c).requestId });
    return problemResponse("internal_error");
  });
  return app;
}

// The env object is stable for an isolate's life, so configuration is parsed, and the
// assertion key imported, once per env.
const configs = new WeakMap<object, Promise<ReadyConfig | Misconfiguration>>();

function configFor(env: GateEnv | undefined): Promise<ReadyConfig | Misconfiguration> {
  const key = env ?? {};
  let ready = configs.get(key);
  if (ready === undefined) {
    ready = prepare(key);
    configs.set(key, ready);
  }
  return ready;
}

async function prepare(env: GateEnv): Promise<ReadyConfig | Misconfiguration> {
  const parsed = parseConfig(env);
  if (!parsed.ok) return new Misconfiguration(parsed.issues);
  const { config } = parsed;
  if (env.METRICS !== undefined && config.metrics === undefined) {
    log({ event: "config", level: "warn", message: "METRICS: is set but is not an Analytics Engine dataset binding; no data points are written", setting: "METRICS" });
  }
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
    return new Misconfiguration([error instanceof AssertionKeyError ? error.message : `ASSERTION_PRIVATE_JWK: could not be prepared (${errorName(error)})`]);
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
