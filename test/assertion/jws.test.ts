import { compactVerify, decodeProtectedHeader, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import { generateAssertionKey } from "../../src/assertion/generate";
import { importSigningKey, importVerifyingKey, jwkThumbprint, keysMatch, signCompact, type KeyMembers } from "../../src/assertion/jws";

const members = (jwk: Record<string, unknown>): KeyMembers =>
  jwk.kty === "EC" ? { kty: "EC", crv: jwk.crv as string, x: jwk.x as string, y: jwk.y as string } : { kty: "OKP", crv: jwk.crv as string, x: jwk.x as string };

describe.each(["EdDSA", "ES256"] as const)("a compact JWS (%s)", (alg) => {
  it("is header.payload.signature, unpadded base64url, and verifies with jose against the public key", async () => {
    const key = await generateAssertionKey(alg);
    const signing = await importSigningKey(members(key.privateJwk), key.privateJwk.d!, alg);
    const jws = await signCompact(signing, alg, { alg, kid: key.kid, typ: "t" }, { sub: "someone", n: 1 });
    expect(jws).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(decodeProtectedHeader(jws)).toEqual({ alg, kid: key.kid, typ: "t" });
    const { payload } = await compactVerify(jws, await importJWK(key.publicJwk, alg));
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({ sub: "someone", n: 1 });
  });

  it("does not verify under another key", async () => {
    const [a, b] = [await generateAssertionKey(alg), await generateAssertionKey(alg)];
    const jws = await signCompact(await importSigningKey(members(a.privateJwk), a.privateJwk.d!, alg), alg, { alg }, { x: 1 });
    await expect(compactVerify(jws, await importJWK(b.publicJwk, alg))).rejects.toThrow();
  });

  it("keysMatch: true for a key's own halves, false for d of another key", async () => {
    const [a, b] = [await generateAssertionKey(alg), await generateAssertionKey(alg)];
    const publicA = await importVerifyingKey(members(a.publicJwk), alg);
    expect(await keysMatch(await importSigningKey(members(a.privateJwk), a.privateJwk.d!, alg), publicA, alg)).toBe(true);
    expect(await keysMatch(await importSigningKey(members(b.privateJwk), b.privateJwk.d!, alg), publicA, alg)).toBe(false);
  });

  it("jwkThumbprint agrees with jose's RFC 7638 thumbprint", async () => {
    const key = await generateAssertionKey(alg);
    expect(await jwkThumbprint(members(key.publicJwk))).toBe(key.kid);
  });
});

describe("jwkThumbprint", () => {
  it("matches RFC 8037 appendix A.3", async () => {
    expect(await jwkThumbprint({ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" })).toBe("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  });

  it("reads only the required members", async () => {
    const bare = { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" };
    expect(await jwkThumbprint({ ...bare, kid: "k", d: "secret" } as KeyMembers)).toBe(await jwkThumbprint(bare));
  });
});
