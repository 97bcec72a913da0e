import { Hono } from "hono";
import { importJWK, SignJWT, type JSONWebKeySet } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { generateAssertionKey } from "../../src/assertion/generate";
import { requireCaller as honoRequireCaller, type CallerVariables } from "../../src/origin/hono";
import { requireCaller as nodeRequireCaller, type NodeRequestLike, type NodeResponseLike } from "../../src/origin/node";

const ISSUER = "urn:sts-gate:unit";
const AUDIENCE = "https://origin.example";

let jwks: JSONWebKeySet;
let sign: (htm: string, htu: string) => Promise<string>;

beforeAll(async () => {
  const key = await generateAssertionKey("ES256");
  jwks = { keys: [key.publicJwk] };
  const k = (await importJWK(key.privateJwk, "ES256")) as CryptoKey;
  sign = (htm, htu) =>
    new SignJWT({ arn: "arn:aws:iam::111122223333:user/alice", account: "111122223333", user_id: "AIDAEMULATORALICE0001", principal_type: "user", htm, htu })
      .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "sts-gate-caller+jwt" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject("arn:aws:iam::111122223333:user/alice")
      .setIssuedAt()
      .setExpirationTime("60s")
      .setJti("jti-1")
      .sign(k);
});

/** A fake `http.ServerResponse`: records what the middleware wrote. */
function fakeResponse() {
  const res = {
    statusCode: 200,
    headers: {} as Record<string, string>,
    body: undefined as string | undefined,
    ended: false,
    setHeader(name: string, value: string) {
      this.headers[name.toLowerCase()] = value;
    },
    end(body?: string) {
      this.body = body;
      this.ended = true;
    },
  };
  return res satisfies NodeResponseLike;
}

function fakeRequest(method: string, url: string, assertion?: string | string[], extra: Partial<NodeRequestLike> = {}): NodeRequestLike {
  return { method, url, headers: assertion === undefined ? { host: "origin.example" } : { host: "origin.example", "x-caller-assertion": assertion }, ...extra };
}

