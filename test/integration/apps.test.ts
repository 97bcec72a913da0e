import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { verifyCaller } from "../../src/origin";
import { REVOCATIONS_PATH } from "../../src/revocation/paths";
import { linesDuring, problemCode, through } from "../support/gate";
import { clearRevocations } from "../support/revocation";
import { bearer, mintToken } from "../support/tokens";

/**
 * Many apps behind one gate (APPS, ATTACKS #26 and #30), through the Worker: four apps on exact
 * and wildcard hosts and path prefixes, each with its own audience, origin and policy. The
 * origin binding records what reaches it, so the test sees which app's origin got each request.
 */
const A = "111122223333";
const ALICE = `arn:aws:iam::${A}:user/alice`;
const DEPLOYER = `arn:aws:iam::${A}:role/deployer`;

const APPS = [
  { name: "api", hosts: ["api.localhost"], audience: "api-aud", originUrl: "http://api.internal/v1", policy: { allow: [ALICE] } },
  { name: "docs", hosts: ["api.localhost"], pathPrefix: "/docs", audience: "docs-aud", originUrl: "http://docs.internal", policy: { allow: [DEPLOYER] }, publicPaths: ["/docs/public/**", "/docs/health"] },
  { name: "tools", hosts: ["*.tools.localhost"], audience: "tools-aud", originUrl: "http://tools.internal", policy: { allow: [ALICE, DEPLOYER] }, assertionAudience: "urn:tools" },
  { name: "exact-tool", hosts: ["special.tools.localhost"], audience: "exact-aud", originUrl: "http://exact.internal", policy: { allow: [ALICE] } },
  { name: "reports", hosts: ["api.localhost"], pathPrefix: "/Reports", audience: "reports-aud", originUrl: "http://reports.internal", policy: { allow: [ALICE] } },
];

/** The test env with APPS instead of the single-app vars, STS counted and the origin recorded. */
function appsEnv(overrides: Record<string, unknown> = {}) {
  const calls = { sts: 0, kv: 0 };
  const received: Request[] = [];
  const points: AnalyticsEngineDataPoint[] = [];
  const kv = env.IDENTITY_CACHE;
  const testEnv = {
    ...env,
    AUDIENCE: undefined,
    ORIGIN_URL: undefined,
    POLICY: undefined,
    APPS,
    // Every KV call counted, still made.
    IDENTITY_CACHE: new Proxy(kv, { get: (target, key) => (typeof target[key as keyof KVNamespace] === "function" ? (...args: unknown[]) => (calls.kv++, (target[key as keyof KVNamespace] as (...a: unknown[]) => unknown).apply(target, args)) : target[key as keyof KVNamespace]) }),
    METRICS: { writeDataPoint: (point: AnalyticsEngineDataPoint) => void points.push(point) },
    STS: { fetch: (input: RequestInfo, init?: RequestInit) => (calls.sts++, env.STS.fetch(input, init)) },
    ORIGIN: {
      fetch: async (input: RequestInfo, init?: RequestInit) => {
        received.push(new Request(input, init));
        return Response.json({ ok: true });
      },
    },
    ...overrides,
  };
  return { env: testEnv, calls, received, points };
}

async function send(testEnv: object, url: string, init: RequestInit = {}) {
  return through(createGateApp(), testEnv, url, init);
}

async function as(name: string, audience: string): Promise<Record<string, string>> {
  return bearer(await mintToken(name, { audience })) as Record<string, string>;
}

