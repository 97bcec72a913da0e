import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { IdentityCache } from "../../src/verify/isolate-cache";
import { KV_TIMEOUT_MS } from "../../src/verify/kv-store";
import { decisionLines, through } from "../support/gate";
import { emulatorAt, stsCallsFor } from "../support/emulator";
import { kvKeyFor, spiedKv } from "../support/kv";
import { bearer, mintToken, decodeToken } from "../support/tokens";

function send(app: ReturnType<typeof createGateApp>, token: string, testEnv: object = env) {
  return through(app, testEnv, "https://localhost/c", { headers: bearer(token) });
}


describe("identity cache", () => {
  it("answers a repeated token from the isolate's memory without calling STS again", async () => {
    const app = createGateApp();
    const token = await mintToken("alice");
    const log = vi.spyOn(console, "log");
    expect((await send(app, token)).status).toBe(200);
    expect((await send(app, token)).status).toBe(200);
    expect(await stsCallsFor(token)).toBe(1);
    expect(decisionLines(log).map((d) => d.cache)).toEqual(["miss", "memory"]);
    log.mockRestore();
  });

  it("shares an identity across isolates through KV, under a hash of the token", async () => {
    const token = await mintToken("deployer");
    expect((await send(createGateApp(), token)).status).toBe(200);
    const log = vi.spyOn(console, "log");
    // A second app has an empty memory, as a fresh isolate would.
    expect((await send(createGateApp(), token)).status).toBe(200);
    expect(decisionLines(log)[0]?.cache).toBe("kv");
    log.mockRestore();
    expect(await stsCallsFor(token)).toBe(1);

    // Only this test's own key is read: other tests share the namespace.
    const signature = /X-Amz-Signature=([0-9a-f]{64})/.exec(decodeToken(token))![1]!;
    const key = await kvKeyFor(token);
    expect(key).toMatch(/^id:v1:[0-9a-f]{64}$/);
    const value = await env.IDENTITY_CACHE.get(key);
    expect(value).not.toBeNull();
    expect(value).not.toContain(signature);
    expect(value).not.toContain(token.slice(11));
  });

  it("stores an entry in KV only until the token expires", async () => {
    const signedAt = Date.now() - 60_000;
    const token = await mintToken("alice", { at: signedAt });
    await send(createGateApp(), token);
    const { keys } = await env.IDENTITY_CACHE.list({ prefix: await kvKeyFor(token) });
    expect(keys).toHaveLength(1);
    const expirations = keys.map((k) => k.expiration);
    const tokenExpiry = Math.floor((Math.floor(signedAt / 1000) * 1000 + 15 * 60 * 1000) / 1000);
    expect(expirations).toContain(tokenExpiry);
    expect(Math.max(...expirations.map((e) => e ?? 0))).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 15 * 60);
  });

  it("does not store a token with less than KV's 60 s minimum left", async () => {
    const signedAt = Math.floor(Date.now() / 1000) * 1000 - 14.5 * 60 * 1000;
    const now = signedAt + 14.5 * 60 * 1000;
    const sts = emulatorAt(now);
    const token = await mintToken("reader", { at: signedAt });
    const put = vi.spyOn(env.IDENTITY_CACHE, "put");
    const app = createGateApp({ now: () => now });
    const res = await send(app, token, { ...env, STS: sts.binding, POLICY: { allow: ["arn:aws:iam::111122223333:role/reader"] } });
    expect(res.status).toBe(200);
    expect(put).not.toHaveBeenCalled();
    put.mockRestore();
  });

  it("makes one STS call for many concurrent requests with the same token", async () => {
    const app = createGateApp();
    const token = await mintToken("alice");
    const responses = await Promise.all(Array.from({ length: 25 }, () => send(app, token)));
    expect(responses.map((r) => r.status)).toEqual(Array(25).fill(200));
    expect(await stsCallsFor(token)).toBe(1);
  });

  it("evaluates the policy on every request, never from the cache", async () => {
    const cache = new IdentityCache();
    const token = await mintToken("deployer");
    expect((await send(createGateApp({ cache }), token)).status).toBe(200);
    const revoked = { ...env, POLICY: JSON.stringify({ allow: ["arn:aws:iam::111122223333:user/alice"] }) };
    const res = await send(createGateApp({ cache }), token, revoked);
    expect(res.status).toBe(403);
    expect(await stsCallsFor(token)).toBe(1);
  });

  it("treats a failing KV as a miss and still answers through STS", async () => {
    const broken = {
      get: () => Promise.reject(new Error("KV unavailable")),
      put: () => Promise.reject(new Error("KV unavailable")),
      list: () => Promise.reject(new Error("KV unavailable")),
    } as unknown as KVNamespace;
    const token = await mintToken("alice");
    const res = await send(createGateApp(), token, { ...env, IDENTITY_CACHE: broken });
    expect(res.status).toBe(200);
    expect(await stsCallsFor(token)).toBe(1);
  });

  it("treats a hanging KV as a miss after its timeout", async () => {
    let reads = 0;
    let read!: () => void;
    const reading = new Promise<void>((resolve) => (read = resolve));
    const hanging = {
      get: () => (reads++, read(), new Promise(() => {})),
      put: () => new Promise(() => {}),
    } as unknown as KVNamespace;
    const token = await mintToken("alice");
    const app = createGateApp();
    // The gate's timers on an injected clock: the KV deadline is read exactly, not raced.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      let res: Response | undefined;
      const answered = app.fetch(new Request("https://localhost/c", { headers: bearer(token) }), { ...env, IDENTITY_CACHE: hanging }, createExecutionContext()).then((r) => (res = r));
      await reading;
      expect(reads).toBe(1);
      await vi.advanceTimersByTimeAsync(KV_TIMEOUT_MS - 1);
      expect(res).toBeUndefined();
      expect(await stsCallsFor(token)).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      await answered;
      expect(res?.status).toBe(200);
      expect(await stsCallsFor(token)).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("ignores a KV entry that fails the identity checks", async () => {
    const token = await mintToken("alice");
    const app = createGateApp();
    await send(app, token);
    // Corrupt this token's stored identity (and no other test's): a fresh isolate must not trust it.
    const key = await kvKeyFor(token);
    const value = JSON.parse((await env.IDENTITY_CACHE.get(key))!) as Record<string, unknown>;
    await env.IDENTITY_CACHE.put(key, JSON.stringify({ ...value, account: "999999999999" }));
    const before = await stsCallsFor(token);
    expect((await send(createGateApp(), token)).status).toBe(200);
    expect(await stsCallsFor(token)).toBe(before + 1);
  });

  it("is bounded: beyond its maximum the least recently used identity is forgotten", async () => {
    const app = createGateApp({ cache: new IdentityCache(2) });
    const noKv = { ...env, IDENTITY_CACHE: spiedKv({ store: false }).kv };
    const [a, b, c] = [await mintToken("alice"), await mintToken("alice"), await mintToken("alice")];
    for (const t of [a, b, a, c]) expect((await send(app, t!, noKv)).status).toBe(200);
    // a was used after b, so b is the one evicted by c.
    await send(app, a!, noKv);
    await send(app, b!, noKv);
    expect(await stsCallsFor(a!)).toBe(1);
    expect(await stsCallsFor(b!)).toBe(2);
  });

  it("at size 1, remembers only the last identity", async () => {
    const app = createGateApp({ cache: new IdentityCache(1) });
    const noKv = { ...env, IDENTITY_CACHE: spiedKv({ store: false }).kv };
    const [a, b] = [await mintToken("alice"), await mintToken("alice")];
    for (const t of [a, b, b, a]) expect((await send(app, t!, noKv)).status).toBe(200);
    // b was remembered (its second request asked no one); b's arrival evicted a.
    expect(await stsCallsFor(b!)).toBe(1);
    expect(await stsCallsFor(a!)).toBe(2);
  });

  it("takes its size from CACHE_MAX_ENTRIES: at 100, the 101st identity evicts the least recently used", async () => {
    const noKv = spiedKv({ store: false }).kv;
    const tokens: string[] = [];
    for (let i = 0; i < 101; i++) tokens.push(await mintToken("alice"));
    /** Where each request's identity came from, as its decision line says ("miss" or "memory"). */
    async function sources(size: string, sequence: readonly string[]): Promise<unknown[]> {
      const app = createGateApp();
      const sized = { ...env, CACHE_MAX_ENTRIES: size, IDENTITY_CACHE: noKv };
      const log = vi.spyOn(console, "log").mockImplementation(() => {});
      try {
        for (const t of sequence) expect((await send(app, t, sized)).status).toBe(200);
        return decisionLines(log).map((d) => d.cache);
      } finally {
        log.mockRestore();
      }
    }
    const sequence = [...tokens, tokens[100]!, tokens[0]!];
    expect((await sources("100", sequence)).slice(-2)).toEqual(["memory", "miss"]);
    expect((await sources("101", sequence)).slice(-2)).toEqual(["memory", "memory"]);
  }, 60_000);

  it("refuses a CACHE_MAX_ENTRIES that is not a whole number", async () => {
    const bad = await send(createGateApp(), await mintToken("alice"), { ...env, CACHE_MAX_ENTRIES: "lots" });
    expect(bad.status).toBe(500);
    expect(((await bad.json()) as { code: string }).code).toBe("misconfigured");
  });

  it("never shares an entry between gates with different audiences on one KV namespace (ATTACKS #9)", async () => {
    const token = await mintToken("alice");
    expect((await send(createGateApp(), token)).status).toBe(200);
    // Another gate, another audience, the same KV: it must ask STS with its own audience,
    // which the token's signature does not cover, rather than trust the first gate's entry.
    const log = vi.spyOn(console, "log");
    const other = await send(createGateApp(), token, { ...env, AUDIENCE: "another-gate" });
    expect(other.status).toBe(401);
    expect(((await other.json()) as { code: string }).code).toBe("sts_refused");
    expect(decisionLines(log)[0]?.cache).toBeUndefined();
    log.mockRestore();
    expect(await stsCallsFor(token)).toBe(2);
  });
});
