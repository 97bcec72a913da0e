import { env, exports } from "cloudflare:workers";
import { Hono } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import packageJson from "../../package.json";
import { createGateApp, type GateAppOptions } from "../../src/gate/dispatch";
import { stsAuth, type StsAuthVariables } from "../../src/middleware";
import { GateProblem } from "../../src/problem";
import { GATE_VERSION } from "../../src/version";
import { stsCallsFor } from "../support/emulator";
import { linesDuring, through } from "../support/gate";
import { bearer, identity, mintToken, TEST_AUDIENCE } from "../support/tokens";

/** The Worker itself, with its own env (wrangler.toml [env.test]). */
function worker(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(`https://localhost${path}`, init);
}

/** The gate with a changed env, as the Worker would run with it. */
async function gate(testEnv: object, path: string, init: RequestInit = {}, options: GateAppOptions = {}): Promise<Response> {
  const res = await through(createGateApp(options), testEnv, new Request(`https://localhost${path}`, init));
  return res;
}

/** A request through the Worker and its one decision line. */
async function decided(path: string, init: RequestInit = {}, send: (path: string, init: RequestInit) => Promise<Response> = worker) {
  const { result: res, decisions, lines } = await linesDuring(async () => {
    const r = await send(path, init);
    return { response: r, body: await r.text() };
  });
  expect(decisions, JSON.stringify(lines)).toHaveLength(1);
  return { res: res.response, body: res.body, line: decisions[0]!, lines };
}

afterEach(() => vi.restoreAllMocks());