describe("which app serves a request", () => {
  it.each([
    ["an exact host", "https://api.localhost/items", "alice", "api-aud", "http://api.internal/v1/items"],
    ["the host in another case, with a port", "https://API.LocalHost:8443/items", "alice", "api-aud", "http://api.internal/v1/items"],
    ["a fully qualified host with its trailing dot", "https://api.localhost./items", "alice", "api-aud", "http://api.internal/v1/items"],
    ["the longest path prefix", "https://api.localhost/docs/guide", "deployer", "docs-aud", "http://docs.internal/docs/guide"],
    ["the prefix itself", "https://api.localhost/docs", "deployer", "docs-aud", "http://docs.internal/docs"],
    ["a prefix on a segment boundary only (/docsx is not /docs)", "https://api.localhost/docsx", "alice", "api-aud", "http://api.internal/v1/docsx"],
    ["a wildcard host, one label deeper", "https://a.tools.localhost/x", "deployer", "tools-aud", "http://tools.internal/x"],
    ["an exact host over a wildcard one", "https://special.tools.localhost/x", "alice", "exact-aud", "http://exact.internal/x"],
  ])("%s", async (_why, url, who, audience, target) => {
    const { env: testEnv, received } = appsEnv();
    const res = await send(testEnv, url, { headers: await as(who, audience) });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(received.map((r) => r.url)).toEqual([target]);
  });

  it.each([
    ["an unknown host", "https://elsewhere.localhost/items"],
    ["two labels under a wildcard", "https://a.b.tools.localhost/x"],
    ["the wildcard's own domain", "https://tools.localhost/x"],
  ])("%s: 404 no_app, no token read, KV untouched, no STS call, nothing forwarded", async (_why, url) => {
    const { env: testEnv, calls, received, points } = appsEnv();
    // A valid token, which any step of verification would take to KV and STS.
    const headers = await as("alice", "api-aud");
    const { result: res, decisions } = await linesDuring(() => send(testEnv, url, { headers }));
    expect(res.status).toBe(404);
    expect(await problemCode(res)).toBe("no_app");
    expect(calls).toEqual({ sts: 0, kv: 0 });
    expect(received).toEqual([]);
    // The line has `app` too, null: no app served the request.
    expect(decisions).toEqual([expect.objectContaining({ status: 404, code: "no_app", outcome: "deny", app: null })]);
    expect(decisions[0]).not.toHaveProperty("accessKeyId");
    // And a data point, under no audience and no app.
    expect(points).toHaveLength(1);
    expect(points[0]!.indexes).toEqual([""]);
    expect(points[0]!.blobs).toEqual(["deny", "no_app", "", "", "GET", "", "", "", ""]);
  });

  it("an exact host's apps are the only ones for that host: a path none of them serves is no_app, not the wildcard's", async () => {
    const narrow = [...APPS.filter((a) => a.name !== "exact-tool"), { name: "exact-admin", hosts: ["special.tools.localhost"], pathPrefix: "/admin", audience: "exact-aud", originUrl: "http://exact.internal", policy: { allow: [ALICE] } }];
    const { env: testEnv, received } = appsEnv({ APPS: narrow });
    expect((await send(testEnv, "https://special.tools.localhost/admin/x", { headers: await as("alice", "exact-aud") })).status).toBe(200);
    const other = await send(testEnv, "https://special.tools.localhost/other", { headers: await as("alice", "tools-aud") });
    expect(await problemCode(other)).toBe("no_app");
    expect(received.map((r) => r.url)).toEqual(["http://exact.internal/admin/x"]);
  });

  it("a host's configured spelling does not matter: hosts are case-insensitive in APPS too", async () => {
    const mixed = APPS.map((a) => (a.name === "api" ? { ...a, hosts: ["API.LocalHost"] } : a));
    const { env: testEnv, received } = appsEnv({ APPS: mixed });
    const res = await send(testEnv, "https://api.localhost/items", { headers: await as("alice", "api-aud") });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(received.map((r) => r.url)).toEqual(["http://api.internal/v1/items"]);
  });

  it("routes by the URL the runtime saw, never by X-Forwarded-Host or Forwarded", async () => {
    const { env: testEnv, received } = appsEnv();
    const res = await send(testEnv, "https://api.localhost/items", {
      headers: { ...(await as("alice", "api-aud")), "x-forwarded-host": "special.tools.localhost", forwarded: "host=special.tools.localhost" },
    });
    expect(res.status).toBe(200);
    expect(received[0]!.url).toBe("http://api.internal/v1/items");
  });
});

