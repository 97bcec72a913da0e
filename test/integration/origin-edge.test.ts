import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { STRIPPED_HEADERS } from "../../src/edge/header-hygiene";
import { matcherWork } from "../../src/wildcard";
import { captureLog, through, type Echo } from "../support/gate";
import { stsCallsFor } from "../support/emulator";
import { spiedKv } from "../support/kv";
import { bearer, mintToken } from "../support/tokens";

/**
 * The edge between the gate and the origin (ATTACKS #16–#23, #25), through the Worker: what the
 * echo origin receives is exactly what the gate verified and decided.
 */
async function echoFor(headers: Record<string, string>, url = "https://localhost/", init: RequestInit = {}): Promise<Echo> {
  const res = await exports.default.fetch(url, { ...init, headers: { ...bearer(await mintToken("alice")), ...headers } });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Echo;
}

afterEach(() => vi.restoreAllMocks());

describe("header spelling aliases (ATTACKS #16)", () => {
  it.each([["X_Caller_Arn"], ["x_caller_arn"], ["X-Caller_Principal"], ["x_caller_account"], ["X_CALLER_TYPE"], ["x_caller-user_id"], ["X_Caller_Assertion"]])(
    "strips %s: a CGI origin would read it as the gate's own header",
    async (name) => {
      const echo = await echoFor({ [name]: "arn:aws:iam::111122223333:role/admin" });
      expect(Object.keys(echo.headers).filter((h) => h.includes("_"))).toEqual([]);
      expect(JSON.stringify(echo.headers)).not.toContain("role/admin");
    },
  );

  it.each([["Proxy_Authorization"], ["proxy-authorization"], ["X_Forwarded_Host"], ["x_http_method_override"], ["X_Original_URL"]])(
    "strips %s in any spelling",
    async (name) => {
      const echo = await echoFor({ [name]: "forged" });
      expect(JSON.stringify(echo.headers)).not.toContain("forged");
    },
  );

  it("passes ordinary headers with underscores", async () => {
    const echo = await echoFor({ x_trace_context: "t-1", "x-custom": "c-1" });
    expect(echo.headers["x_trace_context"]).toBe("t-1");
    expect(echo.headers["x-custom"]).toBe("c-1");
  });
});

describe("method overrides (ATTACKS #17)", () => {
  it.each([["X-HTTP-Method-Override"], ["X-HTTP-Method"], ["X-Method-Override"]])("never forwards %s", async (name) => {
    const echo = await echoFor({ [name]: "DELETE" }, "https://localhost/items", { method: "POST", body: "x" });
    expect(echo.method).toBe("POST");
    expect(Object.values(echo.headers)).not.toContain("DELETE");
  });
});

describe("URL overrides (ATTACKS #18)", () => {
  it.each([["X-Original-URL"], ["X-Rewrite-URL"], ["X-Original-URI"]])("never forwards %s", async (name) => {
    const echo = await echoFor({ [name]: "/admin" }, "https://localhost/public/page");
    expect(echo.url).toBe("http://echo-origin.local/base/public/page");
    expect(Object.values(echo.headers)).not.toContain("/admin");
  });
});

describe("forwarding headers are the gate's (ATTACKS #19)", () => {
  it("drops the client's and writes its own X-Forwarded-For, -Proto and -Host", async () => {
    const echo = await echoFor({
      "cf-connecting-ip": "203.0.113.5",
      forwarded: "for=198.51.100.1;host=evil.example;proto=http",
      "x-forwarded-for": "198.51.100.1",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "http",
      "x-forwarded-prefix": "/evil",
      "x-forwarded-port": "8443",
      "x-real-ip": "198.51.100.1",
      "true-client-ip": "198.51.100.1",
    });
    expect(echo.headers["x-forwarded-for"]).toBe("203.0.113.5");
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
    expect(echo.headers["x-forwarded-host"]).toBe("localhost");
    for (const name of ["forwarded", "x-forwarded-prefix", "x-forwarded-port", "x-real-ip", "true-client-ip"]) {
      expect(echo.headers[name], name).toBeUndefined();
    }
    expect(JSON.stringify(echo.headers)).not.toContain("198.51.100.1");
    expect(JSON.stringify(echo.headers)).not.toContain("evil.example");
  });

  it("names the host the client addressed", async () => {
    const echo = await echoFor({}, "https://127.0.0.1:8787/x");
    expect(echo.headers["x-forwarded-host"]).toBe("127.0.0.1:8787");
  });

  it("lists a reason for every stripped header", () => {
    for (const { name, reason } of STRIPPED_HEADERS) {
      expect(name).toBe(name.toLowerCase());
      expect(name).not.toContain("_");
      expect(reason.length, name).toBeGreaterThan(10);
    }
  });
});