describe("Node / Express middleware (fake req/res)", () => {
  const middleware = () => nodeRequireCaller({ jwks, issuer: ISSUER, audience: AUDIENCE });

  it("sets req.caller and calls next() for a valid assertion", async () => {
    const req = fakeRequest("POST", "/base/orders?x=1", await sign("POST", "/base/orders?x=1"));
    const res = fakeResponse();
    const next = vi.fn();
    await middleware()(req, res, next);
    expect(next).toHaveBeenCalledWith();
    expect(res.ended).toBe(false);
    expect(req.caller).toMatchObject({ principal: "arn:aws:iam::111122223333:user/alice", principalType: "user", jti: "jti-1" });
  });

  it("answers 401 problem+json and does not call next without an assertion", async () => {
    const req = fakeRequest("GET", "/x");
    const res = fakeResponse();
    const next = vi.fn();
    await middleware()(req, res, next);
    expect(next).not.toHaveBeenCalled();
    expect(res.statusCode).toBe(401);
    expect(res.headers["content-type"]).toBe("application/problem+json");
    expect(res.headers["www-authenticate"]).toBe('Caller-Assertion error="assertion_missing"');
    expect(JSON.parse(res.body!)).toMatchObject({ type: "urn:sts-gate:problem:assertion_missing", status: 401, code: "assertion_missing" });
    expect(req.caller).toBeUndefined();
  });

  it("checks the method and URL taken from req", async () => {
    const jwt = await sign("GET", "/base/x");
    for (const [method, url] of [
      ["POST", "/base/x"],
      ["GET", "/base/y"],
      ["GET", "/base/x?admin=1"],
    ] as const) {
      const res = fakeResponse();
      await middleware()(fakeRequest(method, url, jwt), res, vi.fn());
      expect(res.statusCode).toBe(401);
      expect(JSON.parse(res.body!).code).toBe("assertion_wrong_request");
    }
  });

  it("uses Express's req.originalUrl, which keeps the router's mount path", async () => {
    // app.use("/base", router): inside the router req.url is "/x", req.originalUrl "/base/x".
    const req = fakeRequest("GET", "/x", await sign("GET", "/base/x"), { originalUrl: "/base/x" });
    const next = vi.fn();
    await middleware()(req, fakeResponse(), next);
    expect(next).toHaveBeenCalledWith();
  });

  it("takes urlOf for a proxy that rewrites the path", async () => {
    const req = fakeRequest("GET", "/internal/x", await sign("GET", "/base/x"), { headers: {} });
    req.headers["x-caller-assertion"] = await sign("GET", "/base/x");
    const next = vi.fn();
    await nodeRequireCaller({ jwks, issuer: ISSUER, audience: AUDIENCE, urlOf: (r) => r.url!.replace(/^\/internal/, "/base") })(req, fakeResponse(), next);
    expect(next).toHaveBeenCalledWith();
  });

  it("refuses a header sent twice (Node gives an array or a joined value)", async () => {
    const jwt = await sign("GET", "/x");
    for (const value of [[jwt, jwt], `${jwt}, ${jwt}`]) {
      const res = fakeResponse();
      await middleware()(fakeRequest("GET", "/x", value), res, vi.fn());
      expect(JSON.parse(res.body!).code).toBe("assertion_invalid");
    }
  });

  it("answers 503 with Retry-After when the gate's keys cannot be fetched", async () => {
    const res = fakeResponse();
    const failing = async () => {
      throw new TypeError("fetch failed");
    };
    await nodeRequireCaller({ jwks: failing, issuer: ISSUER, audience: AUDIENCE })(fakeRequest("GET", "/x", await sign("GET", "/x")), res, vi.fn());
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("5");
    expect(JSON.parse(res.body!).code).toBe("assertion_jwks_unavailable");
  });

  it("passes an unexpected error to next(error), Express-style", async () => {
    const boom = new Error("bug");
    const next = vi.fn();
    const res = fakeResponse();
    await nodeRequireCaller({ jwks, issuer: ISSUER, audience: AUDIENCE, urlOf: () => { throw boom; } })(fakeRequest("GET", "/x", "a.b.c"), res, next);
    expect(next).toHaveBeenCalledWith(boom);
    expect(res.ended).toBe(false);
  });

  it("refuses to build without an issuer (configuration error, at startup)", () => {
    expect(() => nodeRequireCaller({ jwks, issuer: "", audience: AUDIENCE })).toThrow(TypeError);
  });
});

describe("Hono middleware for origins", () => {
  function app() {
    const a = new Hono<{ Variables: CallerVariables }>();
    a.use("*", honoRequireCaller({ jwks, issuer: ISSUER, audience: AUDIENCE }));
    a.all("*", (c) => c.json({ principal: c.var.caller.principal, type: c.var.caller.principalType }));
    return a;
  }

  it("sets c.var.caller for a valid assertion", async () => {
    const res = await app().request("https://origin.example/base/x?y=1", { headers: { "x-caller-assertion": await sign("GET", "/base/x?y=1") } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ principal: "arn:aws:iam::111122223333:user/alice", type: "user" });
  });

  it("throws HTTPException 401 with a problem+json response", async () => {
    const res = await app().request("https://origin.example/base/x", { method: "DELETE", headers: { "x-caller-assertion": await sign("GET", "/base/x") } });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "assertion_wrong_request", status: 401 });
  });

  it("lets the app's onError see the HTTPException", async () => {
    const a = app();
    const seen: unknown[] = [];
    a.onError((err) => {
      seen.push(err);
      return (err as { getResponse(): Response }).getResponse();
    });
    const res = await a.request("https://origin.example/x");
    expect(res.status).toBe(401);
    expect(seen).toHaveLength(1);
    expect((seen[0] as { status: number }).status).toBe(401);
  });
});