describe("appByFoldedPath: a spelling of another app's prefix is refused (ATTACKS #26)", () => {
  it.each([["/%64ocs/guide"], ["/%64OCS/guide"], ["//docs/guide"], ["/docs;x/guide"], ["/DOCS/guide"], ["/Docs/guide"], ["/docs./guide"], ["/%EF%BD%84ocs/guide"]])(
    "%s reads as /docs/guide to a lenient origin: 400 app_ambiguous, no token read, nothing forwarded",
    async (path) => {
      const { env: testEnv, calls, received } = appsEnv();
      const res = await send(testEnv, `https://api.localhost${path}`, { headers: await as("alice", "api-aud") });
      expect(res.status).toBe(400);
      expect(await problemCode(res)).toBe("app_ambiguous");
      expect(calls).toEqual({ sts: 0, kv: 0 });
      expect(received).toEqual([]);
    },
  );

  it("the refusal's line and data point name the app the host and path picked", async () => {
    const { env: testEnv, points } = appsEnv();
    const { decisions } = await linesDuring(() => send(testEnv, "https://api.localhost/DOCS/guide"));
    expect(decisions).toEqual([expect.objectContaining({ code: "app_ambiguous", app: "api" })]);
    expect(points.map((p) => [p.indexes, p.blobs![8]])).toEqual([[["api-aud"], "api"]]);
  });

  it.each([["/Reports/q1", "reports-aud", "alice"], ["/docs/Guide.PDF", "docs-aud", "deployer"], ["/Items/42", "api-aud", "alice"], ["/a%20b", "api-aud", "alice"], ["/docs/%C3%A9t%C3%A9", "docs-aud", "deployer"]])(
    "%s reads as the same app either way: served",
    async (path, audience, who) => {
      const { env: testEnv, received } = appsEnv();
      const res = await send(testEnv, `https://api.localhost${path}`, { headers: await as(who, audience) });
      expect(res.status).toBe(200);
      expect(received).toHaveLength(1);
    },
  );
});

