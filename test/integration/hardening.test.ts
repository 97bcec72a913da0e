import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { verifyCaller } from "../../src/origin";
import { REVOCATIONS_PATH } from "../../src/revocation/paths";
import { countedEnv, linesDuring, problemCode, through, type Echo } from "../support/gate";
import { ADMIN_POLICY, ALICE, clearRevocations } from "../support/revocation";
import { bearer, mintToken } from "../support/tokens";
import { gateJwks, verifierOptions } from "./assertion-support";

/**
 * The red-team round against real PHP and servlet origins (ATTACKS #31–#33, and the request
 * path's edges), through the Worker in workerd with the echo origin. The same classes against a
 * real PHP origin and a servlet-style origin: test/origins/.
 */
afterEach(() => vi.restoreAllMocks());

async function aliceHeaders(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return { ...(bearer(await mintToken("alice")) as Record<string, string>), ...extra };
}

/** Every HTTP token character besides letters, digits, `-` and `_`: each is a way to spell a name PHP reads otherwise. */
const TOKEN_PUNCTUATION = ["!", "#", "$", "%", "&", "'", "*", "+", ".", "^", "`", "|", "~"];

describe("headerNameCharset: names PHP rewrites never reach the origin (ATTACKS #31)", () => {
  it.each(TOKEN_PUNCTUATION)("drops X-Caller%sArn, a spelling of the identity header", async (c) => {
    const { env: testEnv, calls } = countedEnv();
    const res = await through(createGateApp(), testEnv, "https://localhost/x", { headers: await aliceHeaders({ [`X-Caller${c}Arn`]: "arn:aws:iam::111122223333:role/admin" }) });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(calls.origin).toBe(1);
    expect(JSON.stringify(echo.headers)).not.toContain("role/admin");
    expect(echo.headers["x-caller-arn"]).toBe(ALICE);
  });

  it.each([
    ["the method override", "X.HTTP.Method.Override", "DELETE"],
    ["the URL override", "X.Original.URL", "/admin"],
    ["a forwarding header", "X-Forwarded.Host", "evil.example"],
    ["the request id", "X.Request.Id", "forged-id"],
    ["an ordinary header (the class, not a list)", "X-Trace.Id", "t-1"],
  ])("drops %s spelled with dots (%s)", async (_what, name, value) => {
    const echo = (await (await exports.default.fetch("https://localhost/items", { method: "POST", body: "x", headers: await aliceHeaders({ [name]: value }) })).json()) as Echo;
    expect(echo.method).toBe("POST");
    expect(echo.url).toBe("http://echo-origin.local/base/items");
    expect(Object.keys(echo.headers).filter((h) => /[^a-z0-9_-]/.test(h))).toEqual([]);
    expect(Object.values(echo.headers)).not.toContain(value);
  });

  it("keeps names of letters, digits, '-' and '_'", async () => {
    const echo = (await (await exports.default.fetch("https://localhost/x", { headers: await aliceHeaders({ "x-custom-1": "a", x_trace_2: "b" }) })).json()) as Echo;
    expect(echo.headers["x-custom-1"]).toBe("a");
    expect(echo.headers["x_trace_2"]).toBe("b");
  });
});

