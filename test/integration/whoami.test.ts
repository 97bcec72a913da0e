import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { WHOAMI_PATH } from "../../src/gate/routes";
import { countedEnv, linesDuring, problemCode, through } from "../support/gate";
import { adminEnv, clearRevocations, DEPLOYER_KEY, DEPLOYER_SESSION, revoke } from "../support/revocation";
import { bearer, mintToken } from "../support/tokens";

/**
 * `GET /.well-known/sts-gate/whoami` (issue 21): the caller's identity as the gate sees it,
 * whether or not the policy would let them in; nothing of the policy, nothing forwarded, and
 * otherwise like any request (token rules, revocation, rate limit).
 */
const URL_ = `https://localhost${WHOAMI_PATH}`;

afterEach(clearRevocations);

describe("whoami", () => {
  it("answers 200 JSON with exactly the caller's arn, principal, account, userId and type; nothing forwarded", async () => {
    const { env: testEnv, calls } = countedEnv();
    const headers = bearer(await mintToken("deployer"));
    const { result: res, decisions } = await linesDuring(() => through(createGateApp(), testEnv, URL_, { headers }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({
      arn: DEPLOYER_SESSION,
      principal: "arn:aws:iam::111122223333:role/deployer",
      account: "111122223333",
      userId: expect.stringMatching(/^AROA/) as unknown as string,
      type: "assumed-role",
    });
    expect(calls.origin).toBe(0);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ outcome: "allow", route: "whoami", arn: DEPLOYER_SESSION, status: 200 });
    expect(decisions[0]?.rule).toBeUndefined();
  });

  it("answers for a caller the policy would refuse, and says nothing of the policy", async () => {
    const testEnv = { ...env, POLICY: { allow: ["arn:aws:iam::111122223333:user/alice"] } };
    const res = await through(createGateApp(), testEnv, URL_, { headers: bearer(await mintToken("deployer")) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ arn: DEPLOYER_SESSION });
    expect(Object.keys(JSON.parse(text) as object).sort()).toEqual(["account", "arn", "principal", "type", "userId"]);
    expect(text).not.toMatch(/allow|rule|alice|policy/i);
    // The same caller is refused at any other path.
    const refused = await through(createGateApp(), testEnv, "https://localhost/x", { headers: bearer(await mintToken("deployer")) });
    expect(refused.status).toBe(403);
  });

  it("gives a bad or missing token the same 401 as any request", async () => {
    const gate = createGateApp();
    const missing = await through(gate, env, URL_);
    expect(missing.status).toBe(401);
    expect(await problemCode(missing)).toBe("authorization_missing");
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="sts-gate"');
    const junk = await through(gate, env, URL_, { headers: { authorization: "Bearer k8s-aws-v1.junk!" } });
    expect(junk.status).toBe(401);
    const elsewhere = await through(gate, env, "https://localhost/x", { headers: { authorization: "Bearer k8s-aws-v1.junk!" } });
    expect(await problemCode(junk)).toBe(await problemCode(elsewhere));
  });

  it("applies revocation", async () => {
    const gate = createGateApp();
    const testEnv = adminEnv();
    expect((await revoke(gate, testEnv, { accessKeyId: DEPLOYER_KEY, reason: "whoami test" })).status).toBe(201);
    const res = await through(gate, testEnv, URL_, { headers: bearer(await mintToken("deployer")) });
    expect(res.status).toBe(403);
    expect(await problemCode(res)).toBe("revoked");
  });

  it("applies the rate limit", async () => {
    const gate = createGateApp();
    const testEnv = { ...env, STS_RATE_LIMITER: env.TEST_RATE_LIMITER };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await through(gate, testEnv, URL_, { headers: { ...(bearer(await mintToken("alice")) as Record<string, string>), "cf-connecting-ip": "198.51.100.21" } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("takes GET and HEAD only: 405 with Allow otherwise, before any token work", async () => {
    const { env: testEnv, calls } = countedEnv();
    const res = await through(createGateApp(), testEnv, URL_, { method: "POST", headers: bearer(await mintToken("alice")) });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect(calls.sts).toBe(0);
    const head = await through(createGateApp(), testEnv, URL_, { method: "HEAD", headers: bearer(await mintToken("alice")) });
    expect(head.status).toBe(200);
  });

  it("is per app: the app serving the host verifies with its own audience", async () => {
    const APPS = [
      { name: "a", hosts: ["a.localhost"], audience: "a-aud", originUrl: "http://a.internal", policy: { allow: ["arn:aws:iam::111122223333:user/nobody"] } },
      { name: "b", hosts: ["b.localhost"], audience: "b-aud", originUrl: "http://b.internal", policy: { allow: ["arn:aws:iam::111122223333:user/nobody"] } },
    ];
    const appsEnv = { ...env, AUDIENCE: undefined, ORIGIN_URL: undefined, POLICY: undefined, APPS };
    const gate = createGateApp();
    const ok = await through(gate, appsEnv, `https://b.localhost${WHOAMI_PATH}`, { headers: bearer(await mintToken("alice", { audience: "b-aud" })) });
    expect(ok.status).toBe(200);
    const wrong = await through(gate, appsEnv, `https://a.localhost${WHOAMI_PATH}`, { headers: bearer(await mintToken("alice", { audience: "b-aud" })) });
    expect(wrong.status).toBe(401);
  });
});