describe("the decision line", () => {
  it("for an allowed, forwarded request: who, how, the origin's answer and the times", async () => {
    const alice = identity("alice");
    const { res, body, line } = await decided("/items/7?q=secret-query", { headers: bearer(await mintToken("alice")) });
    expect(res.status).toBe(200);
    const echo = JSON.parse(body) as { headers: Record<string, string> };
    expect(line).toMatchObject({
      event: "decision",
      level: "info",
      outcome: "allow",
      status: 200,
      originStatus: 200,
      accessKeyId: alice.accessKeyId,
      principal: alice.arn,
      arn: alice.arn,
      type: "user",
      account: "111122223333",
      rule: "allow",
      cache: "miss",
      method: "GET",
      path: "/items/7",
    });
    expect(line.code).toBeUndefined();
    for (const field of ["originMs", "stsMs", "totalMs"]) expect(typeof line[field], field).toBe("number");
    // One id joins the gate's line, the origin's request and the client's response.
    expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("x-request-id")).toBe(line.requestId);
    expect(echo.headers["x-request-id"]).toBe(line.requestId);
    expect(JSON.stringify(line)).not.toContain("secret-query");
  });

  it("uses cf-ray as the request id, and replaces an X-Request-Id the client sent", async () => {
    const { res, body, line } = await decided("/", { headers: { ...bearer(await mintToken("alice")), "cf-ray": "8f3a9c1e2b4d5f60-LHR", "x-request-id": "forged" } });
    expect(line.requestId).toBe("8f3a9c1e2b4d5f60-LHR");
    expect(res.headers.get("x-request-id")).toBe("8f3a9c1e2b4d5f60-LHR");
    expect((JSON.parse(body) as { headers: Record<string, string> }).headers["x-request-id"]).toBe("8f3a9c1e2b4d5f60-LHR");
  });

  it("does not echo a cf-ray that is not one", async () => {
    const { line } = await decided("/", { headers: { "cf-ray": "x".repeat(65) } });
    expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("tells a memory hit from a miss, without an STS time", async () => {
    const token = await mintToken("alice");
    await worker("/", { headers: bearer(token) }).then((r) => r.body?.cancel());
    const { line } = await decided("/", { headers: bearer(token) });
    expect(line).toMatchObject({ cache: "memory", accessKeyId: identity("alice").accessKeyId });
    expect(line.stsMs).toBeUndefined();
  });

  it("for a refusal: deny, the code, the status the client got, and no origin fields", async () => {
    const { res, line } = await decided("/x", { method: "DELETE" });
    expect(res.status).toBe(401);
    expect(line).toMatchObject({ level: "info", outcome: "deny", code: "authorization_missing", status: 401, method: "DELETE", path: "/x" });
    expect(line.originStatus).toBeUndefined();
    expect(line.originMs).toBeUndefined();
    expect(res.headers.get("x-request-id")).toBe(line.requestId);
  });

  it("for a policy refusal: the identity that was refused", async () => {
    const policy = { allow: ["arn:aws:iam::111122223333:user/alice"] };
    const { res, line } = await decided("/", { headers: bearer(await mintToken("reader")) }, (p, i) => gate({ ...env, POLICY: policy }, p, i));
    expect(res.status).toBe(403);
    expect(line).toMatchObject({ outcome: "deny", code: "policy_denied", status: 403, type: "assumed-role", accessKeyId: identity("reader").accessKeyId });
    expect(line.rule).toBeUndefined();
  });

  it("for an STS fault: outcome error with the fault's code and status", async () => {
    const { res, line } = await decided("/", { headers: bearer(await mintToken("fault-throttle")) });
    expect(res.status).toBe(503);
    expect(line).toMatchObject({ level: "error", outcome: "error", code: "sts_throttled", status: 503 });
  });

  it("for an unexpected error: outcome error, internal_error and 500, as the client got (not deny 401)", async () => {
    const broken = () => {
      throw new RangeError("clock broke");
    };
    const { res, line, lines } = await decided("/", { headers: bearer(await mintToken("alice")) }, (p, i) => gate(env, p, i, { now: broken }));
    expect(res.status).toBe(500);
    expect(line).toMatchObject({ level: "error", outcome: "error", code: "internal_error", status: 500 });
    expect(res.headers.get("x-request-id")).toBe(line.requestId);
    expect(lines.find((l) => l.event === "internal")).toMatchObject({ error: "RangeError", requestId: line.requestId });
  });

  it("for an origin that cannot be reached: the allowed identity, the gate's 502, the time spent", async () => {
    const down = { fetch: async () => Promise.reject(new TypeError("connection refused")) };
    const { res, line } = await decided("/", { headers: bearer(await mintToken("alice")) }, (p, i) => gate({ ...env, ORIGIN: down }, p, i));
    expect(res.status).toBe(502);
    expect(line).toMatchObject({ outcome: "error", code: "origin_unreachable", status: 502, rule: "allow", principal: identity("alice").arn });
    expect(typeof line.originMs).toBe("number");
    expect(line.originStatus).toBeUndefined();
  });

  it("carries the origin's status when the origin refuses (not allow 200)", async () => {
    // Without the gate's key the echo origin refuses: 401, as it would for a real misrouted call.
    const { res, line } = await decided("/", { headers: bearer(await mintToken("alice")) }, (p, i) => gate({ ...env, ASSERTION_PRIVATE_JWK: undefined }, p, i));
    expect(res.status).toBe(401);
    expect(line).toMatchObject({ outcome: "allow", status: 401, originStatus: 401, rule: "allow" });
    expect(line.code).toBeUndefined();
  });

  it.each([
    ["federated-bob", "federated-user"],
    ["root", "root"],
  ])("logs %s at level warn, allowed or not", async (who, type) => {
    const rules = (types?: string[]) => ({
      rules: [{ name: "everyone", allow: ["arn:aws:iam::111122223333:*", "arn:aws:sts::111122223333:federated-user/*"] }],
      ...(types ? { principalTypes: types } : {}),
    });
    const denied = await decided("/", { headers: bearer(await mintToken(who)) }, (p, i) => gate({ ...env, POLICY: rules() }, p, i));
    expect(denied.line).toMatchObject({ level: "warn", outcome: "deny", type });
    const allowed = await decided("/", { headers: bearer(await mintToken(who)) }, (p, i) => gate({ ...env, POLICY: rules(["user", type]) }, p, i));
    expect(allowed.line).toMatchObject({ level: "warn", outcome: "allow", type });
  });
});

describe("misconfiguration is never silent", () => {
  it("logs the offending settings on every refused request, not only the isolate's first", async () => {
    const broken = { ...env, AUDIENCE: undefined, STS_TIMEOUT_MS: "soon" };
    for (let i = 0; i < 3; i++) {
      const { res, line, lines } = await decided("/", { headers: bearer(await mintToken("alice")) }, (p, init) => gate(broken, p, init));
      expect(res.status).toBe(500);
      expect(line).toMatchObject({ outcome: "error", code: "misconfigured", status: 500, settings: ["AUDIENCE", "STS_TIMEOUT_MS"] });
      const config = lines.filter((l) => l.event === "config");
      expect(config.map((l) => l.setting)).toEqual(["AUDIENCE", "STS_TIMEOUT_MS"]);
      for (const l of config) expect(l).toMatchObject({ level: "error", code: "misconfigured", requestId: line.requestId });
      expect(JSON.stringify(lines)).not.toContain("soon");
      expect(res.headers.get("x-request-id")).toBe(line.requestId);
    }
  });

  it("names a bad assertion key on every request without printing it", async () => {
    const key = '{"kty":"OKP","crv":"Ed25519","x":"AAAA","d":"c2VjcmV0LWtleS1tYXRlcmlhbA"}';
    for (let i = 0; i < 2; i++) {
      const { line, lines } = await decided("/", {}, (p, init) => gate({ ...env, ASSERTION_PRIVATE_JWK: key }, p, init));
      expect(line).toMatchObject({ code: "misconfigured", settings: ["ASSERTION_PRIVATE_JWK"] });
      expect(lines.some((l) => l.event === "config" && l.setting === "ASSERTION_PRIVATE_JWK")).toBe(true);
      expect(JSON.stringify(lines)).not.toContain("c2VjcmV0LWtleS1tYXRlcmlhbA");
    }
  });
});

describe("GET /.well-known/sts-gate/health", () => {
  const unreachable = () => {
    const calls: string[] = [];
    return { calls, binding: { fetch: async (input: RequestInfo | URL) => (calls.push(String(input)), new Response("no", { status: 500 })) } };
  };

  it("answers 200 with non-secret facts, with no token, without reaching STS or the origin", async () => {
    const sts = unreachable();
    const origin = unreachable();
    const { result: res, decisions } = await linesDuring(() => gate({ ...env, STS: sts.binding, ORIGIN: origin.binding }, "/.well-known/sts-gate/health"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      status: "ok",
      version: packageJson.version,
      audience: TEST_AUDIENCE,
      apps: [{ name: "default", valid: true }],
      assertionKeyId: (JSON.parse(env.ASSERTION_PRIVATE_JWK as string) as { kid: string }).kid,
      bindings: { METRICS: true, STS_RATE_LIMITER: false, STS: true, ORIGIN: true },
    });
    expect(JSON.stringify(body)).not.toContain(JSON.parse(env.ASSERTION_PRIVATE_JWK).d);
    expect(sts.calls).toEqual([]);
    expect(origin.calls).toEqual([]);
    // One line, as for every answer: the gate's own route, with the status and request id the client got.
    expect(decisions).toEqual([expect.objectContaining({ outcome: "allow", route: "health", status: 200, requestId: res.headers.get("x-request-id") })]);
    expect(decisions[0]).not.toHaveProperty("arn");
  });

  it("says which optional bindings are absent, and that there is no assertion key", async () => {
    const res = await gate({ ...env, METRICS: undefined, ASSERTION_PRIVATE_JWK: undefined, STS_RATE_LIMITER: env.TEST_RATE_LIMITER }, "/.well-known/sts-gate/health");
    expect(await res.json()).toMatchObject({ assertionKeyId: null, bindings: { METRICS: false, STS_RATE_LIMITER: true } });
  });

  it("answers through the Worker, and to HEAD", async () => {
    expect((await worker("/.well-known/sts-gate/health")).status).toBe(200);
    expect((await worker("/.well-known/sts-gate/health", { method: "HEAD" })).status).toBe(200);
  });

  it("answers 503 problem+json naming the invalid settings, never their values", async () => {
    const res = await gate({ ...env, ORIGIN_URL: "not a url at all", POLICY: { alow: [] } }, "/.well-known/sts-gate/health");
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const text = await res.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 503, code: "misconfigured", settings: ["ORIGIN_URL", "POLICY"] });
    expect(body.detail).toContain("ORIGIN_URL");
    expect(text).not.toContain("not a url at all");
    expect(text).not.toContain("alow");
  });

  it("keeps the version in step with package.json", () => {
    expect(GATE_VERSION).toBe(packageJson.version);
  });
});

