import { describe, expect, it } from "vitest";
import type { CallerIdentity } from "../../src/identity";
import { runPolicyCommand } from "../../src/cli/policy-command";
import { checkPolicyText, compilePolicy, PolicySchema } from "../../src/policy";
import { parseRevocationRequest, type ActiveRevocation } from "../../src/revocation/entry";
import { findRevocation } from "../../src/revocation/match";
import { isGatePath } from "../../src/revocation/paths";

const A = "111122223333";
const NOW = Date.parse("2026-11-22T12:00:00Z");

const session: CallerIdentity = {
  arn: `arn:aws:sts::${A}:assumed-role/deployer/ci-run-42`,
  account: A,
  userId: "AROAEMULATORDEPLOYER1:ci-run-42",
  type: "assumed-role",
  principal: `arn:aws:iam::${A}:role/deployer`,
  partition: "aws",
};

describe("parseRevocationRequest (rule revocationInput)", () => {
  const ok = (body: object) => parseRevocationRequest(JSON.stringify(body), NOW);

  it("accepts one selector, a reason and a zoned expiry, normalised to UTC", () => {
    expect(ok({ accessKeyId: "AKIAEMULATORALICE001", reason: "r", expiresAt: "2026-11-22T16:30:00+02:00" })).toEqual({
      ok: true,
      request: { accessKeyId: "AKIAEMULATORALICE001", reason: "r", expiresAt: "2026-11-22T14:30:00.000Z" },
    });
  });

  it("treats a bare date as midnight UTC and refuses a local time without a zone", () => {
    expect(ok({ account: A, reason: "r", expiresAt: "2026-12-01" })).toMatchObject({ ok: true, request: { expiresAt: "2026-12-01T00:00:00.000Z" } });
    expect(ok({ account: A, reason: "r", expiresAt: "2026-12-01T10:00:00" })).toMatchObject({ ok: false, code: "expires_at_malformed" });
  });

  it("accepts an expiry one millisecond ahead and refuses one at the present instant", () => {
    expect(ok({ account: A, reason: "r", expiresAt: new Date(NOW + 1).toISOString() })).toMatchObject({ ok: true });
    expect(ok({ account: A, reason: "r", expiresAt: new Date(NOW).toISOString() })).toMatchObject({ ok: false, code: "expires_at_past" });
  });

  it.each([
    [`arn:aws:iam::${A}:user/alice`],
    [`arn:aws:iam::${A}:user/team/alice`],
    [`arn:aws:iam::${A}:role/deployer`],
    [`arn:aws:iam::${A}:root`],
    [`arn:aws:sts::${A}:assumed-role/deployer/ci-run-42`],
    [`arn:aws:sts::${A}:federated-user/bob`],
    [`arn:aws-cn:iam::${A}:role/deployer`],
  ])("accepts the principal %s", (principal) => {
    expect(ok({ principal, reason: "r" })).toMatchObject({ ok: true });
  });

  it.each([
    [`arn:aws:iam::${A}:role/*`],
    [`arn:aws:iam::*:role/deployer`],
    [`arn:aws:sts::${A}:role/deployer`],
    [`arn:aws:iam::${A}:group/admins`],
    [`arn:aws:iam::${A}:role/team/deployer`],
    [`arn:aws:sts::${A}:assumed-role/deployer`],
    [`arn:aws:iam::${A}:user/${"a".repeat(700)}`],
    [`arn:aws:iam::${A}:role/deployer\n`],
  ])("refuses the principal %j", (principal) => {
    expect(ok({ principal, reason: "r" })).toMatchObject({ ok: false, code: "principal_malformed" });
  });

  it("refuses a reason that is blank or spans lines", () => {
    expect(ok({ account: A, reason: "   " })).toMatchObject({ ok: false, code: "reason_invalid" });
    expect(ok({ account: A, reason: "a\nb" })).toMatchObject({ ok: false, code: "reason_invalid" });
  });

  it("counts a selector given as null as given (and malformed)", () => {
    expect(ok({ accessKeyId: null, account: A, reason: "r" })).toMatchObject({ ok: false, code: "selector_multiple" });
  });
});

describe("findRevocation (rule revocationMatch)", () => {
  const entry = (e: Partial<ActiveRevocation>): ActiveRevocation => ({ id: "e", kind: "accessKeyId", value: "ASIAEMULATORDEPLOY01", ...e });
  const facts = { accessKeyId: "ASIAEMULATORDEPLOY01", identity: session };

  it("selects by access key before the identity is known", () => {
    expect(findRevocation([entry({})], { accessKeyId: "ASIAEMULATORDEPLOY01" }, NOW)?.id).toBe("e");
    expect(findRevocation([entry({ value: "ASIAEMULATORDEPLOY02" })], facts, NOW)).toBeUndefined();
  });

  it("selects by account and principal only once the identity is known", () => {
    for (const e of [entry({ kind: "account", value: A }), entry({ kind: "principal", value: session.principal }), entry({ kind: "principal", value: session.arn })]) {
      expect(findRevocation([e], facts, NOW)?.id).toBe("e");
      expect(findRevocation([e], { accessKeyId: "AKIAOTHER00000000000" }, NOW)).toBeUndefined();
    }
    expect(findRevocation([entry({ kind: "account", value: "444455556666" })], facts, NOW)).toBeUndefined();
    expect(findRevocation([entry({ kind: "principal", value: `arn:aws:sts::${A}:assumed-role/deployer/other` })], facts, NOW)).toBeUndefined();
  });

  it("stops applying an entry at its expiresAt (rule revocationExpiry)", () => {
    expect(findRevocation([entry({ expiresAt: NOW + 1 })], facts, NOW)?.id).toBe("e");
    expect(findRevocation([entry({ expiresAt: NOW })], facts, NOW)).toBeUndefined();
  });
});

