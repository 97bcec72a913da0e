import { SignJWT, importJWK, type JSONWebKeySet } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { generateAssertionKey, type GeneratedAssertionKey } from "../../src/assertion/generate";
import { PrivateJwkSchema } from "../../src/assertion/keys";
import { AssertionSigner } from "../../src/assertion/signer";
import { identityFromSts, type CallerIdentity } from "../../src/identity";
import { CallerVerificationError, createCallerVerifier, requestTarget, verifyCaller, type VerifyCallerOptions } from "../../src/origin";
import { codeOf } from "../support/verification";

const ISSUER = "urn:sts-gate:unit";
const AUDIENCE = "https://origin.example";
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

const deployer: CallerIdentity = identityFromSts(
  { arn: "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42", account: "111122223333", userId: "AROAEMULATORDEPLOYER1:ci-run-42" },
  "aws",
);

let key: GeneratedAssertionKey;
let jwks: JSONWebKeySet;
let signer: AssertionSigner;
let privateKey: CryptoKey;

beforeAll(async () => {
  key = await generateAssertionKey("EdDSA");
  jwks = { keys: [key.publicJwk] };
  signer = await AssertionSigner.create({
    privateJwk: PrivateJwkSchema.parse(key.privateJwk),
    previousPublicJwk: undefined,
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  privateKey = (await importJWK(key.privateJwk, "EdDSA")) as CryptoKey;
});

function options(extra: Partial<VerifyCallerOptions> = {}): VerifyCallerOptions {
  return { jwks, issuer: ISSUER, audience: AUDIENCE, now: () => NOW, ...extra };
}

function request(assertion: string | null, method = "GET", url = "https://origin.example/base/x?y=1"): Request {
  const headers = new Headers();
  if (assertion !== null) headers.set("x-caller-assertion", assertion);
  return new Request(url, { method, headers });
}

/** An assertion signed with the test key, with the claims the gate writes, then `patch`. */
async function handMade(patch: Record<string, unknown> = {}, header: Record<string, unknown> = {}, k: CryptoKey = privateKey): Promise<string> {
  const iat = Math.floor(NOW / 1000);
  const claims: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: deployer.principal,
    arn: deployer.arn,
    account: deployer.account,
    user_id: deployer.userId,
    principal_type: deployer.type,
    iat,
    exp: iat + 60,
    jti: "j-1",
    htm: "GET",
    htu: "/base/x?y=1",
    ...patch,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: "sts-gate-caller+jwt", ...header } as { alg: string }).sign(k);
}