describe("noMethodOverrideParameter after PHP's name mangling (ATTACKS #31)", () => {
  it.each([
    [".method=DELETE", "'.' becomes '_'"],
    ["%2Emethod=DELETE", "an escaped '.'"],
    ["%20_method=DELETE", "a leading space is dropped"],
    ["+_method=DELETE", "'+' is a space"],
    ["%20%20.method=DELETE", "spaces, then a dot"],
    ["_method%00=DELETE", "the name ends at NUL"],
    ["_method%00junk=DELETE", "anything after NUL is lost"],
    ["_method[]=DELETE", "an array named _method"],
    ["_method[x]=DELETE", "an indexed array named _method"],
    ["_METHOD%5B%5D=DELETE", "an escaped array in upper case"],
    ["_me%74hod=DELETE", "an escaped letter"],
    ["a=1&.method=PUT", "after another parameter"],
  ])("refuses POST ?%s (%s) with 400 method_override; nothing reaches STS or the origin", async (query) => {
    const { env: testEnv, calls } = countedEnv();
    const res = await through(createGateApp(), testEnv, `https://localhost/deploy/app?${query}`, { method: "POST", body: "x", headers: await aliceHeaders() });
    expect(res.status).toBe(400);
    expect(await problemCode(res)).toBe("method_override");
    expect(calls.origin).toBe(0);
  });

  it.each([["x.y=1"], ["method=fast"], ["a[b]=1"], ["_methods=1"], ["my_method=1"]])("forwards ?%s: it names no override", async (query) => {
    const echo = (await (await exports.default.fetch(`https://localhost/items?${query}`, { headers: await aliceHeaders() })).json()) as Echo;
    expect(echo.url).toBe(`http://echo-origin.local/base/items${new URL(`https://localhost/items?${query}`).search}`);
  });
});

describe("noPathParameters: a ';' path matches no path glob (ATTACKS #32)", () => {
  const POLICY = { rules: [{ name: "pdfs", methods: ["GET"], paths: ["/files/*.pdf"], allow: [ALICE] }] };

  it.each([
    ["/files/salaries.xlsx;.pdf"],
    ["/files/salaries.xlsx;x=1.pdf"],
    ["/files/salaries.xlsx%3b.pdf"],
    ["/files/salaries.xlsx%3B.pdf"],
    ["/files;/report.pdf"],
    ["/files/report.pdf;"],
  ])("denies GET %s under paths = ['/files/*.pdf']: 403, never forwarded", async (path) => {
    const { env: testEnv, calls } = countedEnv({ POLICY });
    const res = await through(createGateApp(), testEnv, `https://localhost${path}`, { headers: await aliceHeaders() });
    expect(res.status).toBe(403);
    expect(await problemCode(res)).toBe("policy_denied");
    expect(calls.origin).toBe(0);
  });

  it("still allows the plain spelling", async () => {
    const { env: testEnv, calls } = countedEnv({ POLICY });
    const res = await through(createGateApp(), testEnv, "https://localhost/files/report.pdf", { headers: await aliceHeaders() });
    expect(res.status).toBe(200);
    expect(calls.origin).toBe(1);
  });
});

describe("gatePrefix: every spelling of the prefix is the gate's (ATTACKS #24, #32)", () => {
  it.each([
    ["/.well-known/sts-gate;/revocations"],
    ["/.well-known;/sts-gate/revocations"],
    ["/.well-known/sts-gate;x=1/revocations"],
    ["/.well-known/sts-gate%3b/revocations"],
    ["/.well-known/sts-gate%00/revocations"],
    ["/.well-known/sts-gate./revocations"],
    ["/.well-known./sts-gate/revocations"],
    ["/.well-known/%C5%BFts-gate/revocations"],
    ["/.well-known/STS-GATE;/x"],
    ["/.../.well-known/sts-gate/revocations"],
    ["/;x/.well-known/sts-gate/revocations"],
    ["/.well-known/%73ts-gate/revocations/%zz"],
  ])("%s: 404 not_found from the gate, with a token; never forwarded", async (path) => {
    const { env: testEnv, calls } = countedEnv();
    const headers = await aliceHeaders();
    const { result: res, decisions } = await linesDuring(() => through(createGateApp(), testEnv, `https://localhost${path}`, { headers }));
    expect(res.status).toBe(404);
    expect(await problemCode(res)).toBe("not_found");
    expect(calls).toEqual({ sts: 0, origin: 0 });
    expect(decisions).toEqual([expect.objectContaining({ status: 404, code: "not_found", requestId: res.headers.get("x-request-id") })]);
  });
});

describe("rawTargetBinding: the origin verifier compares the raw target (ATTACKS #33)", () => {
  async function issuedFor(path: string) {
    const res = await exports.default.fetch(`https://localhost${path}`, { headers: await aliceHeaders() });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    return { echo, assertion: echo.headers["x-caller-assertion"]! };
  }

  /** A Node origin's view of a request: its raw `req.url`. */
  const nodeRequest = (url: string, assertion: string) => ({ method: "GET", url, headers: { get: (n: string) => (n.toLowerCase() === "x-caller-assertion" ? assertion : null) } });

  it("an assertion for GET /base/public/x does not pass for /base/admin/../public/x, which Express routes to /base/admin", async () => {
    const { assertion } = await issuedFor("/public/x");
    const options = verifierOptions(await gateJwks(env));
    await expect(verifyCaller(nodeRequest("/base/public/x", assertion), options)).resolves.toMatchObject({ arn: ALICE });
    for (const replay of ["/base/admin/../public/x", "/base/admin/%2e%2e/public/x", "/base/./public/x", "/base/admin\\..\\public/x"]) {
      await expect(verifyCaller(nodeRequest(replay, assertion), options), replay).rejects.toMatchObject({ code: "assertion_wrong_request" });
    }
  });

  // The gate serialises every URL it forwards, so what it sends never has a dot segment or a
  // backslash: the verifying echo origin (which compares the raw target) accepts each of these.
  it.each([["/a/./b"], ["/a/%2e/b"], ["/a/b/.."], ["/a/%2E%2E/b"], ["/a\\b"], ["/a/b;c"], ["/a?x=../y"], ["/a?x=%5C"], ["/caf%C3%A9"], ["/a%20b"], ["/.../x"], ["/a/.x/"]])(
    "the gate forwards %s as a target the raw comparison accepts",
    async (path) => {
      const { echo, assertion } = await issuedFor(path);
      const target = echo.url.slice("http://echo-origin.local".length);
      expect(target.split("?")[0]!.split("/")).not.toContain("..");
      await expect(verifyCaller(nodeRequest(target, assertion), verifierOptions(await gateJwks(env)))).resolves.toMatchObject({ arn: ALICE });
    },
  );
});

describe("WebSocket upgrades pass the gate", () => {
  it("a requested upgrade answers 101 with the origin's socket, on the caller's identity", async () => {
    const res = await exports.default.fetch("https://localhost/socket", { headers: await aliceHeaders({ upgrade: "websocket" }) });
    expect(res.status).toBe(101);
    const socket = res.webSocket!;
    expect(socket).toBeTruthy();
    socket.accept();
    const reply = new Promise<string>((done) => socket.addEventListener("message", (event) => done(String(event.data))));
    socket.send("ping");
    expect(await reply).toBe(`${ALICE}: ping`);
    socket.close();
  });
});

describe("decision lines carry the status the client got, on the gate's own routes too", () => {
  afterEach(clearRevocations);

  async function admin(method: string, path: string, body?: string) {
    const { env: testEnv } = countedEnv({ POLICY: ADMIN_POLICY });
    const headers = await aliceHeaders(body === undefined ? {} : { "content-type": "application/json" });
    return linesDuring(() => through(createGateApp(), testEnv, `https://localhost${path}`, { method, headers, body }));
  }

  it.each([
    ["a created revocation", "POST", REVOCATIONS_PATH, JSON.stringify({ accessKeyId: "AKIAEMULATORNOBODY01", reason: "test" }), 201, undefined, "allow"],
    ["a body that is not JSON", "POST", REVOCATIONS_PATH, "{", 400, "body_not_json", "deny"],
    ["an unknown revocation", "DELETE", `${REVOCATIONS_PATH}/00000000-0000-4000-8000-000000000000`, undefined, 404, "revocation_not_found", "deny"],
    ["the list", "GET", REVOCATIONS_PATH, undefined, 200, undefined, "allow"],
    ["a method the path does not take", "PUT", REVOCATIONS_PATH, undefined, 405, "method_not_allowed", "deny"],
    ["a path the gate does not have", "GET", "/.well-known/sts-gate/nothing", undefined, 404, "not_found", "deny"],
  ])("%s: %s %s answers %i, and its one line says so", async (_what, method, path, body, status, code, outcome) => {
    const { result: res, decisions } = await admin(method as string, path as string, body as string | undefined);
    expect(res.status).toBe(status);
    expect(res.headers.get("x-request-id")).toMatch(/.+/);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ status, outcome, requestId: res.headers.get("x-request-id") });
    expect(decisions[0]!.code).toBe(code);
    if (status === 405) expect(res.headers.get("allow")).toBe("GET, POST");
  });

  it("the revocation API while off: 404, with a line and a request id", async () => {
    const { result: res, decisions } = await linesDuring(() => through(createGateApp(), env, `https://localhost${REVOCATIONS_PATH}`, { headers: {} }));
    expect(res.status).toBe(404);
    expect(decisions).toEqual([expect.objectContaining({ status: 404, code: "not_found", requestId: res.headers.get("x-request-id") })]);
  });
});

describe("health is 503 exactly when requests are refused as misconfigured", () => {
  // The test env binds the STS emulator: development wiring, which serves only loopback hosts.
  it.each([["localhost"], ["127.0.0.1"], ["[::1]"]])("on %s (development wiring is served): 200, and a request is served", async (host) => {
    const health = await through(createGateApp(), env, `https://${host}/.well-known/sts-gate/health`);
    expect(health.status).toBe(200);
    const res = await through(createGateApp(), env, `https://${host}/x`, { headers: await aliceHeaders() });
    expect(res.status).toBe(200);
  });

  it.each([["gate.example.com"], ["localhost.example.com"]])("on %s with development wiring: 503 misconfigured, as every request there", async (host) => {
    const health = await through(createGateApp(), env, `https://${host}/.well-known/sts-gate/health`);
    expect(health.status).toBe(503);
    expect(await problemCode(health)).toBe("misconfigured");
    const res = await through(createGateApp(), env, `https://${host}/x`, { headers: await aliceHeaders() });
    expect(res.status).toBe(500);
    expect(await problemCode(res)).toBe("misconfigured");
  });
});
