/**
 * What one gate keeps for an isolate's life: its configuration, parsed once per env, and per
 * configuration the runtime the request path uses: each app's verifier and signer, the shared
 * isolate cache, the revocation snapshot and the development-wiring verdict.
 */
import { AssertionKeyError, AssertionSigner } from "../assertion/signer.ts";
import { parseConfig, type GateConfig, type GateEnv } from "../config.ts";
import { devWiringReasons } from "../edge/dev-wiring.ts";
import { errorName, log } from "../log.ts";
import { Misconfiguration } from "../observe/misconfigured.ts";
import { RevocationSnapshot } from "../revocation/snapshot.ts";
import { RevocationStore } from "../revocation/store.ts";
import { IdentityCache } from "../verify/isolate-cache.ts";
import { createVerifier, type Verifier } from "../verify/verifier.ts";
import type { AppConfig } from "./apps.ts";

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

/** The configuration with its key imported: what the runtime is built from. */
export interface ReadyConfig {
  config: GateConfig;
  /** The gate's key, signing for no app in particular: it publishes the JWKS. */
  signer: AssertionSigner | undefined;
}

/** One app as the request path uses it. */
export interface AppRuntime {
  app: AppConfig;
  /** The one verifier of src/verify/verifier.ts, for this app's audience. */
  verifier: Verifier;
  /** The gate's key with this app's issuer and audience; undefined without a key. */
  signer: AssertionSigner | undefined;
}

export interface Runtime {
  config: GateConfig;
  signer: AssertionSigner | undefined;
  apps: readonly AppRuntime[];
  /** The app runtime of each configured app. */
  of(app: AppConfig): AppRuntime;
  /** Gate-wide: only when admins are named (rule `revocationApiOff`). */
  snapshot: RevocationSnapshot | undefined;
  /**
   * Rule `devWiringLoopbackOnly`: why this configuration is development wiring, which serves
   * loopback hosts only and answers any other host as misconfigured (undefined in production).
   */
  devWiring: Misconfiguration | undefined;
}

export class GateState {
  private readonly runtimes = new WeakMap<GateConfig, Runtime>();

  constructor(readonly options: GateAppOptions = {}) {}

  /** The runtime of a configuration, built on first use and kept as long as the configuration. */
  runtimeFor({ config, signer }: ReadyConfig): Runtime {
    let runtime = this.runtimes.get(config);
    if (runtime === undefined) {
      runtime = this.build(config, signer);
      this.runtimes.set(config, runtime);
    }
    return runtime;
  }

  private build(config: GateConfig, signer: AssertionSigner | undefined): Runtime {
    const { options } = this;
    // One isolate cache and one revocation set for every app: the cache key includes the audience.
    const cache = options.cache ?? new IdentityCache(config.cacheMaxEntries);
    const snapshot = config.admins?.hasAdmins ? new RevocationSnapshot(new RevocationStore(config.identityCache), options.revocationClock) : undefined;
    const apps = config.apps.map((app) => ({
      app,
      verifier: createVerifier({
        audience: app.audience,
        kv: config.identityCache,
        sts: config.sts,
        timeoutMs: config.stsTimeoutMs,
        rateLimiter: config.stsRateLimiter,
        cache,
        revocations: snapshot,
        now: options.now,
        maxAgeMs: app.tokenMaxAgeMs,
      }),
      signer: signer?.forClaims(app.assertionIssuer, app.assertionAudience),
    }));
    const byApp = new Map(apps.map((a) => [a.app, a]));
    const reasons = devWiringReasons(config, options.committedKeys);
    return {
      config,
      signer,
      apps,
      of: (app) => byApp.get(app)!,
      snapshot,
      devWiring:
        reasons.length === 0
          ? undefined
          : new Misconfiguration(reasons.map((r) => `${r}; development wiring serves only localhost, 127.0.0.1 and [::1] (and names under localhost), and this request addressed another host`)),
    };
  }
}

// The env object is stable for an isolate's life, so configuration is parsed, and the
// assertion key imported, once per env.
const configs = new WeakMap<object, Promise<ReadyConfig | Misconfiguration>>();

export function configFor(env: GateEnv | undefined): Promise<ReadyConfig | Misconfiguration> {
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
  if (!parsed.ok) return new Misconfiguration(parsed.issues, appNamesOf(env));
  const { config } = parsed;
  if (env.METRICS !== undefined && config.metrics === undefined) {
    log({ event: "config", level: "warn", message: "METRICS: is set but is not an Analytics Engine dataset binding; no data points are written", setting: "METRICS" });
  }
  if (!config.logAllowed && config.metrics === undefined) {
    log({ event: "config", level: "warn", message: "LOG_ALLOWED: is false and no METRICS dataset is bound, so allowed requests leave no record at all", setting: "LOG_ALLOWED" });
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
    // The issuer and audience here are placeholders: each app signs with its own (forClaims).
    return { config, signer: await AssertionSigner.create({ ...config.assertion, issuer: "urn:sts-gate", audience: "urn:sts-gate" }) };
  } catch (error) {
    // The message names the field and never the key; an unexpected error is reported by name only.
    return new Misconfiguration([error instanceof AssertionKeyError ? error.message : `ASSERTION_PRIVATE_JWK: could not be prepared (${errorName(error)})`]);
  }
}

/** The app names an invalid APPS still shows, for health: which apps are at fault. */
function appNamesOf(env: GateEnv): string[] | undefined {
  let apps: unknown = env.APPS;
  if (typeof apps === "string") {
    try {
      apps = JSON.parse(apps) as unknown;
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(apps)) return undefined;
  return apps.map((a: unknown, i) => {
    const name = (a as { name?: unknown } | null)?.name;
    return typeof name === "string" && /^[A-Za-z0-9._-]{1,64}$/.test(name) ? name : `APPS[${i}]`;
  });
}
