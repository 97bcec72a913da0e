import { env } from "cloudflare:workers";
import { decodeJwt, type JSONWebKeySet } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { VERIFY_PATH } from "../../src/gate/routes";
import { verifyCaller } from "../../src/origin";
import { countedEnv, linesDuring, problemCode, through } from "../support/gate";
import { ADMIN_POLICY, clearRevocations, DEPLOYER_KEY, DEPLOYER_SESSION, revoke } from "../support/revocation";
import { bearer, mintToken } from "../support/tokens";
import { TEST_AUDIENCE_CLAIM, TEST_ISSUER } from "./assertion-support";

/**
 * Forward-auth at /.well-known/sts-gate/verify (issue 21): off by default; when on, the token is
 * decided with the policy against the method and URI the fronting proxy names, in either header
 * convention; 200 with identity headers (and the assertion bound to that method and URI), or the
 * usual refusal; nothing forwarded, one decision line with mode forward-auth.
 */
const ALICE = "arn:aws:iam::111122223333:user/alice";
const POLICY = {
  rules: [
    { name: "reports", methods: ["GET"], paths: ["/reports/**"], allow: [ALICE] },
    { name: "deploy", methods: ["POST"], paths: ["/deploy/**"], allow: ["arn:aws:iam::111122223333:role/deployer"] },
  ],
  admins: ADMIN_POLICY.admins,
};
const VERIFY = `https://localhost${VERIFY_PATH}`;

function onEnv(overrides: Record<string, unknown> = {}) {
  return countedEnv({ FORWARD_AUTH: "true", POLICY, ...overrides });
}

const forwarded = (method: string, uri: string) => ({ "x-forwarded-method": method, "x-forwarded-uri": uri });
const original = (method: string, uri: string) => ({ "x-original-method": method, "x-original-uri": uri });

async function ask(testEnv: object, who: string | undefined, headers: Record<string, string>, init: RequestInit = {}) {
  const auth = who === undefined ? {} : (bearer(await mintToken(who)) as Record<string, string>);
  return through(createGateApp(), testEnv, VERIFY, { ...init, headers: { ...auth, ...headers } });
}

afterEach(clearRevocations);

describe("forward-auth: off by default", () => {
  it("answers 404 not_found while off, before any token work, like any unknown gate path", async () => {
    const { env: testEnv, calls } = countedEnv({ POLICY });
    const res = await ask(testEnv, "alice", forwarded("GET", "/reports/1"));
    expect(res.status).toBe(404);
    expect(await problemCode(res)).toBe("not_found");
    expect(calls).toEqual({ sts: 0, origin: 0 });
    const unknown = await through(createGateApp(), testEnv, "https://localhost/.well-known/sts-gate/nothing");
    expect(await unknown.json()).toMatchObject({ code: "not_found", detail: ((await res.clone().json()) as { detail: string }).detail });
  });

  it.each([["false"], [false]])("stays off with FORWARD_AUTH = %j", async (value) => {
    const res = await ask(onEnv({ FORWARD_AUTH: value }).env, "alice", forwarded("GET", "/reports/1"));
    expect(res.status).toBe(404);
  });

  it("refuses a FORWARD_AUTH that is neither true nor false as a configuration error", async () => {
    const res = await ask(onEnv({ FORWARD_AUTH: "yes" }).env, "alice", forwarded("GET", "/reports/1"));
    expect(await problemCode(res)).toBe("misconfigured");
  });

  it("refuses FORWARD_AUTH beside APPS: each app has its own forwardAuth", async () => {
    const APPS = [{ name: "a", hosts: ["localhost"], audience: "a-aud", originUrl: "http://a.internal", policy: { allow: [ALICE] } }];
    const res = await ask({ ...env, AUDIENCE: undefined, ORIGIN_URL: undefined, POLICY: undefined, APPS, FORWARD_AUTH: "true" }, "alice", forwarded("GET", "/x"));
    expect(await problemCode(res)).toBe("misconfigured");
  });
});