describe("metrics: one data point per decision in METRICS", () => {
  type Point = Required<AnalyticsEngineDataPoint>;

  function watch(): Point[] {
    const points: Point[] = [];
    // Miniflare's own Analytics Engine binding, watched, still called through.
    const real = env.METRICS.writeDataPoint.bind(env.METRICS);
    vi.spyOn(env.METRICS, "writeDataPoint").mockImplementation((p) => {
      points.push(p as Point);
      real(p);
    });
    return points;
  }

  it("writes the documented layout for an allowed request", async () => {
    const points = watch();
    const { line } = await decided("/p", { method: "POST", headers: bearer(await mintToken("deployer")), body: "x" });
    expect(points).toHaveLength(1);
    const [point] = points;
    expect(point!.indexes).toEqual([TEST_AUDIENCE]);
    // blob1..blob8: outcome, code, type, cache, method, account, rule, principal
    expect(point!.blobs).toEqual(["allow", "", "assumed-role", "miss", "POST", "111122223333", "allow", "arn:aws:iam::111122223333:role/deployer", "default"]);
    // double1..double5: totalMs, stsMs, originMs, status, originStatus
    expect(point!.doubles).toEqual([line.totalMs, line.stsMs, line.originMs, 200, 200]);
  });

  it("writes the documented layout for a refusal, with zeros for what did not happen", async () => {
    const points = watch();
    const { line } = await decided("/", {});
    expect(points).toHaveLength(1);
    expect(points[0]!.blobs).toEqual(["deny", "authorization_missing", "", "", "GET", "", "", "", "default"]);
    expect(points[0]!.doubles).toEqual([line.totalMs, 0, 0, 401, 0]);
  });

  it("keeps the index within Analytics Engine's 96 bytes for a long AUDIENCE", async () => {
    const points = watch();
    await gate({ ...env, AUDIENCE: "a".repeat(200) }, "/");
    expect(points[0]!.indexes).toEqual(["a".repeat(96)]);
  });

  it("writes one for a misconfigured request too", async () => {
    const points = watch();
    await gate({ ...env, POLICY: "{" }, "/");
    expect(points).toHaveLength(1);
    expect(points[0]!.blobs!.slice(0, 2)).toEqual(["error", "misconfigured"]);
    expect(points[0]!.doubles![3]).toBe(500);
  });

  it.each([
    ["throws", { writeDataPoint: () => { throw new Error("dataset gone"); } }],
    ["rejects", { writeDataPoint: () => Promise.reject(new Error("dataset gone")) }],
    ["is not a dataset", { write: () => {} }],
  ])("fails nothing when METRICS %s", async (_name, metrics) => {
    const token = await mintToken("alice");
    const { result, lines } = await linesDuring(async () => {
      const allowed = await gate({ ...env, METRICS: metrics }, "/", { headers: bearer(token) });
      const refused = await gate({ ...env, METRICS: metrics }, "/");
      return [allowed.status, refused.status, (await allowed.json()) as { caller: { arn: string } }] as const;
    });
    expect(result[0]).toBe(200);
    expect(result[1]).toBe(401);
    expect(result[2].caller.arn).toBe(identity("alice").arn);
    expect(lines.filter((l) => l.event === "decision")).toHaveLength(2);
    expect(await stsCallsFor(token)).toBe(1);
  });
});