describe("verifyCaller with a static key set", () => {
  it("returns the typed caller for the gate's assertion", async () => {
    const jwt = await signer.sign(deployer, { method: "GET", htu: "/base/x?y=1" }, NOW);
    expect(await verifyCaller(request(jwt), options())).toEqual({
      arn: "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42",
      principal: "arn:aws:iam::111122223333:role/deployer",
      account: "111122223333",
      userId: "AROAEMULATORDEPLOYER1:ci-run-42",
      principalType: "assumed-role",
      role: "deployer",
      session: "ci-run-42",
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      issuedAt: new Date(Math.floor(NOW / 1000) * 1000),
      expiresAt: new Date(Math.floor(NOW / 1000) * 1000 + 60_000),
    });
  });

  it("accepts a request given as a plain object with a relative URL (Node's req.url)", async () => {
    const jwt = await handMade();
    const req = { method: "GET", url: "/base/x?y=1", headers: { get: (n: string) => (n.toLowerCase() === "x-caller-assertion" ? jwt : null) } };
    await expect(verifyCaller(req, options())).resolves.toMatchObject({ jti: "j-1" });
  });

  it.each([
    ["a dot segment (Express routes it to /base/admin)", "/base/admin/../x?y=1"],
    ["an escaped dot segment", "/base/admin/%2e%2e/x?y=1"],
    ["a '.' segment", "/base/./x?y=1"],
    ["a backslash", "/base\\x?y=1"],
  ])("refuses an assertion replayed at a raw target with %s, though it normalises to htu (ATTACKS #33)", async (_why, url) => {
    const jwt = await handMade();
    const req = { method: "GET", url, headers: { get: (n: string) => (n.toLowerCase() === "x-caller-assertion" ? jwt : null) } };
    expect(new URL(url, "http://o.example").pathname + "?y=1").toBe("/base/x?y=1");
    expect(await codeOf(verifyCaller(req, options()))).toBe("assertion_wrong_request");
  });

  it.each([["/base/admin/../x?y=1"], ["/base/%2e%2e/x?y=1"], ["/base\\x?y=1"]])(
    "refuses the target %s even when htu names it exactly: the gate never sends one, so such an assertion is not the gate's",
    async (target) => {
      const jwt = await handMade({ htu: target });
      const req = { method: "GET", url: target, headers: { get: (n: string) => (n.toLowerCase() === "x-caller-assertion" ? jwt : null) } };
      expect(await codeOf(verifyCaller(req, options()))).toBe("assertion_wrong_request");
    },
  );

  it("compares the raw target byte for byte: an escape the gate did not send is another target", async () => {
    const jwt = await handMade();
    const req = { method: "GET", url: "/base/%78?y=1", headers: { get: (n: string) => (n.toLowerCase() === "x-caller-assertion" ? jwt : null) } };
    expect(await codeOf(verifyCaller(req, options()))).toBe("assertion_wrong_request");
  });

  it("works as a bound verifier (createCallerVerifier)", async () => {
    const verify = createCallerVerifier(options());
    await expect(verify(request(await handMade()))).resolves.toMatchObject({ principalType: "assumed-role" });
  });

  it.each([
    ["no header", null],
    ["an empty header", ""],
  ])("assertion_missing for %s", async (_why, value) => {
    expect(await codeOf(verifyCaller(request(value), options()))).toBe("assertion_missing");
  });

  it.each<[string, () => Promise<string>, string]>([
    ["another issuer", () => handMade({ iss: "urn:sts-gate:other" }), "assertion_wrong_issuer"],
    ["no issuer", () => handMade({ iss: undefined }), "assertion_invalid"],
    ["another audience", () => handMade({ aud: "https://elsewhere.example" }), "assertion_wrong_audience"],
    ["an audience list without this origin", () => handMade({ aud: ["https://a.example", "https://b.example"] }), "assertion_wrong_audience"],
    ["expired beyond the tolerance", () => handMade({ exp: Math.floor(NOW / 1000) - 31, iat: Math.floor(NOW / 1000) - 91 }), "assertion_expired"],
    ["older than its lifetime allows, whatever exp says", () => handMade({ iat: Math.floor(NOW / 1000) - 120, exp: Math.floor(NOW / 1000) + 3600 }), "assertion_expired"],
    ["issued in the future beyond the tolerance", () => handMade({ iat: Math.floor(NOW / 1000) + 31, exp: Math.floor(NOW / 1000) + 91 }), "assertion_not_yet_valid"],
    ["no exp", () => handMade({ exp: undefined }), "assertion_invalid"],
    ["no htu", () => handMade({ htu: undefined }), "assertion_invalid"],
    ["no jti", () => handMade({ jti: undefined }), "assertion_invalid"],
    ["a numeric arn", () => handMade({ arn: 42 }), "assertion_invalid"],
    ["an unknown principal type", () => handMade({ principal_type: "service" }), "assertion_invalid"],
    ["a short account", () => handMade({ account: "1111" }), "assertion_invalid"],
    ["another method", () => handMade({ htm: "POST" }), "assertion_wrong_request"],
    ["a lower-case method", () => handMade({ htm: "get" }), "assertion_wrong_request"],
    ["another path", () => handMade({ htu: "/base/y?y=1" }), "assertion_wrong_request"],
    ["the path without its prefix", () => handMade({ htu: "/x?y=1" }), "assertion_wrong_request"],
    ["a full URL as htu", () => handMade({ htu: "https://origin.example/base/x?y=1" }), "assertion_wrong_request"],
    ["another typ", () => handMade({}, { typ: "JWT" }), "assertion_invalid"],
    ["an unknown kid", () => handMade({}, { kid: "someone-else" }), "assertion_key_unknown"],
  ])("refuses %s: %s", async (_why, make, code) => {
    expect(await codeOf(verifyCaller(request(await make()), options()))).toBe(code);
  });

  it("refuses a key outside the published set with the published kid", async () => {
    const stranger = await generateAssertionKey("EdDSA");
    const k = (await importJWK(stranger.privateJwk, "EdDSA")) as CryptoKey;
    expect(await codeOf(verifyCaller(request(await handMade({}, {}, k)), options()))).toBe("assertion_invalid");
  });

  it("refuses an algorithm that is not allowed", async () => {
    const p256 = await generateAssertionKey("ES256");
    const k = (await importJWK(p256.privateJwk, "ES256")) as CryptoKey;
    const jwt = await handMade({}, { alg: "ES256", kid: p256.kid }, k);
    const opts = options({ jwks: { keys: [key.publicJwk, p256.publicJwk] } });
    await expect(verifyCaller(request(jwt), opts)).resolves.toBeTruthy();
    expect(await codeOf(verifyCaller(request(jwt), { ...opts, algorithms: ["EdDSA"] }))).toBe("assertion_invalid");
  });

  it("honours clockToleranceSeconds", async () => {
    const jwt = await handMade();
    const at = (s: number, tol?: number) => options({ now: () => NOW + s * 1000, clockToleranceSeconds: tol });
    await expect(verifyCaller(request(jwt), at(60 + 29))).resolves.toBeTruthy();
    expect(await codeOf(verifyCaller(request(jwt), at(60 + 31)))).toBe("assertion_expired");
    expect(await codeOf(verifyCaller(request(jwt), at(61, 0)))).toBe("assertion_expired");
    await expect(verifyCaller(request(jwt), at(60 + 100, 120))).resolves.toBeTruthy();
  });

  it("answers assertion_jwks_unavailable (503) when the keys cannot be obtained", async () => {
    const failing = async () => {
      throw new TypeError("fetch failed");
    };
    const error = await verifyCaller(request(await handMade()), options({ jwks: failing })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallerVerificationError);
    expect((error as CallerVerificationError).code).toBe("assertion_jwks_unavailable");
    expect((error as CallerVerificationError).status).toBe(503);
  });

  it("fails closed on a missing issuer or audience option instead of skipping the check", async () => {
    const jwt = await handMade();
    await expect(verifyCaller(request(jwt), { ...options(), issuer: "" })).rejects.toThrow(TypeError);
    await expect(verifyCaller(request(jwt), { ...options(), audience: undefined as unknown as string })).rejects.toThrow(TypeError);
  });

  it("treats a malformed static key set as a configuration error (thrown as is), not as a refusal", async () => {
    await expect(verifyCaller(request(await handMade()), options({ jwks: { keys: "nope" } as unknown as JSONWebKeySet }))).rejects.not.toBeInstanceOf(
      CallerVerificationError,
    );
  });
});

describe("requestTarget (htu)", () => {
  it.each([
    ["https://o.example/base/x?y=1", "/base/x?y=1"],
    ["/base/x?y=1", "/base/x?y=1"],
    ["/base/x?", "/base/x"],
    ["//evil.example/x", "//evil.example/x"],
    ["/a%2Fb/c?d=%2F", "/a%2Fb/c?d=%2F"],
    ["/a b", "/a%20b"],
  ])("%s → %s", (url, target) => {
    expect(requestTarget(url)).toBe(target);
  });
});