describe("forward-auth: allowed", () => {
  it.each([
    ["X-Forwarded-Method and X-Forwarded-Uri (Traefik, Caddy)", forwarded("GET", "/reports/q1?format=csv")],
    ["X-Original-Method and X-Original-URI (nginx auth_request)", original("GET", "/reports/q1?format=csv")],
    ["both conventions, agreeing", { ...forwarded("GET", "/reports/q1?format=csv"), ...original("GET", "/reports/q1?format=csv") }],
  ])("%s: 200, empty body, identity headers, nothing forwarded, one forward-auth line", async (_name, headers) => {
    const { env: testEnv, calls } = onEnv();
    const { result: res, decisions } = await linesDuring(() => ask(testEnv, "alice", headers));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.text()).toBe("");
    expect(res.headers.get("x-caller-arn")).toBe(ALICE);
    expect(res.headers.get("x-caller-principal")).toBe(ALICE);
    expect(res.headers.get("x-caller-account")).toBe("111122223333");
    expect(res.headers.get("x-caller-user-id")).toMatch(/^AIDA/);
    expect(res.headers.get("x-caller-type")).toBe("user");
    expect(calls.origin).toBe(0);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ mode: "forward-auth", outcome: "allow", rule: "reports", method: "GET", path: "/reports/q1", status: 200 });
  });

  it("signs an assertion bound to the forwarded method and the URI exactly as given", async () => {
    const { env: testEnv } = onEnv();
    const uri = "/reports/q%31?format=csv&x=%2F";
    const res = await ask(testEnv, "alice", original("GET", uri));
    expect(res.status).toBe(200);
    const assertion = res.headers.get("x-caller-assertion");
    expect(assertion).not.toBeNull();
    expect(decodeJwt(assertion!)).toMatchObject({ htm: "GET", htu: uri, arn: ALICE });
    const jwks = (await (await through(createGateApp(), testEnv, "https://localhost/.well-known/jwks.json")).json()) as JSONWebKeySet;
    // The origin behind the proxy verifies it as the request it received: that method and URI.
    const atOrigin = new Request(`http://echo-origin.local${uri}`, { headers: { "x-caller-assertion": assertion! } });
    await expect(verifyCaller(atOrigin, { jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE_CLAIM })).resolves.toMatchObject({ arn: ALICE });
  });

  it("carries no assertion without a signing key", async () => {
    const res = await ask(onEnv({ ASSERTION_PRIVATE_JWK: undefined }).env, "alice", forwarded("GET", "/reports/1"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-caller-assertion")).toBeNull();
  });

  it("decides on the forwarded method and path, not the gate's own", async () => {
    const { env: testEnv } = onEnv();
    // The gate's own request is GET /.well-known/sts-gate/verify; the deploy rule needs POST /deploy/…
    const res = await ask(testEnv, "deployer", forwarded("POST", "/deploy/prod"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-caller-arn")).toBe(DEPLOYER_SESSION);
    expect((await ask(testEnv, "deployer", forwarded("GET", "/deploy/prod"))).status).toBe(403);
    expect((await ask(testEnv, "alice", forwarded("GET", "/deploy/prod"))).status).toBe(403);
    // A method in lower case is read as fetch reads a request's.
    expect((await ask(testEnv, "alice", forwarded("get", "/reports/1"))).status).toBe(200);
  });

  it("refuses a URI with a dot segment or a backslash: a raw-routing origin reads it as written, the gate as resolved", async () => {
    const { env: testEnv } = onEnv();
    for (const uri of ["/reports/../deploy/x", "/deploy/../reports/x", "/deploy/x/%2e%2e/%2e%2e/reports/y", "/deploy/./x", "/reports\\..\\deploy"]) {
      const res = await ask(testEnv, "alice", forwarded("GET", uri));
      expect(res.status, uri).toBe(400);
      expect(await problemCode(res), uri).toBe("original_request_ambiguous");
    }
  });

  it("refuses a method override in the forwarded URI's query or in the request's headers, in any spelling", async () => {
    const { env: testEnv } = onEnv();
    for (const uri of ["/reports/1?_method=DELETE", "/reports/1?.method=DELETE", "/reports/1?_method%00=DELETE"]) {
      const res = await ask(testEnv, "alice", forwarded("POST", uri));
      expect(res.status, uri).toBe(400);
      expect(await problemCode(res), uri).toBe("method_override");
    }
    for (const name of ["X-HTTP-Method-Override", "x_http_method", "X.Method.Override", "X-Original-URL", "X-Rewrite-URL"]) {
      const res = await ask(testEnv, "alice", { ...forwarded("GET", "/reports/1"), [name]: "DELETE" });
      expect(res.status, name).toBe(400);
      expect(await problemCode(res), name).toBe("method_override");
    }
  });

  it("refuses another spelling of an X-Caller header, which the proxy would pass to the origin (rule forwardAuthNoCallerAliases)", async () => {
    const { env: testEnv } = onEnv();
    for (const name of ["X-Caller_User", "X_Caller-Arn", "x_caller_role", "X-Caller.Permission-Set", "X.CALLER.ARN"]) {
      const res = await ask(testEnv, "alice", { ...forwarded("GET", "/reports/1"), [name]: "ceo@example.com" });
      expect(res.status, name).toBe(400);
      expect(await problemCode(res), name).toBe("caller_header_alias");
    }
    // The names as the gate spells them are the proxy's to clear or overwrite (the documented
    // configurations do): they are not a reason to refuse, and the gate's answer carries its own.
    const exact = await ask(testEnv, "alice", { ...forwarded("GET", "/reports/1"), "X-Caller-User": "ceo@example.com" });
    expect(exact.status).toBe(200);
    expect(exact.headers.get("x-caller-user")).toBeNull();
    // A name that only contains the word is not an identity header.
    expect((await ask(testEnv, "alice", { ...forwarded("GET", "/reports/1"), "X-Callerid": "1" })).status).toBe(200);
  });

  it("reads the path as the runtime reads a request's: the query is not the path", async () => {
    const { env: testEnv } = onEnv();
    expect((await ask(testEnv, "alice", forwarded("GET", "/other?next=/reports/x"))).status).toBe(403);
    // Never another host: a scheme-relative spelling is a path on the gate's base.
    expect((await ask(testEnv, "alice", forwarded("GET", "//reports/x"))).status).toBe(403);
    expect((await ask(testEnv, "alice", forwarded("GET", "//elsewhere/reports/x"))).status).toBe(403);
  });
});

describe("forward-auth: refused", () => {
  it("a missing token: 401 problem+json with WWW-Authenticate, nothing forwarded", async () => {
    const { env: testEnv, calls } = onEnv();
    const { result: res, decisions } = await linesDuring(() => ask(testEnv, undefined, forwarded("GET", "/reports/1")));
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="sts-gate"');
    expect(res.headers.get("x-caller-arn")).toBeNull();
    expect(calls.origin).toBe(0);
    expect(decisions[0]).toMatchObject({ mode: "forward-auth", outcome: "deny", code: "authorization_missing" });
  });

  it("a bad token: 401 invalid_token", async () => {
    const res = await ask(onEnv().env, undefined, { ...forwarded("GET", "/reports/1"), authorization: "Bearer k8s-aws-v1.junk!" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
  });

  it("a caller the policy refuses there: 403 policy_denied with WWW-Authenticate insufficient_scope, no identity headers", async () => {
    const res = await ask(onEnv().env, "alice", forwarded("DELETE", "/reports/1"));
    expect(res.status).toBe(403);
    expect(await problemCode(res)).toBe("policy_denied");
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", error_description="policy_denied"');
    expect(res.headers.get("x-caller-arn")).toBeNull();
  });

  it("a revoked key: 403 revoked", async () => {
    const { env: testEnv } = onEnv();
    const gate = createGateApp();
    expect((await revoke(gate, testEnv, { accessKeyId: DEPLOYER_KEY, reason: "forward-auth test" })).status).toBe(201);
    const res = await through(gate, testEnv, VERIFY, { headers: { ...(bearer(await mintToken("deployer")) as Record<string, string>), ...forwarded("POST", "/deploy/x") } });
    expect(await problemCode(res)).toBe("revoked");
  });

  it.each([
    ["no headers at all", {}],
    ["a method without a URI", { "x-forwarded-method": "GET" }],
    ["a URI without a method", { "x-original-uri": "/reports/1" }],
    ["a URI that is not a path", forwarded("GET", "https://elsewhere/reports/1")],
    ["a method that is not one", forwarded("GET /x", "/reports/1")],
  ])("%s: 400 original_request_missing, before STS", async (_name, headers) => {
    const { env: testEnv, calls } = onEnv();
    const { result: res, decisions } = await linesDuring(() => ask(testEnv, "alice", headers));
    expect(res.status).toBe(400);
    expect(await problemCode(res)).toBe("original_request_missing");
    expect(calls.sts).toBe(0);
    expect(decisions[0]).toMatchObject({ mode: "forward-auth", code: "original_request_missing" });
  });

  it.each([
    ["different URIs", { ...forwarded("GET", "/reports/1"), ...original("GET", "/deploy/1") }],
    ["different methods", { ...forwarded("GET", "/reports/1"), ...original("POST", "/reports/1") }],
    ["one convention complete, the other half there", { ...forwarded("GET", "/reports/1"), "x-original-uri": "/reports/1" }],
  ])("both conventions with %s: 400 original_request_ambiguous", async (_name, headers) => {
    const res = await ask(onEnv().env, "alice", headers);
    expect(res.status).toBe(400);
    expect(await problemCode(res)).toBe("original_request_ambiguous");
  });
});

describe("forward-auth: per app", () => {
  it("answers only on the hosts of an app with forwardAuth = true", async () => {
    const APPS = [
      { name: "on", hosts: ["on.localhost"], audience: "on-aud", originUrl: "http://on.internal", policy: { allow: [ALICE] }, forwardAuth: true },
      { name: "off", hosts: ["off.localhost"], audience: "off-aud", originUrl: "http://off.internal", policy: { allow: [ALICE] } },
    ];
    const appsEnv = { ...env, AUDIENCE: undefined, ORIGIN_URL: undefined, POLICY: undefined, APPS };
    const gate = createGateApp();
    const on = await through(gate, appsEnv, `https://on.localhost${VERIFY_PATH}`, { headers: { ...(bearer(await mintToken("alice", { audience: "on-aud" })) as Record<string, string>), ...forwarded("GET", "/x") } });
    expect(on.status).toBe(200);
    const off = await through(gate, appsEnv, `https://off.localhost${VERIFY_PATH}`, { headers: { ...(bearer(await mintToken("alice", { audience: "off-aud" })) as Record<string, string>), ...forwarded("GET", "/x") } });
    expect(off.status).toBe(404);
  });
});
