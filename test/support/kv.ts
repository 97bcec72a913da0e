import { env } from "cloudflare:workers";
import { cacheKey } from "../../src/verify/cache-key";

/**
 * The test gate's real KV namespace (IDENTITY_CACHE, local storage), every call forwarded and
 * its keys recorded. With `store: false` writes are recorded but not stored, for tests of the
 * isolate's own memory that must not be answered from KV; reads still go to the real namespace.
 */
export function spiedKv(options: { store?: boolean } = {}) {
  const real = env.IDENTITY_CACHE;
  const reads: string[] = [];
  const writes: string[] = [];
  const kv = new Proxy(real, {
    get(target, prop) {
      if (prop === "get") return (key: string, ...rest: unknown[]) => (reads.push(key), (target.get as (...a: unknown[]) => unknown)(key, ...rest));
      if (prop === "put")
        return (key: string, ...rest: unknown[]) => (writes.push(key), options.store === false ? Promise.resolve() : (target.put as (...a: unknown[]) => unknown)(key, ...rest));
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { kv: kv as KVNamespace, reads, writes };
}

/** The KV key the test gate stores this token's identity under (its audience unless told). */
export function kvKeyFor(token: string, audience: string = env.AUDIENCE): Promise<string> {
  return cacheKey(audience, token);
}
