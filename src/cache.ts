import { identityFromSts, type CallerIdentity, type StsAnswer } from "./identity.ts";
import { log, type CacheSource } from "./log.ts";
import { sha256Hex } from "./digest.ts";
import { GateProblem } from "./problem.ts";
import type { ValidatedToken } from "./token/validate.ts";

/** KV refuses an expiration less than 60 s ahead; such an entry is not stored at all. */
export const KV_MIN_TTL_SECONDS = 60;
export const KV_TIMEOUT_MS = 1000;
export const DEFAULT_MEMORY_ENTRIES = 10_000;

export interface Resolved {
  identity: CallerIdentity;
  /** The token's access key (its credential scope): not secret, it joins gate logs to CloudTrail. */
  accessKeyId: string;
  cache: CacheSource;
  stsMs?: number;
}

/** What the isolate remembers per token: the identity, and the key that signed the token. */
export interface Verified {
  identity: CallerIdentity;
  accessKeyId: string;
}

export interface ResolveContext {
  /** From cacheKey(audience, token.token). */
  key: string;
  token: ValidatedToken;
  audience: string;
  kv: KVNamespace | undefined;
  now: number;
  waitUntil: (promise: Promise<unknown>) => void;
  /** Calls STS and checks the answer; runs at most once per key at a time. */
  verify: () => Promise<CallerIdentity>;
  /** Runs before the KV read and STS call of a token not in memory; may throw to refuse both. */
  beforeUpstream?: () => Promise<void>;
  /** Clock for measuring the STS call. */
  clock: () => number;
}

interface Remembered<T> {
  value: T;
  expiresAt: number;
}

/**
 * The verified-identity cache: an in-isolate LRU in front of KV, a memory of tokens STS
 * refused, and one shared STS call per token however many requests carry it.
 * Only identities that passed every check are stored, and only until their token expires.
 */
export class IdentityCache {
  private readonly identities: BoundedMap<Verified>;
  private readonly refused: BoundedMap<GateProblem>;
  private readonly inflight = new Map<string, Promise<Resolved>>();

  constructor(maxEntries = DEFAULT_MEMORY_ENTRIES) {
    this.identities = new BoundedMap(maxEntries);
    this.refused = new BoundedMap(maxEntries);
  }

  /**
   * The identity this isolate verified for the key, if it has not expired. A hit needs no
   * validation: the same token string passed every rule and STS, and its expiry is stored.
   */
  remembered(key: string, now: number): Verified | undefined {
    return this.identities.get(key, now);
  }

  async resolve(ctx: ResolveContext): Promise<Resolved> {
    const { key } = ctx;
    const remembered = this.identities.get(key, ctx.now);
    if (remembered) return { ...remembered, cache: "memory" };
    const refusal = this.refused.get(key, ctx.now);
    if (refusal) throw new GateProblem(refusal.code, refusal.detail);

    const pending = this.inflight.get(key);
    if (pending) return shared(await pending);
    const work = this.resolveUncached(key, ctx);
    this.inflight.set(key, work);
    try {
      return await work;
    } finally {
      this.inflight.delete(key);
    }
  }

  private async resolveUncached(key: string, ctx: ResolveContext): Promise<Resolved> {
    const { token } = ctx;
    await ctx.beforeUpstream?.();
    const fromKv = ctx.kv ? await readKv(ctx.kv, key, token, ctx.now) : undefined;
    if (fromKv) {
      this.identities.set(key, { identity: fromKv, accessKeyId: token.accessKeyId }, token.expiresAt);
      return { identity: fromKv, accessKeyId: token.accessKeyId, cache: "kv" };
    }
    const started = ctx.clock();
    let identity: CallerIdentity;
    try {
      identity = await ctx.verify();
    } catch (error) {
      // Only a refusal is the token's own fault; outages must not lock a good token out.
      if (error instanceof GateProblem && error.code === "sts_refused") {
        this.refused.set(key, error, token.expiresAt);
      }
      throw error;
    }
    const stsMs = ctx.clock() - started;
    this.identities.set(key, { identity, accessKeyId: token.accessKeyId }, token.expiresAt);
    if (ctx.kv) writeKv(ctx.kv, key, identity, token.expiresAt, ctx.now, ctx.waitUntil);
    return { identity, accessKeyId: token.accessKeyId, cache: "miss", stsMs };
  }
}

/** Requests that waited on another's STS call did not make one themselves. */
function shared(resolved: Resolved): Resolved {
  return { identity: resolved.identity, accessKeyId: resolved.accessKeyId, cache: "memory" };
}

/**
 * SHA-256 over the audience and the token: the token itself is never a key, and a token
 * verified by a gate with another audience (sharing the namespace) is never a hit here.
 */
export async function cacheKey(audience: string, token: string): Promise<string> {
  return `id:v1:${await sha256Hex(`sts-gate/v1\n${audience}\n${token}`)}`;
}

interface KvEntry {
  arn: string;
  account: string;
  userId: string;
  expiresAt: number;
}

/** A KV failure or hang is a miss: the request goes on to STS and never fails on KV's account. */
async function readKv(kv: KVNamespace, key: string, token: ValidatedToken, now: number): Promise<CallerIdentity | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), KV_TIMEOUT_MS);
    });
    const entry = await Promise.race([kv.get<KvEntry>(key, "json"), timeout]);
    if (entry === null || typeof entry !== "object") return undefined;
    // KV expiry is lazy and eventually consistent; the token's own lifetime is the truth.
    if (entry.expiresAt !== token.expiresAt || now >= token.expiresAt) return undefined;
    const answer: StsAnswer = { arn: entry.arn, account: entry.account, userId: entry.userId };
    // Stored data goes through the same checks as a fresh STS answer.
    return identityFromSts(answer, token.endpoint.partition);
  } catch (error) {
    if (!(error instanceof GateProblem)) log({ event: "kv", level: "warn", message: "KV read failed; calling STS" });
    return undefined;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function writeKv(
  kv: KVNamespace,
  key: string,
  identity: CallerIdentity,
  expiresAt: number,
  now: number,
  waitUntil: (p: Promise<unknown>) => void,
): void {
  const expiration = Math.floor(expiresAt / 1000);
  if (expiration < Math.ceil(now / 1000) + KV_MIN_TTL_SECONDS) return;
  const entry: KvEntry = { arn: identity.arn, account: identity.account, userId: identity.userId, expiresAt };
  let write: Promise<unknown>;
  try {
    write = kv.put(key, JSON.stringify(entry), { expiration });
  } catch (error) {
    write = Promise.reject(error);
  }
  waitUntil(write.catch(() => log({ event: "kv", level: "warn", message: "KV write failed; identity not shared" })));
}

/** Insertion-ordered Map as an LRU with expiry: bounded, so a flood of tokens cannot grow the isolate. */
class BoundedMap<T> {
  private readonly map = new Map<string, Remembered<T>>();
  constructor(private readonly max: number) {}

  get(key: string, now: number): T | undefined {
    const hit = this.map.get(key);
    if (hit === undefined) return undefined;
    this.map.delete(key);
    if (now >= hit.expiresAt) return undefined;
    this.map.set(key, hit);
    return hit.value;
  }

  set(key: string, value: T, expiresAt: number): void {
    this.map.delete(key);
    this.map.set(key, { value, expiresAt });
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }
}