describe("isGatePath (rule gatePrefix)", () => {
  it.each([
    ["/.well-known/sts-gate", true],
    ["/.well-known/sts-gate/", true],
    ["/.well-known/sts-gate/health", true],
    ["/.well-known/%73ts-gate/revocations", true],
    ["/.Well-Known/STS-GATE/revocations", true],
    ["//.well-known/sts-gate/revocations", true],
    ["/.well-known//sts-gate", true],
    ["/.well-known/sts-gateway", false],
    ["/.well-known/jwks.json", false],
    ["/x/.well-known/sts-gate/", false],
  ])("%s → %s", (path, expected) => {
    expect(isGatePath(path)).toBe(expected);
  });
});

describe("the policy's admins", () => {
  const admin = `arn:aws:iam::${A}:user/alice`;

  it("is valid beside the shorthand and in the full form, and refuses what allow refuses", () => {
    expect(PolicySchema.safeParse({ allow: [admin], admins: [admin] }).success).toBe(true);
    expect(PolicySchema.safeParse({ rules: [{ name: "r", allow: [admin] }], admins: [`arn:aws:iam::${A}:role/ops-*`] }).success).toBe(true);
    for (const bad of [[], [`arn:aws:iam::*:user/alice`], [`arn:*:iam::${A}:user/alice`], [`arn:aws:sts::${A}:assumed-role/ops/s`]]) {
      expect(PolicySchema.safeParse({ allow: [admin], admins: bad }).success).toBe(false);
    }
  });

  it("grants admin by pattern, after principalTypes, accounts, deny and pin (rule adminsOnly)", () => {
    const alice: CallerIdentity = { arn: admin, account: A, userId: "AIDAEMULATORALICE0001", type: "user", principal: admin, partition: "aws" };
    const policy = compilePolicy(PolicySchema.parse({ allow: [admin], admins: [`arn:aws:iam::${A}:role/deploy*`] }));
    expect(policy.hasAdmins).toBe(true);
    expect(policy.decideAdmin(session)).toEqual({ allowed: true, rule: "admins", pattern: `arn:aws:iam::${A}:role/deploy*` });
    expect(policy.decideAdmin(alice)).toMatchObject({ allowed: false, code: "not_admin" });
    // allow does not make an admin, and admins does not allow forwarding.
    expect(policy.decide(session, { method: "GET", path: "/" })).toMatchObject({ allowed: false });
    const guarded = compilePolicy(PolicySchema.parse({ allow: [admin], admins: [`arn:aws:iam::${A}:role/deployer`], accounts: ["444455556666"] }));
    expect(guarded.decideAdmin(session)).toMatchObject({ allowed: false, code: "policy_denied" });
    expect(compilePolicy(PolicySchema.parse({ allow: [admin] })).hasAdmins).toBe(false);
  });

  it("npm run policy -- check summarizes admins and warns about an admin pattern that can never apply", () => {
    const checked = checkPolicyText(JSON.stringify({ allow: [admin], admins: [`arn:aws:sts::${A}:federated-user/*`] }));
    expect(checked.ok && checked.summary).toContain("admins: 1 pattern (the revocation API is on)");
    expect(checked.ok && checked.warnings).toEqual(["POLICY.admins[0]: federated-user is not in principalTypes, so this pattern allows no one"]);
  });

  it("npm run policy -- explain decides the gate's own paths by admins and notes admins elsewhere", () => {
    const file = JSON.stringify({ allow: [admin], admins: [`arn:aws:iam::${A}:role/deployer`] });
    const run = (request: { arn: string; method?: string; path: string }) => runPolicyCommand({ command: "explain", file: "p.json", ...request }, () => file);
    const asAdmin = run({ arn: session.arn, method: "POST", path: "/.well-known/sts-gate/revocations" });
    expect(asAdmin.exitCode).toBe(0);
    expect(asAdmin.stdout).toContain(`ALLOW by rule admins (pattern arn:aws:iam::${A}:role/deployer)`);
    const notAdmin = run({ arn: admin, path: "/.well-known/sts-gate/revocations" });
    expect(notAdmin.exitCode).toBe(1);
    expect(notAdmin.stdout).toContain(`DENY not_admin: no admins pattern matches ${admin}`);
    const elsewhere = run({ arn: admin, path: "/x" });
    expect(elsewhere.exitCode).toBe(0);
    expect(elsewhere.stdout).toContain(`note: admins: ${admin} is not an admin`);
  });
});

