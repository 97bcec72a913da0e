import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { IdentityCache } from "../../src/verify/isolate-cache";
import { clock } from "../support/clock";
import { emulatorAt } from "../support/emulator";
import { linesDuring, logLines, problemCode, through } from "../support/gate";
import { bearer, mintToken } from "../support/tokens";

/**
 * TOKEN_MAX_AGE_SECONDS (issue 21), per app `tokenMaxAgeSeconds`: a token older than the limit
 * is 401 token_expired before KV or STS, and an identity remembered in the isolate or in KV is
 * used only while its token is younger than the limit. The gate's clock is injected.
 */
const SIGNED_AT = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const URL_ = "https://localhost/c";

/** A KV that counts its reads and keeps its writes, so a second gate sees the first one's. */
function countingKv() {
  const store = new Map<string, string>();
  const counts = { get: 0, put: 0 };
  const kv = {
    get: async (key: string, type?: string) => {
      counts.get++;
      const value = store.get(key);
      return value === undefined ? null : type === "json" ? JSON.parse(value) : value;
    },
    put: async (key: string, value: string) => {
      counts.put++;
      store.set(key, value);
    },
  } as unknown as KVNamespace;
  return { kv, counts };
}

function ageEnv(overrides: Record<string, unknown> = {}) {
  const sts = emulatorAt(SIGNED_AT + 10_000);
  const { kv, counts } = countingKv();
  return { env: { ...env, STS: sts.binding, IDENTITY_CACHE: kv, ...overrides }, sts, kv: counts };
}

