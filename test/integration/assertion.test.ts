import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CallerVerificationError, verifyCaller } from "../../src/origin";
import { type Echo } from "../support/gate";
import { bearer, mintToken } from "../support/tokens";
import {
  asReceived,
  callAs,
  decodeAssertion,
  env,
  gateJwks,
  localSet,
  TEST_AUDIENCE_CLAIM,
  TEST_ISSUER,
  verifierOptions,
} from "./assertion-support";

afterEach(() => vi.restoreAllMocks());

/** The per-run test key (vitest.config.ts). */
const TEST_JWK = JSON.parse(env.ASSERTION_PRIVATE_JWK as string) as { kid: string; x: string; d: string };
const TEST_KID = TEST_JWK.kid;

async function gateToEcho(name: string, path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(`https://localhost${path}`, { ...init, headers: { ...bearer(await mintToken(name)), ...(init.headers as object) } });
}

/** The gate's assertion for one request, and the request exactly as the origin received it. */
async function issued(name = "deployer", path = "/items/42?view=full", method = "GET") {
  const res = await gateToEcho(name, path, { method });
  expect(res.status).toBe(200);
  const echo = (await res.json()) as Echo;
  // The echo origin (which verified it) shows what it received; rebuild that request here.
  const request = new Request(echo.url, { method: echo.method, headers: echo.headers });
  return { echo, request, assertion: echo.headers["x-caller-assertion"]! };
}

async function refusal(promise: Promise<unknown>): Promise<CallerVerificationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CallerVerificationError);
  return error as CallerVerificationError;
}

describe("the gate signs every forwarded request; the echo origin verifies it", () => {
  it("forwards an assertion the origin accepts, naming the caller and the request at the origin", async () => {
    const token = await mintToken("deployer");
    // The gate's clock, injected: iat is read from it, exactly, rather than compared with a real
    // clock within a tolerance. (Only Date is faked; timers run as usual.)
    const at = Math.floor(Date.now() / 1000) * 1000 + 400;
    vi.useFakeTimers({ toFake: ["Date"], now: at });
    let res: Response;
    try {
      res = await exports.default.fetch("https://localhost/items/42?view=full&x=%2F", { method: "POST", body: "b", headers: bearer(token) });
    } finally {
      vi.useRealTimers();
    }
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.url).toBe("http://echo-origin.local/base/items/42?view=full&x=%2F");
    expect(echo.caller).toMatchObject({
      arn: "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42",
      principal: "arn:aws:iam::111122223333:role/deployer",
      account: "111122223333",
      userId: "AROAEMULATORDEPLOYER1:ci-run-42",
      principalType: "assumed-role",
    });

    const { header, claims } = decodeAssertion(echo.headers["x-caller-assertion"]!);
    expect(header).toEqual({ alg: "EdDSA", kid: TEST_KID, typ: "sts-gate-caller+jwt" });
    expect(claims).toMatchObject({
      iss: TEST_ISSUER,
      aud: TEST_AUDIENCE_CLAIM,
      sub: "arn:aws:iam::111122223333:role/deployer",
      arn: "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42",
      account: "111122223333",
      user_id: "AROAEMULATORDEPLOYER1:ci-run-42",
      principal_type: "assumed-role",
      htm: "POST",
      // The path at the origin: ORIGIN_URL's /base prefix included, query as sent.
      htu: "/base/items/42?view=full&x=%2F",
    });
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(claims.iat).toBe(Math.floor(at / 1000));
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(echo.caller.jti).toBe(claims.jti);
  });

  it("issues a fresh jti for every request", async () => {
    const a = await issued();
    const b = await issued();
    expect(decodeAssertion(a.assertion).claims.jti).not.toBe(decodeAssertion(b.assertion).claims.jti);
  });

  it("the echo origin refuses a request that did not come through the gate: 401 problem+json", async () => {
    const forged = await env.ORIGIN.fetch("http://echo-origin.local/base/x", {
      headers: { "x-caller-arn": "arn:aws:iam::111122223333:role/admin", "x-caller-principal": "arn:aws:iam::111122223333:role/admin" },
    });
    expect(forged.status).toBe(401);
    expect(forged.headers.get("content-type")).toBe("application/problem+json");
    expect(forged.headers.get("www-authenticate")).toBe('Caller-Assertion error="assertion_missing"');
    expect(await forged.json()).toMatchObject({ code: "assertion_missing", status: 401, type: "urn:sts-gate:problem:assertion_missing" });
  });

  it("the origin accepts the assertion for exactly the request it was issued for", async () => {
    const { request, assertion } = await issued();
    const res = await env.ORIGIN.fetch(asReceived(request, { assertion }));
    expect(res.status).toBe(200);
  });

  it.each([
    ["another method", { method: "DELETE" }],
    ["another path", { url: "http://echo-origin.local/base/items/43?view=full" }],
    ["the path without the ORIGIN_URL prefix", { url: "http://echo-origin.local/items/42?view=full" }],
    ["another query", { url: "http://echo-origin.local/base/items/42?view=full&admin=1" }],
    ["no query", { url: "http://echo-origin.local/base/items/42" }],
  ])("refuses the assertion replayed on %s: assertion_wrong_request", async (_why, change) => {
    const { request, assertion } = await issued();
    const replay = asReceived(request, { ...change, assertion });
    const res = await env.ORIGIN.fetch(replay);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe("assertion_wrong_request");
    const jwks = await gateJwks(env);
    expect((await refusal(verifyCaller(replay, verifierOptions(jwks)))).code).toBe("assertion_wrong_request");
  });

  it.each([
    ["a claim changed (principal)", (jwt: string) => tamperClaims(jwt, { sub: "arn:aws:iam::111122223333:role/admin" })],
    ["a claim changed (htu)", (jwt: string) => tamperClaims(jwt, { htu: "/base/admin" })],
    ["the signature changed", (jwt: string) => jwt.slice(0, -2) + (jwt.endsWith("AA") ? "BA" : "AA")],
    ["the header changed to alg none", (jwt: string) => `${b64json({ alg: "none", typ: "sts-gate-caller+jwt" })}.${jwt.split(".")[1]}.`],
    ["garbage", () => "not-a-jwt"],
  ])("refuses a tampered assertion (%s): assertion_invalid", async (_why, tamper) => {
    const { request, assertion } = await issued();
    const res = await env.ORIGIN.fetch(asReceived(request, { assertion: tamper(assertion) }));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe("assertion_invalid");
  });

  it("refuses an expired assertion: 60 s lifetime plus 30 s clock tolerance", async () => {
    const { request, assertion } = await issued();
    const { exp } = decodeAssertion(assertion).claims;
    const jwks = await gateJwks(env);
    const at = (s: number) => verifierOptions(jwks, { now: () => (exp! + s) * 1000 });
    await expect(verifyCaller(request, at(29))).resolves.toMatchObject({ principal: "arn:aws:iam::111122223333:role/deployer" });
    expect((await refusal(verifyCaller(request, at(31)))).code).toBe("assertion_expired");
    expect((await refusal(verifyCaller(request, verifierOptions(jwks, { now: () => (exp! + 1) * 1000, clockToleranceSeconds: 0 })))).code).toBe(
      "assertion_expired",
    );
  });

  it("refuses an assertion for another audience or from another issuer", async () => {
    const { request } = await issued();
    const jwks = await gateJwks(env);
    expect((await refusal(verifyCaller(request, verifierOptions(jwks, { audience: "https://other-origin.example" })))).code).toBe(
      "assertion_wrong_audience",
    );
    expect((await refusal(verifyCaller(request, verifierOptions(jwks, { issuer: "urn:sts-gate:another-gate" })))).code).toBe(
      "assertion_wrong_issuer",
    );
  });

  it("an origin refuses a gate configured for another audience (ASSERTION_AUDIENCE), and the client sees its 401", async () => {
    const res = await gateEnvTo({ ASSERTION_AUDIENCE: "https://payments.internal" });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe("assertion_wrong_audience");
    const res2 = await gateEnvTo({ ASSERTION_ISSUER: "urn:sts-gate:someone-else" });
    expect(((await res2.json()) as { code: string }).code).toBe("assertion_wrong_issuer");
  });

  it("HEAD and bodies keep working through the verifying origin", async () => {
    const head = await gateToEcho("alice", "/h", { method: "HEAD" });
    expect(head.status).toBe(200);
    const put = await gateToEcho("alice", "/p", { method: "PUT", body: "payload" });
    expect(((await put.json()) as Echo).body).toBe("payload");
  });
});

