import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { linesDuring, problemCode, through } from "../support/gate";
import { bearer, mintToken } from "../support/tokens";

/**
 * LOG_ALLOWED (rule `allowLinesSwitch`, issue 20): "false" drops the decision line of an allowed
 * or public request, through the Worker. Denials, errors and the warn lines of root and
 * federated-user callers are always written, and METRICS keeps a data point for every decision.
 */
const A = "111122223333";
const POLICY = { allow: [`arn:aws:iam::${A}:user/alice`, `arn:aws:iam::${A}:root`], principalTypes: ["user", "assumed-role", "root"] };
const QUIET = { ...env, POLICY, LOG_ALLOWED: "false" };

async function decisionsOf(testEnv: object, url: string, init: RequestInit = {}) {
  const { result: res, decisions } = await linesDuring(async () => {
    const r = await through(createGateApp(), testEnv, url, init);
    await r.clone().arrayBuffer();
    return r;
  });
  return { res, decisions };
}

afterEach(() => vi.restoreAllMocks());

describe("LOG_ALLOWED", () => {
  it("writes the allow line by default", async () => {
    const { res, decisions } = await decisionsOf({ ...env, POLICY }, "https://localhost/items", { headers: bearer(await mintToken("alice")) });
    expect(res.status).toBe(200);
    expect(decisions).toMatchObject([{ outcome: "allow", level: "info" }]);
  });

  it.each([
    ["the string a wrangler var gives", "false"],
    ["a boolean", false],
  ])("set to false as %s, writes no line for an allowed request", async (_as, value) => {
    const { res, decisions } = await decisionsOf({ ...QUIET, LOG_ALLOWED: value }, "https://localhost/items", { headers: bearer(await mintToken("alice")) });
    expect(res.status).toBe(200);
    expect(decisions).toEqual([]);
  });

  it("still writes every denial", async () => {
    const missing = await decisionsOf(QUIET, "https://localhost/items");
    expect(missing.res.status).toBe(401);
    expect(missing.decisions).toMatchObject([{ outcome: "deny", code: "authorization_missing", level: "info" }]);
    const denied = await decisionsOf(QUIET, "https://localhost/items", { headers: bearer(await mintToken("deployer")) });
    expect(denied.res.status).toBe(403);
    expect(denied.decisions).toMatchObject([{ outcome: "deny", code: "policy_denied", level: "info" }]);
  });

  it("still writes every error", async () => {
    // A fault stub: the origin cannot be reached.
    const unreachable = { ...QUIET, ORIGIN: { fetch: () => Promise.reject(new Error("connection refused")) } };
    const { res, decisions } = await decisionsOf(unreachable, "https://localhost/items", { headers: bearer(await mintToken("alice")) });
    expect(await problemCode(res)).toBe("origin_unreachable");
    expect(decisions).toMatchObject([{ outcome: "error", code: "origin_unreachable", level: "error" }]);
  });

  it("still writes the warn line of a root caller it allowed", async () => {
    const { res, decisions } = await decisionsOf(QUIET, "https://localhost/items", { headers: bearer(await mintToken("root")) });
    expect(res.status).toBe(200);
    expect(decisions).toMatchObject([{ outcome: "allow", level: "warn", type: "root" }]);
  });

  it("writes no line for a public path, nor for health", async () => {
    const apps = [{ name: "site", hosts: ["localhost"], audience: "site-aud", originUrl: "http://site.internal", policy: POLICY, publicPaths: ["/assets/**"] }];
    const appsEnv = { ...env, AUDIENCE: undefined, ORIGIN_URL: undefined, POLICY: undefined, APPS: apps, ORIGIN: { fetch: async () => new Response("asset") } };
    const loud = await decisionsOf(appsEnv, "https://localhost/assets/app.js");
    expect(loud.decisions).toMatchObject([{ outcome: "public", app: "site" }]);
    const quiet = await decisionsOf({ ...appsEnv, LOG_ALLOWED: "false" }, "https://localhost/assets/app.js");
    expect(quiet.res.status).toBe(200);
    expect(quiet.decisions).toEqual([]);
    const health = await decisionsOf(QUIET, "https://localhost/.well-known/sts-gate/health");
    expect(health.res.status).toBe(200);
    expect(health.decisions).toEqual([]);
  });

  it("keeps the data point of an allowed request in METRICS", async () => {
    const points: AnalyticsEngineDataPoint[] = [];
    const real = env.METRICS.writeDataPoint.bind(env.METRICS);
    vi.spyOn(env.METRICS, "writeDataPoint").mockImplementation((p) => {
      points.push(p ?? {});
      real(p);
    });
    const { decisions } = await decisionsOf(QUIET, "https://localhost/items", { headers: bearer(await mintToken("alice")) });
    expect(decisions).toEqual([]);
    expect(points).toHaveLength(1);
    expect(points[0]!.blobs!.slice(0, 2)).toEqual(["allow", ""]);
  });

  it("applies to StsGate.verify too: no line for an allow, a line for a denial", async () => {
    const gate = createGateApp();
    const ask = async (who: string) => {
      const ctx = createExecutionContext();
      const { result, decisions } = await linesDuring(() => gate.verify(new Request("https://localhost/items", { headers: bearer(who) }), QUIET, ctx));
      await waitOnExecutionContext(ctx);
      return { verdict: result, decisions };
    };
    const allowed = await ask(await mintToken("alice"));
    expect(allowed.verdict.allowed).toBe(true);
    expect(allowed.decisions).toEqual([]);
    const denied = await ask(await mintToken("deployer"));
    expect(denied.verdict.allowed).toBe(false);
    expect(denied.decisions).toMatchObject([{ mode: "rpc", outcome: "deny", code: "policy_denied" }]);
  });

  it("still writes the line of whoami, which answers any valid token whatever the policy says", async () => {
    const { res, decisions } = await decisionsOf(QUIET, "https://localhost/.well-known/sts-gate/whoami", { headers: bearer(await mintToken("deployer")) });
    expect(res.status).toBe(200);
    expect(decisions).toMatchObject([{ outcome: "allow", route: "whoami", level: "info" }]);
  });

  it("still writes an admin's line, which the admin line joins by its request id", async () => {
    const headers = bearer(await mintToken("alice"));
    const { result: res, lines } = await linesDuring(() =>
      through(createGateApp(), { ...QUIET, ADMINS: [`arn:aws:iam::${A}:user/alice`] }, "https://localhost/.well-known/sts-gate/revocations", { headers }),
    );
    expect(res.status).toBe(200);
    const requestId = res.headers.get("x-request-id");
    expect(lines.filter((l) => l.event === "decision")).toMatchObject([{ outcome: "allow", rule: "admins", status: 200, requestId }]);
    expect(lines.filter((l) => l.event === "admin")).toMatchObject([{ action: "list", requestId }]);
  });

  it("still writes an allowed request's line when the origin answered 5xx", async () => {
    const failing = { ...QUIET, ORIGIN: { fetch: async () => new Response("down", { status: 503 }) } };
    const { res, decisions } = await decisionsOf(failing, "https://localhost/items", { headers: bearer(await mintToken("alice")) });
    expect(res.status).toBe(503);
    expect(decisions).toMatchObject([{ outcome: "allow", status: 503, originStatus: 503 }]);
  });

  it("warns once, as a config line, when allowed requests would leave no record at all", async () => {
    const { lines } = await linesDuring(async () => {
      const r = await through(createGateApp(), { ...QUIET, METRICS: undefined }, "https://localhost/items", { headers: bearer(await mintToken("alice")) });
      await r.arrayBuffer();
    });
    expect(lines.filter((l) => l.event === "config" && l.setting === "LOG_ALLOWED")).toMatchObject([{ level: "warn" }]);
    const withMetrics = await linesDuring(async () => {
      const r = await through(createGateApp(), { ...QUIET }, "https://localhost/items", { headers: bearer(await mintToken("alice")) });
      await r.arrayBuffer();
    });
    expect(withMetrics.lines.filter((l) => l.setting === "LOG_ALLOWED")).toEqual([]);
  });

  it("refuses a value other than true or false as misconfigured, naming the setting", async () => {
    const { res, decisions } = await decisionsOf({ ...env, LOG_ALLOWED: "no" }, "https://localhost/items", { headers: bearer(await mintToken("alice")) });
    expect(res.status).toBe(500);
    expect(await problemCode(res)).toBe("misconfigured");
    expect(decisions).toMatchObject([{ outcome: "error", code: "misconfigured", settings: ["LOG_ALLOWED"] }]);
  });
});
