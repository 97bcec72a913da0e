import { describe, expect, it } from "vitest";
import { identityFromSts, type CallerIdentity, type StsAnswer } from "../../src/identity";
import {
  compilePathGlob,
  compilePolicy,
  formatPolicyPath,
  policyPath,
  PolicySchema,
  wildcardMatch,
} from "../../src/policy";
import { matcherWork } from "../../src/wildcard";
import { COOKBOOK } from "../support/policy";

const A = "111122223333";
const B = "444455556666";
const who = (answer: StsAnswer): CallerIdentity => identityFromSts(answer, "aws");

const alice = who({ arn: `arn:aws:iam::${A}:user/alice`, account: A, userId: "AIDAEMULATORALICE0001" });
const deployer = who({ arn: `arn:aws:sts::${A}:assumed-role/deployer/ci-run-42`, account: A, userId: "AROAEMULATORDEPLOYER1:ci-run-42" });
const reader = who({ arn: `arn:aws:sts::${A}:assumed-role/reader/laptop`, account: A, userId: "AROAEMULATORREADER001:laptop" });
const strangerDeployer = who({ arn: `arn:aws:sts::${B}:assumed-role/deployer/ci-run-7`, account: B, userId: "AROAEMULATOROTHER0001:ci-run-7" });
const bob = who({ arn: `arn:aws:sts::${A}:federated-user/bob.jones@example.com`, account: A, userId: `${A}:bob.jones@example.com` });
const root = who({ arn: `arn:aws:iam::${A}:root`, account: A, userId: A });
const iamRole = who({ arn: `arn:aws:iam::${A}:role/deployer`, account: A, userId: "AROAEMULATORDEPLOYER1" });

const GET = (path: string) => ({ method: "GET", path });
const POST = (path: string) => ({ method: "POST", path });

