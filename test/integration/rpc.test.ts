import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { logLines, revoke, adminEnv, clearRevocations, DEPLOYER_KEY, DEPLOYER_SESSION } from "../support/revocation";
import { bearer, mintToken } from "../support/tokens";
import { linesDuring } from "../support/gate";

/**
 * The `StsGate` entrypoint (issue 21): another Worker (test/rpc-caller) binds it through a real
 * service binding with `entrypoint = "StsGate"` and calls `verify(request)` with its own incoming
 * request. The verdict is a plain object, never a thrown error; one decision line, mode rpc.
 */
const caller = (env as unknown as { RPC_CALLER: Fetcher }).RPC_CALLER;
const ALICE = "arn:aws:iam::111122223333:user/alice";

async function viaRpc(path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const res = await caller.fetch(`https://localhost${path}`, init);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe("StsGate.verify through a service binding", () => {
  it("allowed: { allowed: true, caller, rule }", async () => {
    const verdict = await viaRpc("/reports", { headers: bearer(await mintToken("alice")) });
    expect(verdict).toEqual({
      allowed: true,
      caller: { arn: ALICE, principal: ALICE, account: "111122223333", userId: expect.stringMatching(/^AIDA/) as unknown as string, type: "user" },
      rule: "allow",
    });
  });

  it("refused: { allowed: false, status, code, detail } with the codes of HTTP", async () => {
    expect(await viaRpc("/reports")).toEqual({ allowed: false, status: 401, code: "authorization_missing", detail: expect.any(String) as unknown as string });
    expect(await viaRpc("/reports", { headers: { authorization: "Bearer k8s-aws-v1.junk!" } })).toMatchObject({ allowed: false, status: 401 });
    const other = await viaRpc("/reports", { headers: bearer(await mintToken("alice", { audience: "another" })) });
    expect(other).toMatchObject({ allowed: false, status: 401, code: "sts_refused" });
  });
});

describe("StsGate.verify: the same verifier and policy as over HTTP", () => {
  const POLICY = { rules: [{ name: "deploy", methods: ["POST"], paths: ["/deploy/**"], allow: ["arn:aws:iam::111122223333:role/deployer"] }], admins: [ALICE] };
  const testEnv = { ...env, POLICY };

  it("decides on the request's method and path", async () => {
    const gate = createGateApp();
    const token = await mintToken("deployer");
    const allowed = await gate.verify(new Request("https://localhost/deploy/prod", { method: "POST", headers: bearer(token) }), testEnv);
    expect(allowed).toMatchObject({ allowed: true, rule: "deploy", caller: { arn: DEPLOYER_SESSION } });
    const wrongMethod = await gate.verify(new Request("https://localhost/deploy/prod", { headers: bearer(token) }), testEnv);
    expect(wrongMethod).toMatchObject({ allowed: false, status: 403, code: "policy_denied" });
    const wrongPath = await gate.verify(new Request("https://localhost/other", { method: "POST", headers: bearer(token) }), testEnv);
    expect(wrongPath).toMatchObject({ allowed: false, status: 403, code: "policy_denied" });
  });

  it("applies revocation", async () => {
    const gate = createGateApp();
    const revEnv = adminEnv(POLICY);
    expect((await revoke(gate, revEnv, { accessKeyId: DEPLOYER_KEY, reason: "rpc test" })).status).toBe(201);
    const verdict = await gate.verify(new Request("https://localhost/deploy/x", { method: "POST", headers: bearer(await mintToken("deployer")) }), revEnv);
    expect(verdict).toMatchObject({ allowed: false, status: 403, code: "revoked" });
    await clearRevocations();
  });

  it("picks the app by the request's host, and answers no_app for a host no app serves", async () => {
    const APPS = [{ name: "a", hosts: ["a.localhost"], audience: "a-aud", originUrl: "http://a.internal", policy: { allow: [ALICE] } }];
    const appsEnv = { ...env, AUDIENCE: undefined, ORIGIN_URL: undefined, POLICY: undefined, APPS };
    const gate = createGateApp();
    const headers = bearer(await mintToken("alice", { audience: "a-aud" }));
    expect(await gate.verify(new Request("https://a.localhost/x", { headers }), appsEnv)).toMatchObject({ allowed: true });
    expect(await gate.verify(new Request("https://b.localhost/x", { headers }), appsEnv)).toMatchObject({ allowed: false, status: 404, code: "no_app" });
  });

  it("chooses the app as over HTTP: another app's prefix in a lenient spelling is app_ambiguous, and each line names its app", async () => {
    const APPS = [
      { name: "a", hosts: ["a.localhost"], audience: "a-aud", originUrl: "http://a.internal", policy: { allow: [ALICE] } },
      { name: "docs", hosts: ["a.localhost"], pathPrefix: "/docs", audience: "docs-aud", originUrl: "http://docs.internal", policy: { allow: [ALICE] } },
    ];
    const sts = { calls: 0 };
    const appsEnv = { ...env, AUDIENCE: undefined, ORIGIN_URL: undefined, POLICY: undefined, APPS, STS: { fetch: (input: RequestInfo, init?: RequestInit) => (sts.calls++, env.STS.fetch(input, init)) } };
    const gate = createGateApp();
    const headers = bearer(await mintToken("alice", { audience: "a-aud" }));
    const { result, decisions } = await linesDuring(async () => [
      await gate.verify(new Request("https://a.localhost/DOCS/x", { headers }), appsEnv),
      await gate.verify(new Request("https://b.localhost/x", { headers }), appsEnv),
    ]);
    expect(result[0]).toMatchObject({ allowed: false, status: 400, code: "app_ambiguous" });
    expect(decisions.map((d) => [d.code, d.app])).toEqual([["app_ambiguous", "a"], ["no_app", null]]);
    // Both refused before any token work.
    expect(sts.calls).toBe(0);
  });

  it("never throws: a misconfigured gate and a broken STS resolve to refusals", async () => {
    const gate = createGateApp();
    const headers = bearer(await mintToken("alice"));
    const points: AnalyticsEngineDataPoint[] = [];
    const metrics = { writeDataPoint: (point: AnalyticsEngineDataPoint) => void points.push(point) };
    await expect(gate.verify(new Request("https://localhost/x", { headers }), { ...env, POLICY: "{", METRICS: metrics })).resolves.toMatchObject({ allowed: false, status: 500, code: "misconfigured" });
    // Its decision still writes its data point, as over HTTP.
    expect(points.map((p) => p.blobs!.slice(0, 2))).toEqual([["error", "misconfigured"]]);
    const down = { ...env, STS: { fetch: async () => { throw new Error("down"); } } };
    await expect(gate.verify(new Request("https://localhost/x", { headers: bearer(await mintToken("alice")) }), down)).resolves.toMatchObject({ allowed: false, status: 503 });
  });

  it("writes one decision line per call, mode rpc", async () => {
    const spy = vi.spyOn(console, "log").mockImplementation(() => {});
    const gate = createGateApp();
    await gate.verify(new Request("https://localhost/deploy/x", { method: "POST", headers: bearer(await mintToken("deployer")) }), testEnv);
    await gate.verify(new Request("https://localhost/deploy/x"), testEnv);
    const decisions = logLines(spy).filter((l) => l.event === "decision");
    spy.mockRestore();
    expect(decisions).toHaveLength(2);
    expect(decisions[0]).toMatchObject({ mode: "rpc", outcome: "allow", rule: "deploy", method: "POST", path: "/deploy/x", status: 200 });
    expect(decisions[1]).toMatchObject({ mode: "rpc", outcome: "deny", code: "authorization_missing", status: 401 });
  });
});
