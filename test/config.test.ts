import { describe, expect, it } from "vitest";
import { DEFAULT_STS_TIMEOUT_MS, parseConfig, type GateEnv } from "../src/config";
import { identityFromSts } from "../src/identity";

/** Decisions here do not depend on the route. */
const REQ = { method: "GET", path: "/" };

const kv = { get: async () => null } as unknown as KVNamespace;
const fetcher = { fetch: async () => new Response() } as unknown as Fetcher;
const POLICY = { allow: ["arn:aws:iam::111122223333:user/alice"] };

const good: GateEnv = {
  IDENTITY_CACHE: kv,
  AUDIENCE: "sts-gate",
  ORIGIN_URL: "https://origin.example.com/base",
  POLICY,
};

function issuesOf(env: GateEnv): string[] {
  const result = parseConfig(env);
  if (result.ok) throw new Error("expected parseConfig to refuse the environment");
  return result.issues;
}

function configOf(env: GateEnv) {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(`expected a config, got ${result.issues.join("; ")}`);
  return result.config;
}

const alice = identityFromSts(
  { arn: "arn:aws:iam::111122223333:user/alice", account: "111122223333", userId: "AIDAEMULATORALICE0001" },
  "aws",
);

describe("parseConfig", () => {
  it("reads a complete environment", () => {
    const config = configOf({ ...good, STS: fetcher, ORIGIN: fetcher });
    expect(config.apps[0]!.audience).toBe("sts-gate");
    expect(config.apps[0]!.originUrl.href).toBe("https://origin.example.com/base");
    expect(config.stsTimeoutMs).toBe(DEFAULT_STS_TIMEOUT_MS);
    expect(config.identityCache).toBe(kv);
    expect(config.sts).toBe(fetcher);
    expect(config.origin).toBe(fetcher);
    expect(config.apps[0]!.policy.decide(alice, REQ).allowed).toBe(true);
  });

  // wrangler.toml tables arrive as objects; secrets and dashboard variables as strings.
  it("takes POLICY as a JSON string too", () => {
    const config = configOf({ ...good, POLICY: JSON.stringify(POLICY) });
    expect(config.apps[0]!.policy.decide(alice, REQ).allowed).toBe(true);
  });

  it.each([
    ["as an object", { allow: ["arn:aws:iam::*:role/deployer"] }],
    ["as a JSON string", JSON.stringify({ allow: ["arn:aws:iam::*:role/deployer"] })],
  ])("validates POLICY %s against the policy schema, naming the pattern", (_why, policy) => {
    expect(issuesOf({ ...good, POLICY: policy })).toEqual([expect.stringMatching(/^POLICY\.allow\[0\]: the account field/)]);
  });

  it.each([
    ["invalid JSON", "{allow: []}"],
    ["a JSON array", "[]"],
    ["a JSON string", '"arn:aws:iam::111122223333:user/alice"'],
    ["an unknown key", JSON.stringify({ allow: [], denny: [] })],
    ["a number", 42],
    ["nothing", undefined],
  ])("refuses POLICY that is %s, naming POLICY", (_why, policy) => {
    const issues = issuesOf({ ...good, POLICY: policy });
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) expect(issue).toMatch(/^POLICY[.:]/);
  });

  it("says that an invalid POLICY string is not valid JSON", () => {
    expect(issuesOf({ ...good, POLICY: "{allow: []}" })).toEqual(["POLICY: is a string but not valid JSON"]);
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["with a space", "sts gate"],
    ["with a newline", "sts-gate\n"],
    ["non-ASCII", "stś-gate"],
    ["too long", "a".repeat(257)],
    ["not a string", 42],
  ])("refuses an AUDIENCE that is %s, naming AUDIENCE", (_why, audience) => {
    expect(issuesOf({ ...good, AUDIENCE: audience })).toEqual([expect.stringMatching(/^AUDIENCE: /)]);
  });

  it("accepts an AUDIENCE of 256 visible characters", () => {
    expect(configOf({ ...good, AUDIENCE: "a".repeat(256) }).apps[0]!.audience).toHaveLength(256);
  });

  it.each([
    ["missing", undefined],
    ["not a URL", "not a url"],
    ["relative", "/base"],
    ["another scheme", "ftp://origin.example.com"],
    ["a javascript: URL", "javascript:alert(1)"],
    ["with credentials", "https://user:pw@origin.example.com"],
    ["with a query", "https://origin.example.com/?a=1"],
    ["with a fragment", "https://origin.example.com/#f"],
  ])("refuses an ORIGIN_URL that is %s, naming ORIGIN_URL", (_why, url) => {
    expect(issuesOf({ ...good, ORIGIN_URL: url })).toEqual([expect.stringMatching(/^ORIGIN_URL: /)]);
  });

  it("accepts a plain http ORIGIN_URL", () => {
    expect(configOf({ ...good, ORIGIN_URL: "http://echo-origin.local/base" }).apps[0]!.originUrl.protocol).toBe("http:");
  });

  it.each([
    ["a string, as wrangler vars give it", "1000", 1000],
    ["a number", 2500, 2500],
    ["the lower bound", "100", 100],
    ["the upper bound", "60000", 60_000],
    ["absent, the default", undefined, DEFAULT_STS_TIMEOUT_MS],
  ])("coerces STS_TIMEOUT_MS given as %s", (_why, value, ms) => {
    expect(configOf({ ...good, STS_TIMEOUT_MS: value }).stsTimeoutMs).toBe(ms);
  });

  it.each([
    ["not a number", "abc"],
    ["below 100", "99"],
    ["above 60000", "60001"],
    ["a fraction", "1500.5"],
    ["negative", "-1000"],
    ["empty, which coerces to 0", ""],
  ])("refuses an STS_TIMEOUT_MS that is %s, naming STS_TIMEOUT_MS", (_why, value) => {
    expect(issuesOf({ ...good, STS_TIMEOUT_MS: value })).toEqual([expect.stringMatching(/^STS_TIMEOUT_MS: /)]);
  });

  it.each([
    ["IDENTITY_CACHE", { IDENTITY_CACHE: undefined }],
    ["IDENTITY_CACHE", { IDENTITY_CACHE: "a namespace id" }],
    ["STS", { STS: "https://sts.amazonaws.com" }],
    ["ORIGIN", { ORIGIN: {} }],
  ])("refuses a bad %s binding, naming it", (field, patch) => {
    expect(issuesOf({ ...good, ...patch } as GateEnv)).toEqual([expect.stringMatching(new RegExp(`^${field}: `))]);
  });

  // Never fails open: every problem is reported, each under its own field.
  it("reports every bad field at once", () => {
    const issues = issuesOf({ IDENTITY_CACHE: kv, ORIGIN_URL: "ftp://x", POLICY: "{", STS_TIMEOUT_MS: "abc" });
    expect(issues.map((i) => i.split(":")[0]).sort()).toEqual(["AUDIENCE", "ORIGIN_URL", "POLICY", "STS_TIMEOUT_MS"]);
  });
});