describe("each app keeps its own audience and policy", () => {
  it("a token for one app is refused at another: STS refuses the other audience", async () => {
    const { env: testEnv, received } = appsEnv();
    const res = await send(testEnv, "https://a.tools.localhost/x", { headers: await as("alice", "api-aud") });
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe("sts_refused");
    expect(received).toEqual([]);
  });

  it("per-app policies: alice may call api but not docs; the deployer may call docs but not api", async () => {
    const { env: testEnv } = appsEnv();
    expect((await send(testEnv, "https://api.localhost/docs/x", { headers: await as("alice", "docs-aud") })).status).toBe(403);
    expect((await send(testEnv, "https://api.localhost/x", { headers: await as("deployer", "api-aud") })).status).toBe(403);
    expect((await send(testEnv, "https://api.localhost/docs/x", { headers: await as("deployer", "docs-aud") })).status).toBe(200);
  });

  it("every decision line names the app", async () => {
    const { env: testEnv } = appsEnv();
    const headers = await as("deployer", "docs-aud");
    const { decisions } = await linesDuring(() => send(testEnv, "https://api.localhost/docs/x", { headers }));
    expect(decisions).toEqual([expect.objectContaining({ app: "docs", outcome: "allow", status: 200 })]);
  });

  it("each app signs with its own issuer urn:sts-gate:<audience> and its assertion audience", async () => {
    const { env: testEnv, received } = appsEnv();
    await send(testEnv, "https://a.tools.localhost/x?y=1", { headers: await as("alice", "tools-aud") });
    await send(testEnv, "https://api.localhost/items", { headers: await as("alice", "api-aud") });
    const jwks = (await (await send(testEnv, "https://api.localhost/.well-known/jwks.json")).json()) as { keys: [] };
    const tools = verifyCaller(received[0]!, { jwks: { keys: jwks.keys }, issuer: "urn:sts-gate:tools-aud", audience: "urn:tools" });
    await expect(tools).resolves.toMatchObject({ arn: ALICE });
    const api = verifyCaller(received[1]!, { jwks: { keys: jwks.keys }, issuer: "urn:sts-gate:api-aud", audience: "http://api.internal" });
    await expect(api).resolves.toMatchObject({ arn: ALICE });
    // One app's assertion is not another's: the issuer differs.
    await expect(verifyCaller(received[0]!, { jwks: { keys: jwks.keys }, issuer: "urn:sts-gate:api-aud", audience: "urn:tools" })).rejects.toMatchObject({ code: "assertion_wrong_issuer" });
  });

  it("every decision line names its app: health on an app's host, and on a host no app serves", async () => {
    const { env: testEnv } = appsEnv();
    const { decisions } = await linesDuring(async () => {
      await send(testEnv, "https://api.localhost/.well-known/sts-gate/health");
      await send(testEnv, "https://elsewhere.localhost/.well-known/sts-gate/health");
      await send(testEnv, "https://a.tools.localhost/.well-known/jwks.json");
    });
    expect(decisions.map((d) => [d.route, d.app])).toEqual([["health", "api"], ["health", null], ["jwks", "tools"]]);
  });

  it("an app's policy may be JSON text, as POLICY may", async () => {
    const asText = APPS.map((a) => ({ ...a, policy: JSON.stringify(a.policy) }));
    const { env: testEnv } = appsEnv({ APPS: asText });
    expect((await send(testEnv, "https://api.localhost/items", { headers: await as("alice", "api-aud") })).status).toBe(200);
    expect((await send(testEnv, "https://api.localhost/items", { headers: await as("deployer", "api-aud") })).status).toBe(403);
  });

  it("an app_ambiguous refusal carries the picked app's CORS, as its other refusals do; health carries none", async () => {
    const withCors = APPS.map((a) => (a.name === "api" ? { ...a, corsAllowedOrigins: ["https://api.example"] } : a));
    const { env: testEnv } = appsEnv({ APPS: withCors });
    const origin = { origin: "https://api.example" };
    const ambiguous = await send(testEnv, "https://api.localhost/DOCS/x", { headers: origin });
    expect(await problemCode(ambiguous)).toBe("app_ambiguous");
    expect(ambiguous.headers.get("access-control-allow-origin")).toBe("https://api.example");
    const health = await send(testEnv, "https://api.localhost/.well-known/sts-gate/health", { headers: origin });
    expect(health.status).toBe(200);
    expect(health.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("per-app corsAllowedOrigins: a page on the app's own allowed origin only", async () => {
    const withCors = APPS.map((a) => (a.name === "docs" ? { ...a, corsAllowedOrigins: ["https://docs.example"] } : a));
    const { env: testEnv } = appsEnv({ APPS: withCors });
    const headers = { ...(await as("deployer", "docs-aud")), origin: "https://docs.example" };
    const atDocs = await send(testEnv, "https://api.localhost/docs/x", { headers });
    expect(atDocs.headers.get("access-control-allow-origin")).toBe("https://docs.example");
    const atApi = await send(testEnv, "https://api.localhost/x", { headers: { ...(await as("alice", "api-aud")), origin: "https://docs.example" } });
    expect(atApi.status).toBe(200);
    expect(atApi.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await send(testEnv, "https://api.localhost/docs/x", { method: "OPTIONS", headers: { origin: "https://docs.example", "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://docs.example");
  });

  it("per-app originTimeoutMs: a slow origin is 504 origin_timeout at that app's deadline", async () => {
    const quick = APPS.map((a) => (a.name === "api" ? { ...a, originTimeoutMs: 100 } : a));
    const never = { fetch: () => new Promise<Response>(() => {}) };
    const { env: testEnv } = appsEnv({ APPS: quick, ORIGIN: never });
    const res = await send(testEnv, "https://api.localhost/items", { headers: await as("alice", "api-aud") });
    expect(res.status).toBe(504);
    expect(await problemCode(res)).toBe("origin_timeout");
  });

  it("the gate's own paths answer on a host whose only app has a path prefix", async () => {
    const prefixed = [...APPS, { name: "wiki", hosts: ["wiki.localhost"], pathPrefix: "/wiki", audience: "wiki-aud", originUrl: "http://wiki.internal", policy: { allow: [ALICE] } }];
    const { env: testEnv } = appsEnv({ APPS: prefixed, ADMINS: [ALICE] });
    expect((await send(testEnv, "https://wiki.localhost/.well-known/jwks.json")).status).toBe(200);
    const listed = await send(testEnv, `https://wiki.localhost${REVOCATIONS_PATH}`, { headers: await as("alice", "wiki-aud") });
    expect(listed.status, await listed.clone().text()).toBe(200);
    expect((await send(testEnv, "https://wiki.localhost/elsewhere")).status).toBe(404);
  });

  it("the JWKS is served on every app's hosts, and on no other", async () => {
    const { env: testEnv } = appsEnv();
    const onTools = await send(testEnv, "https://a.tools.localhost/.well-known/jwks.json");
    const onDocs = await send(testEnv, "https://api.localhost/.well-known/jwks.json");
    expect(onTools.status).toBe(200);
    expect(await onTools.text()).toBe(await onDocs.text());
    expect((await send(testEnv, "https://elsewhere.localhost/.well-known/jwks.json")).status).toBe(404);
  });
});

describe("public paths (ATTACKS #30)", () => {
  it.each([["GET"], ["POST"], ["DELETE"]])("%s on a public path is forwarded without verification, and with no identity", async (method) => {
    const { env: testEnv, calls, received } = appsEnv();
    const { result: res, decisions } = await linesDuring(() =>
      send(testEnv, "https://api.localhost/docs/public/logo.png", {
        method,
        body: method === "GET" ? undefined : "x",
        headers: {
          authorization: "Bearer whatever-the-client-sends",
          "x-caller-arn": "arn:aws:iam::111122223333:role/admin",
          X_Caller_Principal: "forged",
          "X-Caller.Account": "forged",
          "x-forwarded-host": "evil.example",
          "x-http-method-override": "DELETE",
        },
      }),
    );
    expect(res.status).toBe(200);
    expect(calls.sts).toBe(0);
    expect(received).toHaveLength(1);
    const headers = Object.fromEntries(received[0]!.headers);
    expect(Object.keys(headers).filter((h) => h.replaceAll("_", "-").startsWith("x-caller"))).toEqual([]);
    expect(headers.authorization).toBeUndefined();
    expect(headers["x-http-method-override"]).toBeUndefined();
    expect(headers["x-forwarded-host"]).toBe("api.localhost");
    expect(JSON.stringify(headers)).not.toContain("forged");
    expect(decisions).toEqual([expect.objectContaining({ outcome: "public", app: "docs", status: 200 })]);
  });

  it.each([
    ["an encoded slash out of the public folder", "/docs/public/..%2fsecret"],
    ["a ';' parameter", "/docs/public;/../secret"],
    ["a double-encoded dot segment", "/docs/public/%252e%252e/secret"],
    ["a path beside the public one", "/docs/publicity"],
    ["fullwidth dots out of the public folder", "/docs/public/%EF%BC%8E%EF%BC%8E/secret"],
  ])("%s is not public: a token is required", async (_why, path) => {
    const { env: testEnv, received } = appsEnv();
    const res = await send(testEnv, `https://api.localhost${path}`);
    expect(res.status).toBe(401);
    expect(received).toEqual([]);
  });

  it("the origin's prefix boundary holds on a public path: a path an origin could resolve above the prefix is never public", async () => {
    const withPublic = APPS.map((a) => (a.name === "api" ? { ...a, publicPaths: ["/status/**"] } : a));
    const { env: testEnv, received } = appsEnv({ APPS: withPublic });
    const served = await send(testEnv, "https://api.localhost/status/live");
    expect(served.status).toBe(200);
    for (const path of ["/status/..%2f..%2fadmin", "/status/%2e%2e/%2e%2e/admin", "/status/..%5c..%5cadmin"]) {
      const res = await send(testEnv, `https://api.localhost${path}`);
      expect(res.status, path).toBe(401);
    }
    expect(received.map((r) => r.url)).toEqual(["http://api.internal/v1/status/live"]);
  });

  it("a public path still refuses the method-override parameter", async () => {
    const { env: testEnv, received } = appsEnv();
    const res = await send(testEnv, "https://api.localhost/docs/health?_method=DELETE", { method: "POST", body: "x" });
    expect(res.status).toBe(400);
    expect(await problemCode(res)).toBe("method_override");
    expect(received).toEqual([]);
  });
});

describe("ADMINS: the revocation API on any host of any app", () => {
  afterEach(clearRevocations);

  it("an admin with a token for the app serving the host may revoke; others are not admins", async () => {
    const { env: testEnv } = appsEnv({ ADMINS: [ALICE] });
    const body = JSON.stringify({ accessKeyId: "AKIAEMULATORNOBODY01", reason: "test" });
    const created = await send(testEnv, `https://a.tools.localhost${REVOCATIONS_PATH}`, { method: "POST", body, headers: { ...(await as("alice", "tools-aud")), "content-type": "application/json" } });
    expect(created.status).toBe(201);
    const listed = await send(testEnv, `https://api.localhost${REVOCATIONS_PATH}`, { headers: await as("alice", "api-aud") });
    expect(listed.status).toBe(200);
    const notAdmin = await send(testEnv, `https://api.localhost${REVOCATIONS_PATH}`, { headers: await as("deployer", "api-aud") });
    expect(await problemCode(notAdmin)).toBe("not_admin");
    // A token for another app's audience is no admin token here.
    const wrongAudience = await send(testEnv, `https://api.localhost${REVOCATIONS_PATH}`, { headers: await as("alice", "tools-aud") });
    expect(wrongAudience.status).toBe(401);
  });

  it("without ADMINS the API is off: 404", async () => {
    const { env: testEnv } = appsEnv();
    const res = await send(testEnv, `https://api.localhost${REVOCATIONS_PATH}`, { headers: await as("alice", "api-aud") });
    expect(res.status).toBe(404);
    expect(await problemCode(res)).toBe("not_found");
  });
});

describe("invalid APPS configurations are refused like an invalid POLICY", () => {
  const app = (extra: Record<string, unknown> = {}) => ({ name: "a", hosts: ["a.localhost"], audience: "a-aud", originUrl: "https://a.internal", policy: { allow: [ALICE] }, ...extra });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["two apps with one audience", { APPS: [app(), app({ name: "b", hosts: ["b.localhost"] })] }, /^APPS\[1\]\.audience: /],
    ["two apps with one host and pathPrefix", { APPS: [app(), app({ name: "b", audience: "b-aud" })] }, /^APPS\[1\]\.hosts\[0\]: /],
    ["an app with no hosts", { APPS: [app({ hosts: [] })] }, /^APPS\[0\]\.hosts: /],
    ["two apps with one host in two spellings", { APPS: [app(), app({ name: "b", audience: "b-aud", hosts: ["A.LocalHost"] })] }, /^APPS\[1\]\.hosts\[0\]: /],
    ["a host that only Unicode case folding makes ASCII (a Kelvin sign)", { APPS: [app({ hosts: ["\u212A.localhost"] })] }, /^APPS\[0\]\.hosts\[0\]: /],
    ["an app policy with admins", { APPS: [app({ policy: { allow: [ALICE], admins: [ALICE] } })] }, /^APPS\[0\]\.policy\.admins: /],
    ["APPS beside ORIGIN_URL", { APPS: [app()], ORIGIN_URL: "https://x.internal" }, /^APPS: .*ORIGIN_URL/],
    ["APPS beside AUDIENCE", { APPS: [app()], AUDIENCE: "x" }, /^APPS: .*AUDIENCE/],
    ["APPS beside POLICY", { APPS: [app()], POLICY: { allow: [ALICE] } }, /^APPS: .*POLICY/],
    ["APPS beside ASSERTION_AUDIENCE", { APPS: [app()], ASSERTION_AUDIENCE: "x" }, /^APPS: .*ASSERTION_AUDIENCE/],
    ["APPS beside CORS_ALLOWED_ORIGINS", { APPS: [app()], CORS_ALLOWED_ORIGINS: "https://a.example" }, /^APPS: .*CORS_ALLOWED_ORIGINS/],
    ["APPS beside ORIGIN_TIMEOUT_MS", { APPS: [app()], ORIGIN_TIMEOUT_MS: "1000" }, /^APPS: .*ORIGIN_TIMEOUT_MS/],
    ["APPS beside ASSERTION_ISSUER", { APPS: [app()], ASSERTION_ISSUER: "urn:x" }, /^APPS: .*ASSERTION_ISSUER/],
    ["APPS beside TOKEN_MAX_AGE_SECONDS", { APPS: [app()], TOKEN_MAX_AGE_SECONDS: "300" }, /^APPS: .*TOKEN_MAX_AGE_SECONDS/],
    ["ADMINS beside POLICY.admins", { AUDIENCE: "a-aud", ORIGIN_URL: "https://a.internal", POLICY: { allow: [ALICE], admins: [ALICE] }, ADMINS: [ALICE] }, /^ADMINS: /],
    ["an empty ADMINS", { APPS: [app()], ADMINS: [] }, /^ADMINS: /],
    ["a bad app name", { APPS: [app({ name: "a b" })] }, /^APPS\[0\]\.name: /],
    ["a host with a port", { APPS: [app({ hosts: ["a.localhost:8443"] })] }, /^APPS\[0\]\.hosts\[0\]: /],
    ["a wildcard inside a host", { APPS: [app({ hosts: ["a.*.localhost"] })] }, /^APPS\[0\]\.hosts\[0\]: /],
    ["an unknown field", { APPS: [app({ origin: "x" })] }, /^APPS\[0\]: /],
    ["APPS as JSON that does not parse", { APPS: "[{" }, /^APPS: /],
  ])("%s: 500 misconfigured on every request, the setting named in the log, 503 from health", async (_why, overrides, issue) => {
    const testEnv = { ...env, AUDIENCE: undefined, ORIGIN_URL: undefined, POLICY: undefined, ...overrides };
    const { result, lines } = await linesDuring(async () => {
      const res = await send(testEnv, "https://a.localhost/x", { headers: await as("alice", "a-aud") });
      const health = await send(testEnv, "https://a.localhost/.well-known/sts-gate/health");
      return { res, health };
    });
    expect(result.res.status).toBe(500);
    expect(await problemCode(result.res)).toBe("misconfigured");
    expect(result.health.status).toBe(503);
    const messages = lines.filter((l) => l.event === "config" && l.level === "error").map((l) => String(l.message));
    expect(messages.some((m) => issue.test(m)), messages.join("\n")).toBe(true);
  });

  it("APPS as a JSON string works as the table does", async () => {
    const { env: testEnv, received } = appsEnv({ APPS: JSON.stringify(APPS) });
    const res = await send(testEnv, "https://api.localhost/items", { headers: await as("alice", "api-aud") });
    expect(res.status).toBe(200);
    expect(received).toHaveLength(1);
  });

  it("health lists each app's name and validity, never its hosts or policy", async () => {
    const { env: testEnv } = appsEnv();
    const body = (await (await send(testEnv, "https://api.localhost/.well-known/sts-gate/health")).json()) as Record<string, unknown>;
    expect(body.apps).toEqual(APPS.map((a) => ({ name: a.name, valid: true })));
    expect(JSON.stringify(body)).not.toContain("localhost");
    expect(JSON.stringify(body)).not.toContain("allow");
    const broken = { ...testEnv, APPS: [...APPS.slice(0, 3), { ...APPS[3], audience: "api-aud" }] };
    const sick = (await (await send(broken, "https://api.localhost/.well-known/sts-gate/health")).json()) as Record<string, unknown>;
    expect(sick.apps).toEqual([...APPS.slice(0, 3).map((a) => ({ name: a.name, valid: true })), { name: "exact-tool", valid: false }]);
  });
});

describe("without APPS, the single-app vars work as before", () => {
  it("one app named default serves every host", async () => {
    const { decisions, result } = await linesDuring(async () => send(env, "https://localhost/x", { headers: bearer(await mintToken("alice")) }));
    expect(result.status).toBe(200);
    expect(decisions).toEqual([expect.objectContaining({ app: "default", outcome: "allow" })]);
  });

  it("its health line names the default app too", async () => {
    const { decisions } = await linesDuring(() => send(env, "https://localhost/.well-known/sts-gate/health"));
    expect(decisions).toEqual([expect.objectContaining({ route: "health", app: "default" })]);
  });
});
