import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import { generateAssertionKey } from "../../src/assertion/generate";
import { PrivateJwkSchema, PublicJwkSchema } from "../../src/assertion/keys";
import { AssertionKeyError, AssertionSigner, assertionSignerFor, type AssertionSettings } from "../../src/assertion/signer";
import { identityFromSts } from "../../src/identity";
import { ASSERTION_LIFETIME_SECONDS, ASSERTION_TYP } from "../../src/origin/claims";

const T = Date.UTC(2026, 10, 22, 12, 0, 0) + 700;
const deployer = identityFromSts(
  { arn: "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42", account: "111122223333", userId: "AROAEMULATORDEPLOYER1:ci-run-42" },
  "aws",
);

async function settings(alg: "EdDSA" | "ES256" = "EdDSA", patch: Partial<AssertionSettings> = {}) {
  const key = await generateAssertionKey(alg);
  return { key, settings: { privateJwk: PrivateJwkSchema.parse(key.privateJwk), previousPublicJwk: undefined, issuer: "urn:sts-gate:t", audience: "https://origin.example", ...patch } };
}

async function failure(promise: Promise<unknown>): Promise<AssertionKeyError> {
  const e = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(AssertionKeyError);
  return e as AssertionKeyError;
}

describe.each(["EdDSA", "ES256"] as const)("AssertionSigner (%s)", (alg) => {
  it("signs the caller and exactly this request, verifiable with the key set it publishes", async () => {
    const { key, settings: s } = await settings(alg);
    const signer = await AssertionSigner.create(s);
    const jwt = await signer.sign(deployer, { method: "POST", htu: "/base/deploy?x=1" }, T);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg, kid: key.kid, typ: ASSERTION_TYP });
    const jwks = JSON.parse(signer.jwksBody) as JSONWebKeySet;
    expect(jwks).toEqual({ keys: [key.publicJwk] });
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: "urn:sts-gate:t", audience: "https://origin.example", currentDate: new Date(T) });
    const iat = Math.floor(T / 1000);
    expect(payload).toEqual({
      iss: "urn:sts-gate:t",
      aud: "https://origin.example",
      sub: "arn:aws:iam::111122223333:role/deployer",
      iat,
      exp: iat + ASSERTION_LIFETIME_SECONDS,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      arn: deployer.arn,
      account: "111122223333",
      user_id: deployer.userId,
      principal_type: "assumed-role",
      role: "deployer",
      session: "ci-run-42",
      htm: "POST",
      htu: "/base/deploy?x=1",
    });
  });
});

describe("AssertionSigner", () => {
  it("gives each assertion its own jti", async () => {
    const signer = await AssertionSigner.create((await settings()).settings);
    const jti = async () => JSON.parse(atob((await signer.sign(deployer, { method: "GET", htu: "/" }, T)).split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).jti;
    expect(await jti()).not.toBe(await jti());
  });

  it("omits session claims a caller does not have", async () => {
    const signer = await AssertionSigner.create((await settings()).settings);
    const alice = identityFromSts({ arn: "arn:aws:iam::111122223333:user/alice", account: "111122223333", userId: "AIDAEMULATORALICE0001" }, "aws");
    const jwt = await signer.sign(alice, { method: "GET", htu: "/" }, T);
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(JSON.parse(signer.jwksBody) as JSONWebKeySet), { currentDate: new Date(T) });
    for (const claim of ["role", "session", "permission_set", "user"]) expect(payload).not.toHaveProperty(claim);
  });

  it("refuses a d that belongs to another key, naming the field and not the key", async () => {
    const { settings: s } = await settings();
    const other = await generateAssertionKey("EdDSA");
    const e = await failure(AssertionSigner.create({ ...s, privateJwk: { ...s.privateJwk, d: other.privateJwk.d! } }));
    expect(e.field).toBe("ASSERTION_PRIVATE_JWK");
    expect(e.message).toMatch(/does not belong to its public part/);
    expect(e.message).not.toContain(other.privateJwk.d!);
  });

  it("publishes a previous key after the current one, and the current key given again only once", async () => {
    const { key, settings: s } = await settings();
    const previous = await generateAssertionKey("ES256");
    const rotating = await AssertionSigner.create({ ...s, previousPublicJwk: PublicJwkSchema.parse(previous.publicJwk) });
    expect(JSON.parse(rotating.jwksBody)).toEqual({ keys: [key.publicJwk, previous.publicJwk] });
    const again = await AssertionSigner.create({ ...s, previousPublicJwk: PublicJwkSchema.parse(key.publicJwk) });
    expect(JSON.parse(again.jwksBody)).toEqual({ keys: [key.publicJwk] });
  });

  it("refuses a previous key that reuses the current kid for other material", async () => {
    const { key, settings: s } = await settings();
    const other = await generateAssertionKey("EdDSA");
    const e = await failure(AssertionSigner.create({ ...s, previousPublicJwk: PublicJwkSchema.parse({ ...other.publicJwk, kid: key.kid }) }));
    expect(e.field).toBe("ASSERTION_PREVIOUS_PUBLIC_JWK");
  });

  it("takes the RFC 7638 thumbprint as kid when the JWK names none", async () => {
    const { key, settings: s } = await settings();
    const { kid: _kid, ...unnamed } = s.privateJwk;
    expect((await AssertionSigner.create({ ...s, privateJwk: unnamed })).kid).toBe(key.kid);
  });

  it("forClaims signs with the same key for another issuer and audience", async () => {
    const signer = await AssertionSigner.create((await settings()).settings);
    const other = signer.forClaims("urn:other", "https://other.example");
    const jwt = await other.sign(deployer, { method: "GET", htu: "/" }, T);
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(JSON.parse(signer.jwksBody) as JSONWebKeySet), { issuer: "urn:other", audience: "https://other.example", currentDate: new Date(T) });
    expect(payload.sub).toBe(deployer.principal);
  });

  it("assertionSignerFor imports once per settings object", async () => {
    const { settings: s } = await settings();
    const first = assertionSignerFor(s);
    expect(assertionSignerFor(s)).toBe(first);
    expect(assertionSignerFor({ ...s })).not.toBe(first);
  });
});
