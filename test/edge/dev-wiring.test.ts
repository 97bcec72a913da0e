import { describe, expect, it } from "vitest";
import { generateAssertionKey } from "../../src/assertion/generate";
import type { PrivateJwk } from "../../src/assertion/keys";
import { COMMITTED_KEYS, devWiringReasons, isLoopbackHost } from "../../src/edge/dev-wiring";

const settings = (privateJwk: PrivateJwk) => ({ privateJwk, previousPublicJwk: undefined, issuer: "i", audience: "a" });
const sts = { fetch: async () => new Response() } as unknown as Fetcher;

describe("devWiringLoopbackOnly (ATTACKS #23)", () => {
  it("names the STS binding", () => {
    expect(devWiringReasons({ sts, assertion: undefined })).toEqual([expect.stringMatching(/^STS: /)]);
  });

  it("names a signing key that has been committed to the repository, by its public half", async () => {
    const fresh = (await generateAssertionKey("EdDSA")).privateJwk as PrivateJwk;
    const [committed] = [...COMMITTED_KEYS];
    const reasons = devWiringReasons({ sts: undefined, assertion: settings({ ...fresh, x: committed! } as PrivateJwk) });
    expect(reasons).toEqual([expect.stringMatching(/^ASSERTION_PRIVATE_JWK: /)]);
    expect(reasons.join()).not.toContain(fresh.d);
  });

  it("names nothing for production wiring: no STS binding, a key of one's own", async () => {
    for (const alg of ["EdDSA", "ES256"] as const) {
      const key = (await generateAssertionKey(alg)).privateJwk as PrivateJwk;
      expect(devWiringReasons({ sts: undefined, assertion: settings(key) })).toEqual([]);
    }
    expect(devWiringReasons({ sts: undefined, assertion: undefined })).toEqual([]);
  });

  it.each([["localhost", true], ["LocalHost", true], ["127.0.0.1", true], ["[::1]", true], ["127.0.0.2", false], ["localhost.example.com", false], ["gate.example.com", false], ["[::2]", false], ["api.localhost", true], ["a.tools.localhost", true], ["localhostx", false], ["evil-localhost", false], ["x.localhost.evil.example", false], [".localhost", false]])(
    "isLoopbackHost(%s) is %s",
    (host, expected) => {
      expect(isLoopbackHost(host)).toBe(expected);
    },
  );
});