describe("paths outside ORIGIN_URL's prefix (ATTACKS #20)", () => {
  // The test env's ORIGIN_URL is http://echo-origin.local/base.
  it.each([
    ["/..;/internal"],
    ["/%2e%2e;/internal"],
    ["/.%2E;/internal"],
    ["/a/..;x=1/b"],
    ["/.;x=1/internal"],
    ["/..%2finternal"],
    ["/..%2Finternal"],
    ["/x%5c..%5cinternal"],
    ["/%252e%252e/internal"],
    ["/a%252fb"],
    ["/%u002e%u002e/internal"],
    ["/..%00/internal"],
    ["/..%3b/internal"],
    ["/%2E%2E%3B/x"],
    ["/%25252e%25252e/x"],
    ["/%c0%ae%c0%ae/x"],
    ["/%ef%bc%8e%ef%bc%8e/x"],
  ])("refuses %s with 400 path_outside_prefix, before forwarding", async (path) => {
    let forwarded = 0;
    const origin = { fetch: () => (forwarded++, Promise.resolve(new Response("reached"))) } as unknown as Fetcher;
    const res = await through(createGateApp(), { ...env, ORIGIN: origin }, new Request(`https://localhost${path}`, { headers: bearer(await mintToken("alice")) }));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as { code: string }).code).toBe("path_outside_prefix");
    expect(forwarded).toBe(0);
  });

  it.each([["/a;b=1/c"], ["/files/report%20final.pdf"], ["/..a/b."], ["/x"]])("forwards %s, which stays below the prefix", async (path) => {
    const echo = await echoFor({}, `https://localhost${path}`);
    expect(echo.url.startsWith("http://echo-origin.local/base/")).toBe(true);
  });

  it("leaves encoded slashes alone when ORIGIN_URL has no path", async () => {
    const echo = await (async () => {
      const res = await through(createGateApp(), { ...env, ORIGIN_URL: "http://echo-origin.local" }, new Request("https://localhost/projects/group%2Fproject", { headers: bearer(await mintToken("alice")) }));
      return { status: res.status, body: (await res.json()) as Echo };
    })();
    expect(echo.status).toBe(200);
    expect(echo.body.url).toBe("http://echo-origin.local/projects/group%2Fproject");
  });
});