/** The schema's issues as the gate logs them. */
function issues(doc: unknown): string[] {
  const parsed = PolicySchema.safeParse(doc);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${formatPolicyPath(i.path)}: ${i.message}`);
}

function policy(doc: unknown) {
  return compilePolicy(PolicySchema.parse(doc));
}

describe("compilePathGlob", () => {
  it.each([
    ["/deploy/**", "/deploy"],
    ["/deploy/**", "/deploy/"],
    ["/deploy/**", "/deploy/app"],
    ["/deploy/**", "/deploy/app/v2/config"],
    ["/**", "/"],
    ["/**", "/anything/at/all"],
    ["/", "/"],
    ["/*", "/x"],
    ["/a/*", "/a/"],
    ["/a/*/c", "/a/b/c"],
    ["/a/**/c", "/a/c"],
    ["/a/**/c", "/a/x/y/c"],
    ["/v*/items", "/v2/items"],
    ["/files/*.txt", "/files/notes.txt"],
    ["/café", "/café"],
  ])("%s matches %s", (glob, path) => {
    expect(compilePathGlob(glob)(path)).toBe(true);
  });

  it.each([
    ["/deploy/**", "/deployer"],
    ["/deploy/**", "/"],
    ["/deploy/**", "/other/deploy"],
    ["/*", "/a/b"],
    ["/a/*/c", "/a/b/x/c"],
    ["/v*/items", "/v2/x/items"],
    ["/a", "/A"],
    ["/a", "/a/"],
    ["/files/*.txt", "/files/notesxtxt"],
    ["/a+", "/aa"],
    ["/admin/**", "/administrator"],
  ])("%s does not match %s", (glob, path) => {
    expect(compilePathGlob(glob)(path)).toBe(false);
  });

  // Work, not time (a clock in workerd moves with the machine's load): the matchers count their
  // comparisons in matcherWork. The paths are short enough that a backtracking matcher would
  // finish too, with millions of steps where the linear one takes a few hundred.
  it.each([
    ["/**/a/**/b/**/c/**/d/**/e", "/a/b/c/d".repeat(20) + "/x", false],
    ["/**/a/**/b/**/c/**/d/**/e", "/a/b/c/d".repeat(20) + "/e", true],
    ["/**/a/**/a/**/a/**/a/**/c", "/a".repeat(80), false],
    ["/**/*a*/**/*a*/**/*a*/**/b", "/xa".repeat(60), false],
  ])("matches %s against a hostile path in steps proportional to glob × path", (glob, path, expected) => {
    const match = compilePathGlob(glob);
    matcherWork.steps = 0;
    expect(match(path)).toBe(expected);
    expect(matcherWork.steps).toBeGreaterThan(0);
    expect(matcherWork.steps).toBeLessThanOrEqual((glob.length + 1) * (path.length + 1));
  });

  it("matches '*' within a segment in steps proportional to pattern × text", () => {
    matcherWork.steps = 0;
    expect(wildcardMatch("x*a*a*a*a*a*a*b", `x${"a".repeat(30)}`)).toBe(false);
    expect(matcherWork.steps).toBeGreaterThan(0);
    expect(matcherWork.steps).toBeLessThanOrEqual(16 * 32);
  });
});

describe("policyPath", () => {
  it.each([
    ["/a/b", "/a/b"],
    ["/caf%C3%A9", "/café"],
    ["/a%20b", "/a b"],
    ["/", "/"],
  ])("decodes %s to %s", (pathname, decoded) => {
    expect(policyPath(pathname)).toBe(decoded);
  });

  it.each([
    ["an encoded '/'", "/deploy/..%2Fadmin"],
    // Decoded, this looks like /deploy/app; an origin that does not decode %2F sees one segment.
    ["an encoded '/' that decodes to an innocent-looking path", "/deploy%2Fapp"],
    ["an encoded '/' in lower case", "/deploy/..%2fadmin"],
    ["an encoded '\\'", "/deploy/..%5Cadmin"],
    // The URL parser turns a raw '\\' into '/' for https: URLs, but policyPath takes any pathname.
    ["a raw '\\'", "/deploy\\..\\admin"],
    ["a servlet '..;' segment", "/deploy/..;/admin"],
    ["a servlet '.;' segment", "/deploy/.;x/admin"],
    ["an encoded '..;' segment", "/deploy/%2e%2e;/admin"],
    ["a double-encoded dot", "/deploy/%252e%252e/admin"],
    ["an encoded NUL", "/deploy/a%00"],
    ["an encoded newline", "/deploy/a%0A"],
    ["a malformed escape", "/deploy/%ZZ"],
    ["a truncated UTF-8 sequence", "/deploy/%E0%A4"],
    // Rule noPathParameters (ATTACKS #32): servlet containers drop ';…' from every segment.
    ["a ';' parameter hiding the real extension", "/files/salaries.xlsx;.pdf"],
    ["a ';' parameter with a value", "/files/salaries.xlsx;x=1.pdf"],
    ["an escaped ';'", "/files/salaries.xlsx%3B.pdf"],
    ["a ';' on a directory segment", "/files;/report.pdf"],
    ["a trailing ';'", "/files/report.pdf;"],
    ["fullwidth dots, which NFKC folds to '..'", "/static/%EF%BC%8E%EF%BC%8E/admin"],
    ["a ligature, which NFKC folds to letters", "/files/%EF%AC%81le.pdf"],
  ])("refuses a path with %s: no paths glob may match it", (_why, pathname) => {
    expect(policyPath(pathname)).toBeNull();
  });
});

describe("PolicySchema: the full form", () => {
  it("accepts the cookbook policy and every optional field", () => {
    expect(issues(COOKBOOK)).toEqual([]);
    expect(
      issues({
        ...COOKBOOK,
        deny: [`arn:aws:iam::${A}:role/contractor-*`],
        principalTypes: ["user", "assumed-role", "federated-user"],
        accounts: [A, B],
        pin: { [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER1", [`arn:aws:iam::${A}:user/alice`]: "AIDAEMULATORALICE0001" },
      }),
    ).toEqual([]);
  });

  it("accepts the shorthand with deny, accounts and pin beside it", () => {
    expect(issues({ allow: [`arn:aws:iam::${A}:role/*`], deny: [`arn:aws:iam::${A}:role/reader`], accounts: [A] })).toEqual([]);
  });

  it.each([
    [`arn:aws:iam::${A}:*`],
    [`arn:aws:*::${A}:*`],
    [`arn:aws:iam::${A}:root`],
    [`arn:aws:sts::${A}:federated-user/*`],
    [`arn:aws-us-gov:iam::${A}:role/deployer`],
    [`arn:aws-cn:iam::${A}:user/team/*`],
  ])("accepts the pattern %s", (pattern) => {
    expect(issues({ allow: [pattern], deny: [pattern] })).toEqual([]);
  });

  // Each line: what is wrong, the document, the exact issue (path and the start of the message).
  it.each<[string, unknown, string]>([
    ["both forms", { allow: [], rules: [] }, "POLICY.allow: use either rules or the shorthand allow"],
    ["neither form", { deny: [`arn:aws:iam::${A}:role/x`] }, "POLICY: needs rules"],
    [
      "a relative path glob",
      { rules: [{ name: "a", allow: [`arn:aws:iam::${A}:role/x`] }, { name: "b", paths: ["deploy/**"], allow: [`arn:aws:iam::${A}:role/x`] }] },
      "POLICY.rules[1].paths[0]: must start with '/'",
    ],
    ["'**' inside a segment", { rules: [{ name: "a", paths: ["/", "/a**"], allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].paths[1]: '**' must be a whole segment"],
    ["a query in a glob", { rules: [{ name: "a", paths: ["/a?b=1"], allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].paths[0]: must not contain '?' or '#'"],
    ["an escape in a glob", { rules: [{ name: "a", paths: ["/a%20b"], allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].paths[0]: must be written decoded"],
    ["a '..' segment in a glob", { rules: [{ name: "a", paths: ["/a/../b"], allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].paths[0]: must not contain '.' or '..' segments"],
    ["a backslash in a glob", { rules: [{ name: "a", paths: ["/a\\b"], allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].paths[0]: must not contain '\\'"],
    ["empty paths", { rules: [{ name: "a", paths: [], allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].paths: must not be empty"],
    ["a lower-case method", { rules: [{ name: "a", methods: ["POST", "get"], allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].methods[1]: methods are upper-case: GET"],
    ["an unknown method", { rules: [{ name: "a", methods: ["FETCH"], allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].methods[0]: must be one of GET, HEAD, POST"],
    ["empty methods", { rules: [{ name: "a", methods: [], allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].methods: must not be empty"],
    ["a rule that allows no one", { rules: [{ name: "a", allow: [] }] }, "POLICY.rules[0].allow: must name at least one"],
    ["a rule with no name", { rules: [{ allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].name:"],
    ["a rule name with spaces", { rules: [{ name: "ci deploy", allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].name: must be 1 to 64"],
    [
      "a duplicate rule name",
      { rules: [{ name: "a", allow: [`arn:aws:iam::${A}:role/x`] }, { name: "a", allow: [`arn:aws:iam::${A}:role/y`] }] },
      "POLICY.rules[1].name: duplicate rule name a (also rules[0])",
    ],
    ["a typo'd rule key", { rules: [{ name: "a", method: ["GET"], allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0]:"],
    ["a wildcard account in a rule", { rules: [{ name: "a", allow: [`arn:aws:iam::*:role/x`] }] }, "POLICY.rules[0].allow[0]: the account field must be a literal 12-digit account ID"],
    ["a wildcard partition in a rule", { rules: [{ name: "a", allow: [`arn:*:iam::${A}:role/x`] }] }, "POLICY.rules[0].allow[0]: the partition field must be literally aws, aws-cn or aws-us-gov"],
    ["a partly wildcard partition", { allow: [`arn:aws*:iam::${A}:role/x`] }, "POLICY.allow[0]: the partition field"],
    ["a partition the gate has no STS endpoints for", { allow: [`arn:aws-eusc:iam::${A}:role/x`] }, "POLICY.allow[0]: the partition field"],
    ["a wildcard account in deny", { allow: [], deny: [`arn:aws:iam::*:role/x`] }, "POLICY.deny[0]: the account field"],
    ["a wildcard partition in deny", { allow: [], deny: [`arn:*:iam::${A}:role/x`] }, "POLICY.deny[0]: the partition field"],
    ["another service", { allow: [`arn:aws:s3::${A}:bucket`] }, "POLICY.allow[0]: the service field must be iam or sts"],
    ["a region", { allow: [`arn:aws:iam:us-east-1:${A}:role/x`] }, "POLICY.allow[0]: the region field of a principal ARN is empty"],
    ["a space in the resource", { allow: [`arn:aws:iam::${A}:role/a b`] }, "POLICY.allow[0]: the resource field may contain only"],
    ["a '?' in the resource", { allow: [`arn:aws:iam::${A}:role/a?`] }, "POLICY.allow[0]: the resource field may contain only"],
    ["an assumed-role session pattern", { allow: [`arn:aws:sts::${A}:assumed-role/deployer/*`] }, `POLICY.allow[0]: never matches: an assumed-role session is matched by its role; write arn:aws:iam::${A}:role/deployer`],
    ["an assumed-role session pattern in deny", { allow: [], deny: [`arn:aws:sts::${A}:assumed-role/deployer/evil`] }, "POLICY.deny[0]: never matches: an assumed-role session"],
    ["a role under sts", { allow: [`arn:aws:sts::${A}:role/x`] }, "POLICY.allow[0]: never matches: role principals are arn:aws:iam::… ARNs"],
    ["a federated user under iam", { allow: [`arn:aws:iam::${A}:federated-user/x`] }, "POLICY.allow[0]: never matches: federated-user principals are arn:aws:sts::… ARNs"],
    ["a group", { allow: [`arn:aws:iam::${A}:group/admins`] }, "POLICY.allow[0]: never matches: principals are user/<name>"],
    ["empty accounts", { allow: [], accounts: [] }, "POLICY.accounts: must not be empty"],
    ["a numeric account", { allow: [], accounts: [111122223333] }, "POLICY.accounts[0]: must be a 12-digit account ID, as a string"],
    ["a short account", { allow: [], accounts: ["1111"] }, "POLICY.accounts[0]: must be a 12-digit account ID"],
    ["a wildcard pin", { allow: [], pin: { [`arn:aws:iam::${A}:role/*`]: "AROAEMULATORDEPLOYER1" } }, `POLICY.pin["arn:aws:iam::${A}:role/*"]: the key must be the canonical ARN of a role or user`],
    ["a session pin", { allow: [], pin: { [`arn:aws:sts::${A}:assumed-role/deployer/x`]: "AROAEMULATORDEPLOYER1" } }, `POLICY.pin["arn:aws:sts::${A}:assumed-role/deployer/x"]: the key must be`],
    ["a federated-user pin", { allow: [], pin: { [`arn:aws:sts::${A}:federated-user/bob`]: "AIDAEMULATORALICE0001" } }, `POLICY.pin["arn:aws:sts::${A}:federated-user/bob"]: the key must be`],
    ["a wildcard-partition pin", { allow: [], pin: { [`arn:*:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER1" } }, `POLICY.pin["arn:*:iam::${A}:role/deployer"]: the key must be`],
    ["a role pinned to a user ID", { allow: [], pin: { [`arn:aws:iam::${A}:role/deployer`]: "AIDAEMULATORALICE0001" } }, `POLICY.pin["arn:aws:iam::${A}:role/deployer"]: must be the role's unique ID, AROA`],
    ["a user pinned to a role ID", { allow: [], pin: { [`arn:aws:iam::${A}:user/alice`]: "AROAEMULATORDEPLOYER1" } }, `POLICY.pin["arn:aws:iam::${A}:user/alice"]: must be the user's unique ID, AIDA`],
    ["a pin carrying a session", { allow: [], pin: { [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER1:ci-run-42" } }, `POLICY.pin["arn:aws:iam::${A}:role/deployer"]: must be the role's unique ID`],
    [
      "two pins for one principal in different case",
      { allow: [], pin: { [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER1", [`arn:aws:iam::${A}:role/Deployer`]: "AROAEMULATORDEPLOYER2" } },
      `POLICY.pin["arn:aws:iam::${A}:role/Deployer"]: pins the same principal as arn:aws:iam::${A}:role/deployer`,
    ],
    ["a typo'd top-level key", { rules: [{ name: "a", allow: [`arn:aws:iam::${A}:role/x`] }], denny: [] }, "POLICY:"],
    ["a path glob of 65 segments", { rules: [{ name: "a", paths: ["/a".repeat(65)], allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].paths[0]: must have at most 64 segments"],
  ])("refuses %s, naming the path", (_why, doc, expected) => {
    const found = issues(doc);
    expect(found.length, JSON.stringify(found)).toBeGreaterThan(0);
    expect(found.some((i) => i.startsWith(expected)), `${JSON.stringify(found)} should include ${expected}`).toBe(true);
  });

  it("accepts a path glob of exactly 64 segments", () => {
    expect(issues({ rules: [{ name: "a", paths: ["/a".repeat(64)], allow: [`arn:aws:iam::${A}:role/x`] }] })).toEqual([]);
  });

  it("reports one issue per bad pattern, however many things are wrong with it", () => {
    expect(issues({ allow: ["arn:*:s3:us-east-1:*:a b"] })).toHaveLength(1);
  });
});

describe("compilePolicy: rules", () => {
  const p = compilePolicy(COOKBOOK);

  it("allows by the first rule whose method, path and principal all match, and names it", () => {
    expect(p.decide(deployer, POST("/deploy/app"))).toEqual({ allowed: true, rule: "ci-deploy", pattern: `arn:aws:iam::${A}:role/deployer` });
    expect(p.decide(deployer, { method: "PUT", path: "/deploy" })).toMatchObject({ allowed: true, rule: "ci-deploy" });
    expect(p.decide(deployer, GET("/deploy/app"))).toMatchObject({ allowed: true, rule: "readers", pattern: `arn:aws:iam::${A}:role/*` });
    expect(p.decide(reader, { method: "HEAD", path: "/anything" })).toMatchObject({ allowed: true, rule: "readers" });
    expect(p.decide(alice, { method: "DELETE", path: "/admin/users/7" })).toMatchObject({ allowed: true, rule: "admin" });
  });

  it.each([
    ["a method no rule lists", deployer, { method: "DELETE", path: "/deploy/app" }],
    ["a path outside the rule's globs", deployer, POST("/deployer")],
    ["a principal the route's rule does not name", reader, POST("/deploy/app")],
    ["a user outside the admin paths", alice, GET("/reports")],
    ["a lower-case method (the rule says POST)", deployer, { method: "post", path: "/deploy/app" }],
  ])("denies %s with a reason naming the request", (_why, identity, request) => {
    const decision = p.decide(identity, request);
    expect(decision).toMatchObject({ allowed: false, code: "policy_denied" });
    expect(decision.allowed === false && decision.reason).toBe(`no rule matches ${request.method} ${request.path} for ${identity.principal}`);
  });

  it("matches globs against the decoded path", () => {
    const decoded = policy({ rules: [{ name: "a", paths: ["/café/*"], allow: [`arn:aws:iam::${A}:role/*`] }] });
    expect(decoded.decide(reader, GET("/caf%C3%A9/menu"))).toMatchObject({ allowed: true, rule: "a" });
  });

  it("lets no paths glob match an ambiguous path, and says so; rules without paths still apply", () => {
    for (const path of ["/deploy/..%2Fadmin", "/deploy/..;/admin", "/deploy/%252e%252e/admin"]) {
      const decision = p.decide(deployer, POST(path));
      expect(decision).toMatchObject({ allowed: false, code: "policy_denied" });
      expect(decision.allowed === false && decision.reason).toContain("no paths glob matches it");
    }
    expect(p.decide(reader, GET("/deploy/..%2Fadmin"))).toMatchObject({ allowed: true, rule: "readers" });
  });

  it("keeps the reason short for a long path", () => {
    const decision = p.decide(alice, GET(`/${"x".repeat(5000)}`));
    expect(decision.allowed === false && decision.reason.length).toBeLessThan(400);
  });

  it("treats the shorthand as one rule named allow, for any method and path", () => {
    const shorthand = policy({ allow: [`arn:aws:iam::${A}:role/deployer`] });
    expect(shorthand.decide(deployer, { method: "DELETE", path: "/deploy/..%2Fadmin" })).toEqual({
      allowed: true,
      rule: "allow",
      pattern: `arn:aws:iam::${A}:role/deployer`,
    });
  });
});

describe("compilePolicy: deny", () => {
  it("wins over any allow, wherever the allowing rule is", () => {
    const p = policy({ allow: [`arn:aws:iam::${A}:role/*`], deny: [`arn:aws:iam::${A}:role/reader`] });
    expect(p.decide(deployer, GET("/")).allowed).toBe(true);
    expect(p.decide(reader, GET("/"))).toEqual({ allowed: false, code: "policy_denied", reason: `denied by deny pattern arn:aws:iam::${A}:role/reader` });
  });

  it("matches regardless of case (IAM names are unique regardless of case), while allow is exact", () => {
    const p = policy({ allow: [`arn:aws:iam::${A}:role/*`], deny: [`arn:aws:iam::${A}:role/DEPLOYER`] });
    expect(p.decide(deployer, GET("/"))).toMatchObject({ allowed: false, reason: `denied by deny pattern arn:aws:iam::${A}:role/DEPLOYER` });
    expect(policy({ allow: [`arn:aws:iam::${A}:role/DEPLOYER`] }).decide(deployer, GET("/")).allowed).toBe(false);
  });

  it("matches the canonical principal, field by field", () => {
    const p = policy({ allow: [`arn:aws:iam::${A}:*`], deny: [`arn:aws:iam::${A}:user/*`] });
    expect(p.decide(alice, GET("/")).allowed).toBe(false);
    expect(p.decide(deployer, GET("/")).allowed).toBe(true);
  });
});

describe("compilePolicy: principal types", () => {
  it.each([
    ["a federated user", bob, `arn:aws:sts::${A}:federated-user/*`],
    ["the root user", root, `arn:aws:iam::${A}:root`],
  ])("denies %s unless principalTypes lists its type, also in the full form", (_why, identity, pattern) => {
    const rules = [{ name: "all", allow: [pattern] }];
    expect(policy({ rules }).decide(identity, GET("/"))).toMatchObject({ allowed: false, code: "principal_type_denied" });
    expect(policy({ rules, principalTypes: [identity.type] }).decide(identity, GET("/"))).toMatchObject({ allowed: true, rule: "all" });
  });

  it("checks the type before accounts and deny", () => {
    const p = policy({ allow: [], accounts: [B], deny: [`arn:aws:sts::${A}:federated-user/*`] });
    expect(p.decide(bob, GET("/"))).toMatchObject({ code: "principal_type_denied" });
  });
});

describe("compilePolicy: accounts", () => {
  it("denies an account that is not listed, before any rule", () => {
    const p = policy({ accounts: [A], allow: [`arn:aws:iam::${A}:role/deployer`, `arn:aws:iam::${B}:role/deployer`] });
    expect(p.decide(deployer, GET("/")).allowed).toBe(true);
    expect(p.decide(strangerDeployer, GET("/"))).toEqual({ allowed: false, code: "policy_denied", reason: `account ${B} is not in accounts` });
  });

  it("grants nothing by itself: a listed account still needs a rule", () => {
    expect(policy({ accounts: [A], allow: [] }).decide(deployer, GET("/"))).toMatchObject({ allowed: false, code: "policy_denied" });
  });
});

describe("compilePolicy: unique-ID pinning", () => {
  const allowAll = { allow: [`arn:aws:iam::${A}:role/*`, `arn:aws:iam::${A}:user/*`] };
  const pinned = (pin: Record<string, string>) => policy({ ...allowAll, pin });

  it("allows a session whose UserId carries the pinned role ID", () => {
    expect(pinned({ [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER1" }).decide(deployer, GET("/")).allowed).toBe(true);
  });

  it("denies a role recreated under the same name (another unique ID)", () => {
    expect(pinned({ [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER2" }).decide(deployer, GET("/"))).toEqual({
      allowed: false,
      code: "policy_denied",
      reason: `UserId does not carry the pinned unique ID for arn:aws:iam::${A}:role/deployer`,
    });
  });

  it("compares the whole ID, not a prefix", () => {
    expect(pinned({ [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER" }).decide(deployer, GET("/")).allowed).toBe(false);
    expect(pinned({ [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER12" }).decide(deployer, GET("/")).allowed).toBe(false);
  });

  it("pins users and unsessioned roles by their whole UserId", () => {
    expect(pinned({ [`arn:aws:iam::${A}:user/alice`]: "AIDAEMULATORALICE0001" }).decide(alice, GET("/")).allowed).toBe(true);
    expect(pinned({ [`arn:aws:iam::${A}:user/alice`]: "AIDAEMULATORALICE0002" }).decide(alice, GET("/")).allowed).toBe(false);
    expect(pinned({ [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER1" }).decide(iamRole, GET("/")).allowed).toBe(true);
    expect(pinned({ [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER2" }).decide(iamRole, GET("/")).allowed).toBe(false);
  });

  it("finds the pin regardless of the key's case (one IAM role per name, whatever the case)", () => {
    expect(pinned({ [`arn:aws:iam::${A}:role/Deployer`]: "AROAEMULATORDEPLOYER2" }).decide(deployer, GET("/")).allowed).toBe(false);
  });

  it("finds the pin regardless of the principal's case", () => {
    const Deployer = who({ arn: `arn:aws:sts::${A}:assumed-role/Deployer/ci-run-42`, account: A, userId: "AROAEMULATORDEPLOYER1:ci-run-42" });
    const p = pinned({ [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER2" });
    expect(p.decide(Deployer, GET("/"))).toMatchObject({ allowed: false, reason: `UserId does not carry the pinned unique ID for arn:aws:iam::${A}:role/Deployer` });
  });

  it("leaves principals without a pin entry unaffected", () => {
    const p = pinned({ [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER2" });
    expect(p.decide(reader, GET("/")).allowed).toBe(true);
    expect(p.decide(alice, GET("/")).allowed).toBe(true);
  });

  it("only restricts: a pin grants nothing without a rule", () => {
    const p = policy({ allow: [`arn:aws:iam::${A}:user/*`], pin: { [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER1" } });
    expect(p.decide(deployer, GET("/"))).toMatchObject({ allowed: false, code: "policy_denied" });
  });
});

describe("formatPolicyPath", () => {
  it("writes paths as an operator would", () => {
    expect(formatPolicyPath(["rules", 1, "paths", 0])).toBe("POLICY.rules[1].paths[0]");
    expect(formatPolicyPath(["pin", "arn:aws:iam::1:role/x"])).toBe('POLICY.pin["arn:aws:iam::1:role/x"]');
    expect(formatPolicyPath([])).toBe("POLICY");
  });
});
