/**
 * What one gate keeps for an isolate's life: its configuration, parsed once per env, and per
 * configuration its isolate cache, verifier, revocation snapshot and development-wiring verdict.
 * Shared by the gate's plain request path (src/gate-fetch.ts) and its Hono app (src/app.ts), so a
 * token verified on one is remembered on the other.
 */
import { assertionSignerFor, AssertionKeyError, type AssertionSigner } from "./assertion/signer.ts";
import { parseConfig, type GateConfig, type GateEnv } from "./config.ts";
import { devWiringReasons } from "./edge/dev-wiring.ts";
import { errorName, log } from "./log.ts";
import { Misconfiguration } from "./observe/misconfigured.ts";
import { RevocationSnapshot } from "./revocation/snapshot.ts";
import { RevocationStore } from "./revocation/store.ts";
import { IdentityCache } from "./verify/isolate-cache.ts";
import { createVerifier, type Verifier, type VerifierOptions } from "./verify/verifier.ts";

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

/** The configuration with its keys imported: what the request path needs. */
export interface ReadyConfig {
  config: GateConfig;
  signer: AssertionSigner | undefined;
}

/** Memoised per configuration: each is made on first use and lives as long as the config. */
function perConfig<T>(make: (config: GateConfig) => T): (config: GateConfig) => T {
  const made = new WeakMap<GateConfig, { value: T }>();
  return (config) => {
    let entry = made.get(config);
    if (entry === undefined) {
      entry = { value: make(config) };
      made.set(config, entry);
    }
    return entry.value;
  };
}

export class GateState {
  /** The isolate's memory of verified and refused tokens, sized by CACHE_MAX_ENTRIES. */
  readonly cacheFor: (config: GateConfig) => IdentityCache;
  /**
   * Rule `devWiringLoopbackOnly`: why a configuration is development wiring, which serves
   * loopback hosts only and answers any other host as misconfigured (undefined in production).
   */
  readonly devWiringOf: (config: GateConfig) => Misconfiguration | undefined;
  /** One revocation snapshot per isolate, only when the policy names admins. */
  readonly snapshotFor: (config: GateConfig) => RevocationSnapshot | undefined;
  /** The one verifier of src/verify/verifier.ts, built once per configuration. */
  readonly verifierFor: (config: GateConfig) => Verifier;

  constructor(readonly options: GateAppOptions = {}) {
    this.cacheFor = perConfig((config) => options.cache ?? new IdentityCache(config.cacheMaxEntries));
    this.devWiringOf = perConfig((config) => {
      const reasons = devWiringReasons(config, options.committedKeys);
      if (reasons.length === 0) return undefined;
      return new Misconfiguration(reasons.map((r) => `${r}; development wiring serves only localhost, 127.0.0.1 and [::1], and this request addressed another host`));
    });
    this.snapshotFor = perConfig((config) =>
      config.policy.hasAdmins ? new RevocationSnapshot(new RevocationStore(config.identityCache), options.revocationClock) : undefined,
    );
    this.verifierFor = perConfig((config) => createVerifier(this.verifierOptions(config)));
  }

  /** What the verifier (and stsAuth, which builds on it) is given for a configuration. */
  verifierOptions(config: GateConfig): VerifierOptions {
    return {
      audience: config.audience,
      kv: config.identityCache,
      sts: config.sts,
      timeoutMs: config.stsTimeoutMs,
      rateLimiter: config.stsRateLimiter,
      cache: this.cacheFor(config),
      revocations: this.snapshotFor(config),
      now: this.options.now,
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
