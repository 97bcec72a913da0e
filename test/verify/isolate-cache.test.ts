import { describe, expect, it } from "vitest";
import { GateError } from "../../src/errors";
import { identityFromSts } from "../../src/identity";
import { DEFAULT_MEMORY_ENTRIES, IdentityCache, type Verified } from "../../src/verify/isolate-cache";

const T = Date.UTC(2026, 10, 22, 12, 0, 0);
const alice: Verified = {
  identity: identityFromSts({ arn: "arn:aws:iam::111122223333:user/alice", account: "111122223333", userId: "AIDAEMULATORALICE0001" }, "aws"),
  accessKeyId: "AKIAEMULATORALICE001",
  signedAt: T - 60_000,
};

describe("IdentityCache", () => {
  it("remembers an identity until its expiry, and not at or after it", () => {
    const cache = new IdentityCache();
    cache.identities.set("k", alice, T + 1000);
    expect(cache.remembered("k", T + 999)).toEqual(alice);
    expect(cache.remembered("k", T + 1000)).toBeUndefined();
    expect(cache.remembered("other", T)).toBeUndefined();
  });

  it("bounds identities and refusals alike by its size", () => {
    const cache = new IdentityCache(2);
    for (const k of ["a", "b", "c"]) {
      cache.identities.set(k, alice, T + 1000);
      cache.refused.set(k, new GateError("sts_refused"), T + 1000);
    }
    expect(cache.identities.size).toBe(2);
    expect(cache.refused.size).toBe(2);
    expect(cache.remembered("a", T)).toBeUndefined();
    expect(cache.remembered("c", T)).toEqual(alice);
  });

  it("holds 10 000 entries unless told", () => {
    expect(DEFAULT_MEMORY_ENTRIES).toBe(10_000);
    const cache = new IdentityCache();
    for (let i = 0; i <= DEFAULT_MEMORY_ENTRIES; i++) cache.identities.set(String(i), alice, T + 1000);
    expect(cache.identities.size).toBe(DEFAULT_MEMORY_ENTRIES);
    expect(cache.remembered("0", T)).toBeUndefined();
    expect(cache.remembered("1", T)).toEqual(alice);
  });

  it("keeps refusals apart from identities", () => {
    const cache = new IdentityCache();
    cache.refused.set("k", new GateError("sts_refused"), T + 1000);
    expect(cache.remembered("k", T)).toBeUndefined();
    expect(cache.refused.get("k", T)?.code).toBe("sts_refused");
  });
});