describe("stsAuth in another Hono app (sts-gate/hono)", () => {
  function app(metrics?: AnalyticsEngineDataset) {
    const a = new Hono<{ Variables: StsAuthVariables }>();
    a.use("*", stsAuth({ audience: TEST_AUDIENCE, policy: { allow: ["arn:aws:iam::111122223333:user/*"] }, sts: env.STS, metrics }));
    a.get("/ok", (c) => c.text(c.var.caller.arn));
    a.get("/teapot", (c) => c.text("no", 418));
    a.get("/boom", () => {
      throw new Error("handler bug");
    });
    a.onError((e) => (e instanceof GateProblem ? e.getResponse() : new Response("bug", { status: 500 })));
    return a;
  }

  it.each([
    ["/ok", "alice", 200, { outcome: "allow", status: 200, rule: "allow" }],
    ["/teapot", "alice", 418, { outcome: "allow", status: 418 }],
    ["/boom", "alice", 500, { outcome: "error", code: "internal_error", status: 500, rule: "allow" }],
    ["/ok", "deployer", 403, { outcome: "deny", code: "policy_denied", status: 403 }],
    ["/ok", undefined, 401, { outcome: "deny", code: "authorization_missing", status: 401 }],
  ])("writes exactly one decision line for %s as %s", async (path, who, status, expected) => {
    const headers = who ? bearer(await mintToken(who)) : {};
    const { res, line } = await decided(path, { headers }, async (p, init) => app().request(p, init));
    expect(res.status).toBe(status);
    expect(line).toMatchObject(expected);
    expect(line.originStatus).toBeUndefined();
    expect(res.headers.get("x-request-id")).toBe(line.requestId);
  });

  it("writes one line for an invalid policy document too (misconfigured, 500)", async () => {
    const a = new Hono();
    a.use("*", stsAuth({ audience: TEST_AUDIENCE, policy: { alow: ["x"] } as never, sts: env.STS }));
    a.get("*", (c) => c.text("unreachable"));
    a.onError((e) => (e instanceof GateProblem ? e.getResponse() : new Response("bug", { status: 500 })));
    const { res, line } = await decided("/", {}, async (p, init) => a.request(p, init));
    expect(res.status).toBe(500);
    expect(line).toMatchObject({ level: "error", outcome: "error", code: "misconfigured", status: 500 });
  });

  it("writes its data points to the dataset it is given", async () => {
    const points: AnalyticsEngineDataPoint[] = [];
    await app({ writeDataPoint: (p) => void points.push(p!) }).request("/ok", { headers: bearer(await mintToken("alice")) });
    expect(points).toHaveLength(1);
    expect(points[0]!.blobs![0]).toBe("allow");
  });
});
