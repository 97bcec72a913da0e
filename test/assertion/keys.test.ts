import { describe, expect, it } from "vitest";
import { generateAssertionKey } from "../../src/assertion/generate";
import { algorithmOf, PrivateJwkSchema, PublicJwkSchema, publicMembers } from "../../src/assertion/keys";

describe("the assertion key schemas", () => {
  it.each(["EdDSA", "ES256"] as const)("take a generated %s key: the private JWK as private, its public half as public", async (alg) => {
    const key = await generateAssertionKey(alg);
    expect(PrivateJwkSchema.safeParse(key.privateJwk).success).toBe(true);
    expect(PublicJwkSchema.safeParse(key.publicJwk).success).toBe(true);
  });

  it("refuse a private key as the public one, and a public key as the private one", async () => {
    const key = await generateAssertionKey("EdDSA");
    expect(PublicJwkSchema.safeParse(key.privateJwk).success).toBe(false);
    expect(PrivateJwkSchema.safeParse(key.publicJwk).success).toBe(false);
  });

  it("refuse a non-canonical 43rd base64url character (four spellings of one key)", async () => {
    const key = await generateAssertionKey("EdDSA");
    const x = key.publicJwk.x!;
    const last = x.at(-1)!;
    // The low two bits of the last character carry no key bits: any other value there is a respelling.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const respelled = x.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1];
    expect(PublicJwkSchema.safeParse({ ...key.publicJwk, x: respelled }).success).toBe(false);
  });

  it.each([
    ["an RSA key", { kty: "RSA", n: "AQAB", e: "AQAB" }],
    ["X25519", { kty: "OKP", crv: "X25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }],
    ["EdDSA labelled ES256", { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", alg: "ES256" }],
    ["use enc", { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", use: "enc" }],
    ["a short x", { kty: "OKP", crv: "Ed25519", x: "AAAA" }],
  ])("refuse %s", (_why, jwk) => {
    expect(PublicJwkSchema.safeParse(jwk).success).toBe(false);
  });

  it("never quote the value in a message", async () => {
    const key = await generateAssertionKey("EdDSA");
    const result = PrivateJwkSchema.safeParse({ ...key.privateJwk, d: `${key.privateJwk.d!}!` });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error)).not.toContain(key.privateJwk.d!);
  });
});

describe("algorithmOf and publicMembers", () => {
  it("name the algorithm by the key type", () => {
    expect(algorithmOf({ kty: "OKP" })).toBe("EdDSA");
    expect(algorithmOf({ kty: "EC" })).toBe("ES256");
  });

  it.each(["EdDSA", "ES256"] as const)("copy only the public members of a %s key: never d, kid or anything else", async (alg) => {
    const key = await generateAssertionKey(alg);
    const parsed = PrivateJwkSchema.parse(key.privateJwk);
    const pub = publicMembers(parsed);
    expect(pub).toEqual(alg === "EdDSA" ? { kty: "OKP", crv: "Ed25519", x: key.publicJwk.x } : { kty: "EC", crv: "P-256", x: key.publicJwk.x, y: key.publicJwk.y });
    expect(JSON.stringify(pub)).not.toContain(key.privateJwk.d!);
  });
});