describe("rate-limit keys (ATTACKS #22)", () => {
  it("counts every address of one IPv6 /64 as one client, and checks before the KV read", async () => {
    const seen: string[] = [];
    const limiter = { limit: async ({ key }: { key: string }) => (seen.push(key), { success: seen.filter((k) => k === key).length <= 2 }) } as RateLimit;
    const { kv, reads: kvReads } = spiedKv();
    const app = createGateApp();
    const statuses: number[] = [];
    const tokens: string[] = [];
    for (const ip of ["2001:db8:1:2::1", "2001:db8:1:2:aaaa::9", "2001:0db8:0001:0002:ffff:ffff:ffff:ffff"]) {
      const token = await mintToken("alice");
      tokens.push(token);
      const res = await through(app, { ...env, STS_RATE_LIMITER: limiter, IDENTITY_CACHE: kv }, new Request("https://localhost/", { headers: { ...bearer(token), "cf-connecting-ip": ip } }));
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(new Set(seen)).toEqual(new Set(["2001:db8:1:2::/64"]));
    // The limited request cost neither a KV read nor an STS call.
    expect(kvReads).toHaveLength(2);
    expect(await stsCallsFor(tokens[2]!)).toBe(0);
  });
});

describe("development wiring serves only loopback hosts (ATTACKS #23)", () => {
  async function fetchAt(host: string, overrides: Record<string, unknown> = {}) {
    const lines = captureLog().raw;
    let forwarded = 0;
    const origin = { fetch: () => (forwarded++, Promise.resolve(new Response("reached"))) } as unknown as Fetcher;
    const res = await through(createGateApp(), { ...env, ORIGIN: origin, ...overrides }, new Request(`https://${host}/`, { headers: bearer(await mintToken("alice")) }));
    vi.restoreAllMocks();
    return { res, lines, forwarded };
  }

  it.each([["sts-gate.example.workers.dev"], ["gate.example.com"], ["localhost.example.com"], ["127.0.0.2"]])(
    "answers %s with 500 misconfigured, a log line that says why, and forwards nothing",
    async (host) => {
      const { res, lines, forwarded } = await fetchAt(host);
      expect(res.status).toBe(500);
      expect(((await res.json()) as { code: string }).code).toBe("misconfigured");
      expect(forwarded).toBe(0);
      expect(lines.some((l) => l.includes("development wiring") && l.includes("STS"))).toBe(true);
    },
  );

  it.each([["localhost"], ["127.0.0.1"], ["[::1]"], ["LOCALHOST:8787"]])("serves %s", async (host) => {
    const { res, forwarded } = await fetchAt(host);
    expect(res.status).toBe(200);
    expect(forwarded).toBe(1);
  });

  it("treats a signing key that has been committed as development wiring, even without STS", async () => {
    // A fresh key stands in for a committed one (committedKeys only adds to the built-in list),
    // so no private key is needed in the repository to prove the rule.
    const { generateAssertionKey } = await import("../../src/assertion/generate");
    const key = await generateAssertionKey("EdDSA");
    const app = createGateApp({ committedKeys: new Set([key.publicJwk.x!]) });
    const wiring = { ...env, STS: undefined, ASSERTION_PRIVATE_JWK: JSON.stringify(key.privateJwk) };
    const lines = captureLog().raw;
    const publicHost = await through(app, wiring, new Request("https://gate.example.com/.well-known/jwks.json"));
    expect(publicHost.status).toBe(500);
    expect(((await publicHost.json()) as { code: string }).code).toBe("misconfigured");
    expect(lines.some((l) => l.includes("development wiring") && l.includes("ASSERTION_PRIVATE_JWK"))).toBe(true);
    expect(lines.some((l) => l.includes(key.privateJwk.d!))).toBe(false);
    const loopback = await through(app, wiring, new Request("https://localhost/.well-known/jwks.json"));
    expect(loopback.status).toBe(200);
    expect(((await loopback.json()) as { keys: Array<{ x: string }> }).keys[0]!.x).toBe(key.publicJwk.x);
  });

  it("refuses a key spelled in non-canonical base64url, so no spelling of a committed key passes for another", async () => {
    const { generateAssertionKey } = await import("../../src/assertion/generate");
    const key = await generateAssertionKey("EdDSA");
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const x = key.publicJwk.x!;
    // The last of 43 characters carries 2 unused bits: index + 1 decodes to the same 32 bytes.
    const respelled = x.slice(0, -1) + alphabet[alphabet.indexOf(x.at(-1)!) + 1];
    const lines = captureLog().raw;
    const res = await through(createGateApp(), { ...env, ASSERTION_PRIVATE_JWK: JSON.stringify({ ...key.privateJwk, x: respelled }) }, new Request("https://localhost/.well-known/jwks.json"));
    expect(res.status).toBe(500);
    expect(lines.some((l) => l.includes("ASSERTION_PRIVATE_JWK.x") && l.includes("canonical"))).toBe(true);
  });

  it("serves a public host with neither an STS binding nor a committed key", async () => {
    const { generateKeyPair, exportJWK } = await import("jose");
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const jwk = JSON.stringify({ ...(await exportJWK(privateKey)), kid: "fresh", alg: "EdDSA", use: "sig" });
    const lines = captureLog().raw;
    const res = await through(createGateApp(), { ...env, STS: undefined, ASSERTION_PRIVATE_JWK: jwk }, new Request("https://gate.example.com/.well-known/jwks.json"));
    expect(res.status).toBe(200);
    expect(lines.some((l) => l.includes("development wiring"))).toBe(false);
  });
});

describe("denials do not map the policy (ATTACKS #25)", () => {
  const A = "111122223333";
  const policy = {
    accounts: [A],
    deny: [`arn:aws:iam::${A}:role/reader`],
    pin: { [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER2" },
    rules: [{ name: "secret-rule-name", methods: ["POST"], paths: ["/hidden/**"], allow: [`arn:aws:iam::${A}:user/alice`] }],
  };

  it.each([
    ["reader", "GET", "/hidden/x", "a deny pattern", /^denied by deny pattern arn:aws:iam::111122223333:role\/reader$/],
    ["deployer", "GET", "/hidden/x", "a pin", /^UserId does not carry the pinned unique ID for arn:aws:iam::111122223333:role\/deployer$/],
    ["alice", "GET", "/hidden/x", "no rule", /^no rule matches GET \/hidden\/x for arn:aws:iam::111122223333:user\/alice/],
    ["other-account-deployer", "GET", "/hidden/x", "accounts", /^account \d{12} is not in accounts$/],
  ])("%s %s %s (%s): the body names the caller, the request and the code; the log keeps the reason", async (who, method, path, _why, reason) => {
    const lines = captureLog().raw;
    const res = await through(createGateApp(), { ...env, POLICY: policy }, new Request(`https://localhost${path}`, { method, headers: bearer(await mintToken(who)) }));
    expect(res.status).toBe(403);
    const body = await res.text();
    const problem = JSON.parse(body) as { code: string; detail: string };
    expect(problem.code).toBe("policy_denied");
    expect(problem.detail).toContain(`${method} ${path}`);
    expect(problem.detail).toMatch(/^arn:aws:iam::\d{12}:(role|user)\//);
    for (const secret of ["secret-rule-name", "/hidden/**", "role/reader,", "AROAEMULATORDEPLOYER2", "accounts", "deny", "pattern", "rule", "pin"]) {
      expect(body, secret).not.toContain(secret);
    }
    const decision = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === "decision")!;
    // The reason itself, not its string form: String(undefined) would be "undefined".
    expect(decision.reason).toEqual(expect.stringMatching(reason));
  });
});

describe("policy matching in linear time (ATTACKS #21)", () => {
  // long-path-user's ARN is user/<450 a>/<60 a>: a backtracking `[^:]*a` per `*` would take
  // minutes on it; the linear matcher takes one pass per pattern.
  const A = "111122223333";
  const hostile = (n: number, last: string) => `arn:aws:iam::${A}:user/${"*a".repeat(n)}*${last}`;

  // Work, not time: the matchers count their comparisons (matcherWork), and a clock in workerd
  // moves with the machine's load. Linear means at most one pass over the ARN per pattern,
  // comparing each position against a piece of at most a few characters.
  it("decides a request against patterns with a hundred '*' in one pass over the ARN per pattern", async () => {
    const patterns = { deny: [hostile(100, "b"), hostile(50, "c")], hostile: Array.from({ length: 20 }, (_, i) => hostile(100, `x${i}`)), last: [hostile(100, "a")] };
    const policy = { deny: patterns.deny, rules: [{ name: "hostile", allow: patterns.hostile }, { name: "last", allow: patterns.last }] };
    const token = await mintToken("long-path-user");
    const app = createGateApp();
    const request = () => through(app, { ...env, POLICY: policy }, new Request("https://localhost/", { headers: bearer(token) }));
    const first = await request(); // verifies at STS and caches
    expect(first.status).toBe(200);
    matcherWork.steps = 0;
    const again = await request();
    expect(again.status).toBe(200);
    const principal = ((await again.json()) as Echo).headers["x-caller-principal"]!;
    expect(principal).toContain("user/aaaa");
    const all = [...patterns.deny, ...patterns.hostile, ...patterns.last];
    expect(matcherWork.steps).toBeGreaterThan(0);
    expect(matcherWork.steps).toBeLessThanOrEqual(all.reduce((n, p) => n + 3 * (principal.length + p.length), 0));
  });
});

describe("method override parameters (ATTACKS #17)", () => {
  it.each([["_method=DELETE"], ["a=1&_method=PUT"], ["%5Fmethod=DELETE"], ["_METHOD=delete"]])(
    "refuses ?%s with 400 method_override, before forwarding",
    async (query) => {
      let forwarded = 0;
      const origin = { fetch: () => (forwarded++, Promise.resolve(new Response("reached"))) } as unknown as Fetcher;
      const res = await through(createGateApp(), { ...env, ORIGIN: origin }, new Request(`https://localhost/items/1?${query}`, { method: "POST", body: "x", headers: bearer(await mintToken("alice")) }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("method_override");
      expect(forwarded).toBe(0);
    },
  );

  it("forwards other parameters that mention methods", async () => {
    const echo = await echoFor({}, "https://localhost/items?method=fast&x_method=1");
    expect(echo.url).toBe("http://echo-origin.local/base/items?method=fast&x_method=1");
  });
});

describe("underscore aliases of other headers (ATTACKS #16)", () => {
  it("strips an underscore spelling of a header the request also has, and of Cloudflare's", async () => {
    const echo = await echoFor({ "content-type": "text/plain", Content_Type: "application/x-evil", CF_Connecting_IP: "198.51.100.1", cf_visitor: "{}" });
    expect(echo.headers["content-type"]).toBe("text/plain");
    expect(JSON.stringify(echo.headers)).not.toContain("x-evil");
    expect(JSON.stringify(echo.headers)).not.toContain("198.51.100.1");
    expect(Object.keys(echo.headers).filter((h) => h.includes("_"))).toEqual([]);
  });

  it.each([["X-Forwarded-Ssl"], ["X_Forwarded_Scheme"], ["x-forwarded-server"], ["X-Forwarded-Uri"], ["x-forwarded-anything"]])("strips %s", async (name) => {
    const echo = await echoFor({ [name]: "forged" });
    expect(JSON.stringify(echo.headers)).not.toContain("forged");
  });
});

describe("path globs in linear time (ATTACKS #21)", () => {
  it("decides a long path against many '**' globs in steps proportional to glob × path", async () => {
    const globs = [`/**${"/a".repeat(60)}/b`, `/**/a/**/a/**/a/**/c`, `/**${"/*a*".repeat(60)}/d`];
    const policy = { rules: [{ name: "globs", paths: globs, allow: ["arn:aws:iam::111122223333:user/*"] }] };
    const token = await mintToken("alice");
    const app = createGateApp();
    const path = "/a".repeat(250);
    const request = () => through(app, { ...env, POLICY: policy }, new Request(`https://localhost${path}`, { headers: bearer(token) }));
    expect((await request()).status).toBe(403);
    matcherWork.steps = 0;
    const again = await request();
    expect(again.status).toBe(403);
    expect(matcherWork.steps).toBeGreaterThan(0);
    // The principal patterns add a few hundred; the globs at most glob × path each.
    expect(matcherWork.steps).toBeLessThanOrEqual(globs.reduce((n, g) => n + (g.length + 1) * (path.length + 1), 1000));
  });

  it("matches no glob for a path of more than 256 segments", async () => {
    const policy = { rules: [{ name: "any", paths: ["/**"], allow: ["arn:aws:iam::111122223333:user/*"] }] };
    const app = createGateApp();
    const token = await mintToken("alice");
    const at = (n: number) => through(app, { ...env, POLICY: policy }, new Request(`https://localhost${"/a".repeat(n)}`, { headers: bearer(token) }));
    expect((await at(256)).status).toBe(200);
    expect((await at(257)).status).toBe(403);
  });
});
