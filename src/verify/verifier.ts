import { identityFromSts } from "../identity.ts";
import { GateError } from "../errors.ts";
import type { RevocationFacts } from "../revocation/match.ts";
import { DEFAULT_STS_TIMEOUT_MS, exchangeWithSts, type StsFetch } from "../sts/exchange.ts";
import { bearerToken } from "../token/bearer.ts";
import { checkAge, TOKEN_LIFETIME_MS, validateToken, type ValidatedToken } from "../token/validate.ts";
import { cacheKey } from "./cache-key.ts";
import { IdentityCache, type Resolved } from "./isolate-cache.ts";
import { readIdentity, storeIdentity } from "./kv-store.ts";
import { admitUpstream } from "./rate-limit.ts";

export interface VerifierOptions {
  /** This service's audience: the `x-k8s-aws-id` value tokens must be signed for. */
  audience: string;
  /** Shares verified identities across isolates; omit for memory only. */
  kv?: KVNamespace;
  /** How to reach STS; defaults to the network. Tests and `wrangler dev` pass the emulator. */
  sts?: Fetcher | ((request: Request) => Promise<Response>);
  /** Deadline for the STS exchange; default 5000 ms. */
  timeoutMs?: number;
  /** Epoch milliseconds; injectable so recorded tokens can be replayed in tests. */
  now?: () => number;
  /** The isolate's memory; by default one per verifier. */
  cache?: IdentityCache;
  /**
   * Limits KV- and STS-bound verifications per client (a Workers rate-limiting binding). Only a
   * token not in this isolate's memory is counted, before its KV read: isolate-cache hits and
   * local rejections are free.
   */
  rateLimiter?: RateLimit;
  /**
   * Revocations, checked for every token (src/revocation/): the token's access key before any
   * KV read or STS call, then the resolved identity, from memory, KV or STS alike.
   */
  revocations?: { check(facts: RevocationFacts): Promise<void> };
  /**
   * Rule `tokenMaxAge`: how long after its X-Amz-Date a token is honoured (TOKEN_MAX_AGE_SECONDS);
   * at most, and by default, the 15 minutes STS honours.
   */
  maxAgeMs?: number;
}

/** What one verification needs from the request, and what it reports back as it goes. */
export interface VerifyContext {
  /** The rate limiter's key for this client (src/verify/rate-limit-key.ts). */
  clientKey?: string;
  /** Keeps the KV write alive after the response (the Worker's `ctx.waitUntil`). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Filled in as soon as each is known, so a refusal after that point can still name them. */
  trace?: { accessKeyId?: string; resolved?: Resolved };
}

export interface Verifier {
  /**
   * The caller behind an `Authorization` header, or a GateError with the stable code of the
   * first rule that refused.
   */
  verify(authorization: string | null | undefined, context?: VerifyContext): Promise<Resolved>;
}

/**
 * The one verification pipeline, after aws-iam-authenticator's `Verify`: one sequence of named
 * steps, the cheap and local ones first, so that junk costs no I/O and a token costs one STS
 * call however many requests carry it.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if (typeof options.audience !== "string" || options.audience === "") throw new TypeError("createVerifier: audience is required");
  const clock = options.now ?? Date.now;
  const memory = options.cache ?? new IdentityCache();
  const timeoutMs = options.timeoutMs ?? DEFAULT_STS_TIMEOUT_MS;
  const sts = options.sts;
  const stsFetch: StsFetch = sts === undefined ? (req) => fetch(req) : typeof sts === "function" ? sts : (req) => sts.fetch(req);
  const revocations = options.revocations;
  const maxAgeMs = Math.min(options.maxAgeMs ?? TOKEN_LIFETIME_MS, TOKEN_LIFETIME_MS);

  /** KV, then STS: what a token not in this isolate's memory costs, once per token at a time. */
  async function upstream(key: string, token: ValidatedToken, context: VerifyContext): Promise<Resolved> {
    const { accessKeyId } = token;
    // 1. Rate limit (rule `rateLimitKeyPerSlash64` makes the key), before any I/O.
    if (options.rateLimiter) await admitUpstream(options.rateLimiter, context.clientKey ?? "unknown");
    const now = clock();
    // 2. KV: another isolate's verification of this very token.
    const fromKv = options.kv ? await readIdentity(options.kv, key, token, now) : undefined;
    if (fromKv) {
      memory.identities.set(key, { identity: fromKv, accessKeyId, signedAt: token.signedAt }, token.expiresAt);
      return { identity: fromKv, accessKeyId, signedAt: token.signedAt, cache: "kv" };
    }
    // 3. The STS exchange, then 4. the identity derived from its answer.
    const started = clock();
    let identity;
    try {
      identity = identityFromSts(await exchangeWithSts(token, { audience: options.audience, timeoutMs, fetch: stsFetch }), token.endpoint.partition);
    } catch (error) {
      // Rule `refusedTokenMemory`: only a refusal is the token's own fault; outages must not
      // lock a good token out.
      if (error instanceof GateError && error.code === "sts_refused") memory.refused.set(key, error, token.expiresAt);
      throw error;
    }
    const stsMs = clock() - started;
    // 5. Store: in memory, and in KV for the other isolates, until the token expires.
    memory.identities.set(key, { identity, accessKeyId, signedAt: token.signedAt }, token.expiresAt);
    if (options.kv) storeIdentity(options.kv, key, identity, token.expiresAt, now, context.waitUntil ?? (() => {}));
    return { identity, accessKeyId, signedAt: token.signedAt, cache: "miss", stsMs };
  }

  return {
    async verify(authorization, context = {}) {
      const trace = context.trace ?? {};
      // 1. Bearer: the header's shape and the 4 KiB cap.
      const tokenText = bearerToken(authorization);
      // 2. Cache key: a digest, so no raw token is ever held.
      const key = await cacheKey(options.audience, tokenText);
      const now = clock();
      // 3. Isolate memory: the same token string passed every rule and STS; its expiry is stored.
      const remembered = memory.remembered(key, now);
      let resolved: Resolved;
      if (remembered) {
        trace.accessKeyId = remembered.accessKeyId;
        // Rule `tokenMaxAge`: a remembered identity is used only while its token is young enough,
        // whatever lifetime the isolate's memory was given when it was stored.
        checkAge(remembered.signedAt, now, maxAgeMs);
        resolved = { ...remembered, cache: "memory" };
      } else {
        // 4. Refused memory: a token STS refused is never sent to STS again.
        const refusal = memory.refused.get(key, now);
        if (refusal) throw new GateError(refusal.code, refusal.detail);
        // 5. Local rules: every rule of src/token/, none of which makes a call.
        const token = validateToken(tokenText, now, maxAgeMs);
        trace.accessKeyId = token.accessKeyId;
        // 6. Rule `revocationBeforeSts`: a revoked key costs no KV read and no STS call.
        await revocations?.check({ accessKeyId: token.accessKeyId });
        // 7. Single flight {rate limit → KV → STS exchange → identity → store}.
        const flight = await memory.flights.run(key, () => upstream(key, token, context));
        // Rule `sharedInflightCalls`: a request that waited on another's call made none itself.
        resolved = flight.shared ? { identity: flight.value.identity, accessKeyId: flight.value.accessKeyId, signedAt: flight.value.signedAt, cache: "memory" } : flight.value;
      }
      trace.resolved = resolved;
      // 8. Rule `revocationEveryRequest`: a memory or KV hit is checked like a fresh answer.
      await revocations?.check({ accessKeyId: resolved.accessKeyId, identity: resolved.identity });
      return resolved;
    },
  };
}
