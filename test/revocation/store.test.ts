import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { RevocationEntry } from "../../src/revocation/entry";
import { RevocationStore } from "../../src/revocation/store";
import { KV_MIN_TTL_SECONDS, REVOCATION_PREFIX } from "../../src/storage/keys";

/** The store on the test gate's real KV namespace; each test removes the keys it wrote, and only those. */
const written: string[] = [];
afterEach(async () => {
  await Promise.all(written.splice(0).map((id) => env.IDENTITY_CACHE.delete(REVOCATION_PREFIX + id)));
});

const T = Date.UTC(2026, 10, 22, 12, 0, 0);

function entry(patch: Partial<RevocationEntry> = {}): RevocationEntry {
  const id = crypto.randomUUID();
  written.push(id);
  const key = `ASIAUNITSTORE${id.replace(/-/g, "").slice(0, 8).toUpperCase()}`;
  return { id, accessKeyId: key, reason: "leaked", createdAt: new Date(T).toISOString(), createdBy: "arn:aws:iam::111122223333:user/alice", ...patch };
}

describe("RevocationStore (rule revocationPerEntryKey)", () => {
  it("writes one key per entry under rev:v1:, reads it back whole, and deletes it", async () => {
    const store = new RevocationStore(env.IDENTITY_CACHE);
    const e = entry();
    await store.put(e, T);
    expect(JSON.parse((await env.IDENTITY_CACHE.get(REVOCATION_PREFIX + e.id))!)).toEqual(e);
    expect(await store.get(e.id)).toEqual(e);
    await store.delete(e.id);
    expect(await store.get(e.id)).toBeUndefined();
  });

  it("lists every entry's selector from the keys' metadata, two entries made at once both kept", async () => {
    const store = new RevocationStore(env.IDENTITY_CACHE);
    const [a, b] = [entry(), entry({ accessKeyId: undefined, account: "444455556666" })];
    await Promise.all([store.put(a, T), store.put(b, T)]);
    const markers = await store.markers();
    expect(markers).toContainEqual({ id: a.id, kind: "accessKeyId", value: a.accessKeyId });
    expect(markers).toContainEqual({ id: b.id, kind: "account", value: "444455556666" });
    const ids = (await store.entries()).map((x) => x.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
  });

  it("stores an expiring entry with a KV expiration at its expiry, and at least KV's minimum ahead", async () => {
    const store = new RevocationStore(env.IDENTITY_CACHE);
    const now = Date.now();
    const later = entry({ expiresAt: new Date(now + 3600_000).toISOString() });
    const soon = entry({ expiresAt: new Date(now + 10_000).toISOString() });
    await store.put(later, now);
    await store.put(soon, now);
    const expiration = async (id: string) => (await env.IDENTITY_CACHE.list({ prefix: REVOCATION_PREFIX + id })).keys[0]?.expiration;
    expect(await expiration(later.id)).toBe(Math.ceil((now + 3600_000) / 1000));
    expect(await expiration(soon.id)).toBe(Math.ceil(now / 1000) + KV_MIN_TTL_SECONDS + 5);
    expect((await store.markers()).find((m) => m.id === soon.id)?.expiresAt).toBe(now + 10_000);
  });

  it("gives an entry expiring more than a year ahead no KV expiration", async () => {
    const store = new RevocationStore(env.IDENTITY_CACHE);
    const far = entry({ expiresAt: new Date(T + 400 * 24 * 3600_000).toISOString() });
    await store.put(far, T);
    expect((await env.IDENTITY_CACHE.list({ prefix: REVOCATION_PREFIX + far.id })).keys[0]?.expiration).toBeUndefined();
  });

  it("does not trust what KV holds: a stored entry that fails the schema reads as absent", async () => {
    const store = new RevocationStore(env.IDENTITY_CACHE);
    const e = entry();
    await env.IDENTITY_CACHE.put(REVOCATION_PREFIX + e.id, JSON.stringify({ ...e, accessKeyId: "not-a-key" }));
    expect(await store.get(e.id)).toBeUndefined();
    await env.IDENTITY_CACHE.put(REVOCATION_PREFIX + e.id, "{");
    expect(await store.get(e.id)).toBeUndefined();
  });

  it("skips a key whose metadata is not a marker", async () => {
    const store = new RevocationStore(env.IDENTITY_CACHE);
    const e = entry();
    await env.IDENTITY_CACHE.put(REVOCATION_PREFIX + e.id, JSON.stringify(e), { metadata: { s: "everyone", v: "x" } });
    expect((await store.markers()).map((m) => m.id)).not.toContain(e.id);
  });
});
