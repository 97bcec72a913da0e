import { describe, expect, it } from "vitest";
import { identityFromSts, type CallerIdentity, type StsAnswer } from "../../src/identity";
import { compileArnPattern, compilePolicy, DEFAULT_PRINCIPAL_TYPES, PolicySchema } from "../../src/policy";

/** Decisions here do not depend on the route. */
const REQ = { method: "GET", path: "/" };

const ACCOUNT = "111122223333";
const who = (answer: StsAnswer): CallerIdentity => identityFromSts(answer, "aws");

const alice = who({ arn: `arn:aws:iam::${ACCOUNT}:user/alice`, account: ACCOUNT, userId: "AIDAEMULATORALICE0001" });
const deployer = who({ arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-run-42`, account: ACCOUNT, userId: "AROAEMULATORDEPLOYER1:ci-run-42" });
const bob = who({ arn: `arn:aws:sts::${ACCOUNT}:federated-user/bob.jones@example.com`, account: ACCOUNT, userId: `${ACCOUNT}:bob.jones@example.com` });
const root = who({ arn: `arn:aws:iam::${ACCOUNT}:root`, account: ACCOUNT, userId: ACCOUNT });
const strangerDeployer = who({ arn: "arn:aws:sts::444455556666:assumed-role/deployer/ci-run-7", account: "444455556666", userId: "AROAEMULATOROTHER0001:ci-run-7" });

describe("compileArnPattern", () => {
  it.each([
    ["arn:aws:iam::111122223333:role/deployer", "arn:aws:iam::111122223333:role/deployer"],
    ["arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:role/deployer"],
    ["arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:role/team/deployer"],
    ["arn:aws:iam::111122223333:role/deploy*", "arn:aws:iam::111122223333:role/deployer"],
    ["arn:aws:iam::111122223333:role/*er", "arn:aws:iam::111122223333:role/deployer"],
    ["arn:*:iam::111122223333:role/deployer", "arn:aws-cn:iam::111122223333:role/deployer"],
    ["arn:aws:iam::111122223333:*", "arn:aws:iam::111122223333:root"],
    ["arn:aws:iam::111122223333:user/a.b+c=d,e@f-g", "arn:aws:iam::111122223333:user/a.b+c=d,e@f-g"],
  ])("%s matches %s", (pattern, arn) => {
    expect(compileArnPattern(pattern)(arn)).toBe(true);
  });

  it.each([
    // ATTACKS #12: `*` never crosses a field boundary.
    ["a '*' that would have to swallow ':'", "arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:role/x:y"],
    ["a '*' account against an ARN with an extra field", "arn:aws:iam::*:role/deployer", "arn:aws:iam::111122223333:444455556666:role/deployer"],
    ["'*' spanning several fields", "arn:*:role/deployer", "arn:aws:iam::111122223333:role/deployer"],
    ["more fields in the ARN", "arn:aws:iam::111122223333:role/deployer", "arn:aws:iam::111122223333:role/deployer:x"],
    ["fewer fields in the ARN", "arn:aws:iam::111122223333:role/deployer", "arn:aws:iam:111122223333:role/deployer"],
    ["another account", "arn:aws:iam::111122223333:role/deployer", "arn:aws:iam::444455556666:role/deployer"],
    ["a prefix only", "arn:aws:iam::111122223333:role/deploy", "arn:aws:iam::111122223333:role/deployer"],
    ["a longer pattern", "arn:aws:iam::111122223333:role/deployers", "arn:aws:iam::111122223333:role/deployer"],
    // Pattern characters other than `*` are literal.
    ["'.' taken as any character", "arn:aws:iam::111122223333:user/a.b", "arn:aws:iam::111122223333:user/axb"],
    ["'?' taken as a glob", "arn:aws:iam::111122223333:user/alic?", "arn:aws:iam::111122223333:user/alice"],
    ["'+' taken as repetition", "arn:aws:iam::111122223333:user/a+", "arn:aws:iam::111122223333:user/aa"],
    ["a different case", "arn:aws:iam::111122223333:role/Deployer", "arn:aws:iam::111122223333:role/deployer"],
  ])("refuses %s", (_why, pattern, arn) => {
    expect(compileArnPattern(pattern)(arn)).toBe(false);
  });
});

describe("compilePolicy", () => {
  it("allows a listed principal and names the rule that matched", () => {
    const policy = compilePolicy({ allow: ["arn:aws:iam::111122223333:user/bob", "arn:aws:iam::111122223333:user/*"] });
    expect(policy.decide(alice, REQ)).toEqual({ allowed: true, rule: "allow", pattern: "arn:aws:iam::111122223333:user/*" });
  });

  it("matches an assumed-role session by its role, not its session ARN", () => {
    expect(compilePolicy({ allow: ["arn:aws:iam::111122223333:role/deployer"] }).decide(deployer, REQ).allowed).toBe(true);
    expect(compilePolicy({ allow: ["arn:aws:sts::111122223333:assumed-role/deployer/*"] }).decide(deployer, REQ)).toMatchObject({
      allowed: false,
      code: "policy_denied",
    });
  });

  // ATTACKS #12: the same role name in a stranger's account.
  it("denies the same role name in another account as policy_denied", () => {
    expect(compilePolicy({ allow: ["arn:aws:iam::111122223333:role/deployer"] }).decide(strangerDeployer, REQ)).toMatchObject({
      allowed: false,
      code: "policy_denied",
    });
  });

  it("denies everyone when nothing is allowed", () => {
    expect(compilePolicy({ allow: [] }).decide(alice, REQ)).toMatchObject({ allowed: false, code: "policy_denied" });
  });

  it("defaults to users, assumed roles and roles only", () => {
    expect([...DEFAULT_PRINCIPAL_TYPES].sort()).toEqual(["assumed-role", "role", "user"]);
  });

  // ATTACKS #11: GetFederationToken mints any name; root should never be a routine caller.
  it.each([
    ["a federated user", bob],
    ["the root user", root],
  ])("denies %s matched by a pattern as principal_type_denied unless opted in", (_why, identity) => {
    const allow = [identity.principal];
    expect(compilePolicy({ allow }).decide(identity, REQ)).toMatchObject({ allowed: false, code: "principal_type_denied" });
    expect(compilePolicy({ allow: [`arn:aws:*::${ACCOUNT}:*`] }).decide(identity, REQ)).toMatchObject({
      allowed: false,
      code: "principal_type_denied",
    });
    expect(compilePolicy({ allow, principalTypes: [identity.type] }).decide(identity, REQ)).toEqual({ allowed: true, rule: "allow", pattern: identity.principal });
  });

  it("checks the principal type before the patterns", () => {
    const policy = compilePolicy({ allow: ["arn:aws:iam::111122223333:user/alice"], principalTypes: ["role"] });
    expect(policy.decide(alice, REQ)).toMatchObject({ allowed: false, code: "principal_type_denied" });
  });

  it("replaces the default types rather than adding to them", () => {
    const policy = compilePolicy({ allow: [alice.principal, bob.principal], principalTypes: ["federated-user"] });
    expect(policy.decide(bob, REQ).allowed).toBe(true);
    expect(policy.decide(alice, REQ)).toMatchObject({ allowed: false, code: "principal_type_denied" });
  });
});

describe("PolicySchema", () => {
  it.each([
    { allow: ["arn:aws:iam::111122223333:role/deployer"] },
    { allow: ["arn:aws-cn:iam::111122223333:user/*"], principalTypes: ["user", "federated-user"] },
    { allow: [] },
  ])("accepts %j", (doc) => {
    expect(PolicySchema.safeParse(doc).success).toBe(true);
  });

  it.each([
    // ATTACKS #12 (Vault CVE-2025-11621): accounts are explicit.
    ["a wildcard account", { allow: ["arn:aws:iam::*:role/deployer"] }],
    ["a partly wildcard account", { allow: ["arn:aws:iam::1111222233*:role/deployer"] }],
    ["an 11-digit account", { allow: ["arn:aws:iam::11112222333:role/deployer"] }],
    ["an empty account", { allow: ["arn:aws:s3:::bucket"] }],
    ["five fields", { allow: ["arn:aws:iam:111122223333:role/deployer"] }],
    ["seven fields", { allow: ["arn:aws:iam::111122223333:role/deployer:x"] }],
    ["another first field", { allow: ["xrn:aws:iam::111122223333:role/deployer"] }],
    ["a bare role name", { allow: ["deployer"] }],
    ["a bare '*'", { allow: ["*"] }],
    ["a pattern that is not a string", { allow: [42] }],
    ["a missing allow", {}],
    ["an unknown key", { allow: [], denny: ["arn:aws:iam::111122223333:role/deployer"] }],
    // The caller picks the partition by picking the token's STS host: partitions are literal.
    ["a wildcard partition", { allow: ["arn:*:iam::111122223333:role/deployer"] }],
    ["an unknown principal type", { allow: [], principalTypes: ["group"] }],
    ["an empty principalTypes", { allow: [], principalTypes: [] }],
    ["an overlong pattern", { allow: [`arn:aws:iam::111122223333:role/${"a".repeat(2048)}`] }],
  ])("refuses %s", (_why, doc) => {
    expect(PolicySchema.safeParse(doc).success).toBe(false);
  });
});
