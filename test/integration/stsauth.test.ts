import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import { stsAuth, type StsAuthVariables } from "../../src/middleware";
import { GateProblem } from "../../src/problem";
import { through } from "../support/gate";
import { stsCallsFor } from "../support/emulator";
import { bearer, mintToken, TEST_AUDIENCE } from "../support/tokens";

/** The verification core as a plain Hono middleware, without the gate's forwarding. */
function app(options: Partial<Parameters<typeof stsAuth>[0] & object> = {}) {
  const a = new Hono<{ Variables: StsAuthVariables }>();
  a.use(
    "*",
    stsAuth({
      audience: TEST_AUDIENCE,
      policy: { allow: ["arn:aws:iam::111122223333:user/*"] },
      sts: env.STS,
      ...options,
    }),
  );
  a.get("*", (c) => c.json({ arn: c.var.caller.arn, rule: c.var.caller.rule }));
  a.onError((e) => (e instanceof GateProblem ? e.getResponse() : new Response("bug", { status: 500 })));
  return a;
}

describe("stsAuth", () => {
  it("sets c.var.caller for an allowed caller", async () => {
    const res = await app().request("/x", { headers: bearer(await mintToken("alice")) });
    expect(await res.json()).toEqual({ arn: "arn:aws:iam::111122223333:user/alice", rule: "allow" });
  });

  it("throws problem+json refusals as HTTPExceptions", async () => {
    // The app's onError only records what reached it, so the assertion is on what stsAuth threw.
    let thrown: unknown;
    const a = new Hono();
    a.use("*", stsAuth({ audience: TEST_AUDIENCE, policy: { allow: ["arn:aws:iam::111122223333:user/*"] }, sts: env.STS }));
    a.get("*", (c) => c.text("reached"));
    a.onError((e) => {
      thrown = e;
      return new Response("recorded", { status: 599 });
    });
    expect((await a.request("/x")).status).toBe(599);
    expect(thrown).toBeInstanceOf(HTTPException);
    const response = (thrown as HTTPException).getResponse();
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(((await response.json()) as { code: string }).code).toBe("authorization_missing");
  });

  it("answers an app without onError with the problem+json itself (Hono's HTTPException handling)", async () => {
    const a = new Hono();
    a.use("*", stsAuth({ audience: TEST_AUDIENCE, policy: { allow: ["arn:aws:iam::111122223333:user/*"] }, sts: env.STS }));
    a.get("*", (c) => c.text("reached"));
    const res = await a.request("/x", { headers: { authorization: "Basic x" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("checks object options when it is built", () => {
    expect(() => stsAuth({ audience: "", policy: { allow: [] } })).toThrow(TypeError);
    expect(() => stsAuth({ audience: TEST_AUDIENCE, policy: null as unknown as { allow: string[] } })).toThrow(TypeError);
    expect(() => stsAuth({ audience: TEST_AUDIENCE, policy: { allow: [] }, timeoutMs: -1 })).toThrow(TypeError);
  });

  describe("rate limiting STS-bound verifications per client", () => {
    function limiter(budget: number) {
      const seen: string[] = [];
      return {
        seen,
        binding: {
          async limit({ key }: { key: string }) {
            seen.push(key);
            return { success: seen.filter((k) => k === key).length <= budget };
          },
        } as RateLimit,
      };
    }

    it("refuses a client over budget with 429 before calling STS", async () => {
      const l = limiter(2);
      const a = app({ rateLimiter: l.binding });
      const ip = { "cf-connecting-ip": "203.0.113.9" };
      const tokens = [await mintToken("alice"), await mintToken("alice"), await mintToken("alice")];
      expect((await a.request("/x", { headers: { ...bearer(tokens[0]!), ...ip } })).status).toBe(200);
      expect((await a.request("/x", { headers: { ...bearer(tokens[1]!), ...ip } })).status).toBe(200);
      const limited = await a.request("/x", { headers: { ...bearer(tokens[2]!), ...ip } });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).not.toBeNull();
      expect(((await limited.json()) as { code: string }).code).toBe("rate_limited");
      expect(await stsCallsFor(tokens[2]!)).toBe(0);
      expect(l.seen).toEqual(["203.0.113.9", "203.0.113.9", "203.0.113.9"]);
    });

    it("does not count cache hits or local rejections", async () => {
      const l = limiter(1);
      const a = app({ rateLimiter: l.binding });
      const ip = { "cf-connecting-ip": "198.51.100.7" };
      const token = await mintToken("alice");
      for (let i = 0; i < 5; i++) expect((await a.request("/x", { headers: { ...bearer(token), ...ip } })).status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await a.request("/x", { headers: { ...bearer("junk"), ...ip } })).status).toBe(401);
      expect(l.seen).toHaveLength(1);
    });

    it("keeps clients apart", async () => {
      const l = limiter(1);
      const a = app({ rateLimiter: l.binding });
      expect((await a.request("/x", { headers: { ...bearer(await mintToken("alice")), "cf-connecting-ip": "192.0.2.1" } })).status).toBe(200);
      expect((await a.request("/x", { headers: { ...bearer(await mintToken("alice")), "cf-connecting-ip": "192.0.2.2" } })).status).toBe(200);
    });
  });
});

describe("the gate with a Workers rate-limiting binding as STS_RATE_LIMITER", () => {
  it("refuses the fourth STS-bound verification from one IP within the period, 429 with Retry-After", async () => {
    const { createGateApp } = await import("../../src/gate/dispatch");
    const app = createGateApp();
    const limitedEnv = { ...env, STS_RATE_LIMITER: env.TEST_RATE_LIMITER };
    const ip = "203.0.113.77";
    const statuses: number[] = [];
    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) {
      const token = await mintToken("alice");
      tokens.push(token);
      const res = await through(app, limitedEnv, new Request("https://localhost/r", { headers: { ...bearer(token), "cf-connecting-ip": ip } }));
      statuses.push(res.status);
      if (res.status === 429) expect(res.headers.get("retry-after")).not.toBeNull();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await stsCallsFor(tokens[3]!)).toBe(0);
    // Another client is unaffected.
    const other = await through(app, limitedEnv, new Request("https://localhost/r", { headers: { ...bearer(await mintToken("alice")), "cf-connecting-ip": "203.0.113.78" } }));
    expect(other.status).toBe(200);
  });
});

describe("stsAuth with an invalid policy document", () => {
  it("fails closed with 500 misconfigured, not an unhandled error", async () => {
    const res = await app({ policy: { allow: ["arn:aws:iam::*:role/deployer"] } }).request("/x", { headers: bearer(await mintToken("alice")) });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe("misconfigured");
  });
});