describe("GET /.well-known/jwks.json", () => {
  it("serves the public key without authentication, cacheable, and never a private part", async () => {
    const res = await exports.default.fetch("https://localhost/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(res.headers.get("content-type")).toBe("application/json");
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      keys: [{ kty: "OKP", crv: "Ed25519", x: TEST_JWK.x, kid: TEST_KID, alg: "EdDSA", use: "sig" }],
    });
    expect(text).not.toContain('"d"');
    // The private half of the key this gate signs with (the per-run key, vitest.config.ts).
    expect(TEST_JWK.d).toMatch(/^[\w-]{43}$/);
    expect(text).not.toContain(TEST_JWK.d);
  });

  it("answers HEAD, and leaves the path's other methods to the authenticated origin", async () => {
    const head = await exports.default.fetch("https://localhost/.well-known/jwks.json", { method: "HEAD" });
    expect(head.status).toBe(200);
    const post = await exports.default.fetch("https://localhost/.well-known/jwks.json", { method: "POST" });
    expect(post.status).toBe(401);
  });

  it("is answered before authentication: a junk Authorization header is ignored, and its line names the route, not a caller", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const res = await exports.default.fetch("https://localhost/.well-known/jwks.json", { headers: { authorization: "Bearer junk" } });
    expect(res.status).toBe(200);
    const lines = log.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('"decision"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([expect.objectContaining({ outcome: "allow", route: "jwks", status: 200, requestId: res.headers.get("x-request-id") })]);
    expect(lines[0]).not.toHaveProperty("code");
    expect(lines[0]).not.toHaveProperty("accessKeyId");
  });

  it("the keys it publishes verify what the gate signs (static key set built from it)", async () => {
    const { request } = await issued("alice", "/a?b=c");
    const caller = await verifyCaller(request, verifierOptions(localSet(await gateJwks(env))));
    expect(caller.principal).toBe("arn:aws:iam::111122223333:user/alice");
    expect(caller.principalType).toBe("user");
    expect(caller.expiresAt.getTime() - caller.issuedAt.getTime()).toBe(60_000);
  });
});

// --- helpers ---

function gateEnvTo(patch: object): Promise<Response> {
  return callAs("alice", { ...env, ...patch }, "/x");
}

function b64json(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function tamperClaims(jwt: string, patch: Record<string, unknown>): string {
  const [h, p, s] = jwt.split(".");
  const claims = JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
  return `${h}.${b64json({ ...claims, ...patch })}.${s}`;
}