describe("TOKEN_MAX_AGE_SECONDS", () => {
  it("refuses a token older than the limit with 401 token_expired, before KV or STS", async () => {
    const token = await mintToken("alice", { at: SIGNED_AT });
    const { env: testEnv, sts, kv } = ageEnv({ TOKEN_MAX_AGE_SECONDS: "300" });
    const gate = createGateApp({ now: () => SIGNED_AT + 300_000 });
    const { result: res, decisions } = await linesDuring(() => through(gate, testEnv, URL_, { headers: bearer(token) }));
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe("token_expired");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(sts.calls).toEqual([]);
    expect(kv.get).toBe(0);
    expect(decisions[0]).toMatchObject({ outcome: "deny", code: "token_expired" });
  });

  it("admits a token younger than the limit, and a 15-minute-old one is still refused by default", async () => {
    const token = await mintToken("alice", { at: SIGNED_AT });
    const young = await through(createGateApp({ now: () => SIGNED_AT + 299_000 }), ageEnv({ TOKEN_MAX_AGE_SECONDS: 300 }).env, URL_, { headers: bearer(token) });
    expect(young.status, await young.clone().text()).toBe(200);
    const old = await through(createGateApp({ now: () => SIGNED_AT + 900_000 }), ageEnv().env, URL_, { headers: bearer(token) });
    expect(await problemCode(old)).toBe("token_expired");
    // Without the setting, 14 minutes is fine: the default is what STS honours.
    const fine = await through(createGateApp({ now: () => SIGNED_AT + 840_000 }), ageEnv().env, URL_, { headers: bearer(token) });
    expect(fine.status).toBe(200);
  });

  it("uses an identity remembered in the isolate only while its token is younger than the limit", async () => {
    const token = await mintToken("alice", { at: SIGNED_AT });
    const { env: testEnv, sts } = ageEnv({ TOKEN_MAX_AGE_SECONDS: "120" });
    const time = clock(SIGNED_AT + 60_000);
    const gate = createGateApp({ now: time.now });
    expect((await through(gate, testEnv, URL_, { headers: bearer(token) })).status).toBe(200);
    time.t = SIGNED_AT + 119_000;
    const { result: hit, decisions } = await linesDuring(() => through(gate, testEnv, URL_, { headers: bearer(token) }));
    expect(hit.status).toBe(200);
    expect(decisions[0]?.cache).toBe("memory");
    // A minute later the same token has aged past the limit: refused, from memory or not.
    time.t = SIGNED_AT + 120_000;
    const late = await through(gate, testEnv, URL_, { headers: bearer(token) });
    expect(late.status).toBe(401);
    expect(await problemCode(late)).toBe("token_expired");
    expect(sts.calls).toHaveLength(1);
  });

  it("checks the age on a memory hit even when the memory was filled under a longer limit", async () => {
    // One isolate memory shared by two configurations: the first allows 15 minutes, the second 2.
    const cache = new IdentityCache();
    const token = await mintToken("alice", { at: SIGNED_AT });
    const time = clock(SIGNED_AT + 60_000);
    const shared = ageEnv();
    expect((await through(createGateApp({ now: time.now, cache }), shared.env, URL_, { headers: bearer(token) })).status).toBe(200);
    time.t = SIGNED_AT + 180_000;
    const { result: res, decisions } = await linesDuring(() =>
      through(createGateApp({ now: time.now, cache }), { ...shared.env, TOKEN_MAX_AGE_SECONDS: 120 }, URL_, { headers: bearer(token) }),
    );
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe("token_expired");
    expect(decisions[0]).toMatchObject({ code: "token_expired" });
  });

  it("uses an identity another isolate put in KV only while its token is younger than the limit", async () => {
    const token = await mintToken("alice", { at: SIGNED_AT });
    const { env: testEnv, sts } = ageEnv({ TOKEN_MAX_AGE_SECONDS: "200" });
    expect((await through(createGateApp({ now: () => SIGNED_AT + 30_000 }), testEnv, URL_, { headers: bearer(token) })).status).toBe(200);
    // A fresh isolate (empty memory) within the limit: the KV entry answers.
    const { result: kvHit, decisions } = await linesDuring(() => through(createGateApp({ now: () => SIGNED_AT + 150_000 }), testEnv, URL_, { headers: bearer(token) }));
    expect(kvHit.status).toBe(200);
    expect(decisions[0]?.cache).toBe("kv");
    // Past the limit: refused, though KV still holds the entry.
    const late = await through(createGateApp({ now: () => SIGNED_AT + 200_000 }), testEnv, URL_, { headers: bearer(token) });
    expect(await problemCode(late)).toBe("token_expired");
    expect(sts.calls).toHaveLength(1);
  });

  it("is per app: each app's tokenMaxAgeSeconds decides for the hosts it serves", async () => {
    const APPS = [
      { name: "short", hosts: ["short.localhost"], audience: "short-aud", originUrl: "http://short.internal", policy: { allow: ["arn:aws:iam::111122223333:user/alice"] }, tokenMaxAgeSeconds: 120 },
      { name: "long", hosts: ["long.localhost"], audience: "long-aud", originUrl: "http://long.internal", policy: { allow: ["arn:aws:iam::111122223333:user/alice"] } },
    ];
    const { env: base } = ageEnv();
    const appsEnv = { ...base, AUDIENCE: undefined, ORIGIN_URL: undefined, POLICY: undefined, APPS, ORIGIN: { fetch: async () => Response.json({ ok: true }) } };
    const gate = createGateApp({ now: () => SIGNED_AT + 180_000 });
    const short = await through(gate, appsEnv, "https://short.localhost/x", { headers: bearer(await mintToken("alice", { at: SIGNED_AT, audience: "short-aud" })) });
    expect(await problemCode(short)).toBe("token_expired");
    const long = await through(gate, appsEnv, "https://long.localhost/x", { headers: bearer(await mintToken("alice", { at: SIGNED_AT, audience: "long-aud" })) });
    expect(long.status, await long.clone().text()).toBe(200);
  });

  it.each([
    ["59", "TOKEN_MAX_AGE_SECONDS"],
    ["901", "TOKEN_MAX_AGE_SECONDS"],
    ["5m", "TOKEN_MAX_AGE_SECONDS"],
    [120.5, "TOKEN_MAX_AGE_SECONDS"],
  ])("refuses %s as a configuration error naming %s", async (value, field) => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const res = await through(createGateApp(), { ...env, TOKEN_MAX_AGE_SECONDS: value }, URL_, { headers: bearer(await mintToken("alice")) });
    expect(res.status).toBe(500);
    expect(await problemCode(res)).toBe("misconfigured");
    const lines = logLines<{ event: string; message: string }>(log);
    expect(lines.some((l) => l.event === "config" && l.message.startsWith(`${field}:`))).toBe(true);
    log.mockRestore();
  });

  it("refuses an app's out-of-range tokenMaxAgeSeconds, naming the app's field", async () => {
    const APPS = [{ name: "a", hosts: ["a.localhost"], audience: "a-aud", originUrl: "http://a.internal", policy: { allow: ["arn:aws:iam::111122223333:user/alice"] }, tokenMaxAgeSeconds: 30 }];
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const res = await through(createGateApp(), { ...env, AUDIENCE: undefined, ORIGIN_URL: undefined, POLICY: undefined, APPS }, "https://a.localhost/", {});
    expect(await problemCode(res)).toBe("misconfigured");
    const lines = logLines<{ event: string; message: string }>(log);
    expect(lines.some((l) => l.event === "config" && l.message.startsWith("APPS[0].tokenMaxAgeSeconds:"))).toBe(true);
    log.mockRestore();
  });
});
