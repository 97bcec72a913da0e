import { describe, expect, it } from "vitest";
import { runPolicyCommand } from "../../src/cli/policy-command";
import { identityFromSts } from "../../src/identity";
import { checkPolicyText, compilePolicy, PolicySchema, whyAdmitsNoOne } from "../../src/policy";

/**
 * Identity Center selectors in the policy document (issue 22): the schema, the decision for
 * every kind of caller, and what `npm run policy -- check` and `explain` say about them.
 * Through the Worker: test/integration/identity-center.test.ts.
 */
const A = "111122223333";
const B = "444455556666";
const SSO_ARN = `arn:aws:sts::${A}:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/Alice.Smith@example.com`;

function issues(doc: unknown): string[] {
  const checked = checkPolicyText(JSON.stringify(doc));
  return checked.ok ? [] : checked.issues;
}

describe("the selector's schema", () => {
  it.each([
    ["allow", { allow: [{ permissionSet: "AdministratorAccess", account: A }] }],
    ["rules[].allow", { rules: [{ name: "r", allow: [{ permissionSet: "Admin*", account: A, users: ["*@example.com"] }] }] }],
    ["deny", { allow: [`arn:aws:iam::${A}:role/*`], deny: [{ permissionSet: "*ReadOnly", account: A }] }],
    ["admins", { allow: [`arn:aws:iam::${A}:role/*`], admins: [{ permissionSet: "AdministratorAccess", account: A, partition: "aws-us-gov" }] }],
  ])("takes a selector in %s", (_where, doc) => {
    expect(issues(doc)).toEqual([]);
  });

  it.each([
    ["a wildcard account", { permissionSet: "AdministratorAccess", account: "*" }, "POLICY.allow[0].account: must be a literal 12-digit account ID"],
    ["an account glob", { permissionSet: "AdministratorAccess", account: "1111222233*" }, "POLICY.allow[0].account: must be a literal 12-digit account ID"],
    ["no account", { permissionSet: "AdministratorAccess" }, "POLICY.allow[0].account: must be a literal 12-digit account ID"],
    ["no permission set", { account: A }, "POLICY.allow[0].permissionSet:"],
    ["an unknown key", { permissionSet: "AdministratorAccess", account: A, user: ["x"] }, "POLICY.allow[0]: Unrecognized key"],
    ["a permission set with ':'", { permissionSet: "a:b", account: A }, "POLICY.allow[0].permissionSet: must be a permission set name"],
    ["an empty users list", { permissionSet: "AdministratorAccess", account: A, users: [] }, "POLICY.allow[0].users: must not be empty"],
    ["a user glob with a space", { permissionSet: "AdministratorAccess", account: A, users: ["a b"] }, "POLICY.allow[0].users[0]: must be a user name"],
    ["a wildcard partition", { permissionSet: "AdministratorAccess", account: A, partition: "*" }, "POLICY.allow[0].partition: must be literally aws"],
  ])("refuses %s, with its path", (_why, selector, message) => {
    const found = issues({ allow: [selector] });
    expect(found.some((i) => i.startsWith(message)), found.join("\n")).toBe(true);
  });

  it("refuses an entry that is neither an ARN pattern nor a selector", () => {
    expect(issues({ allow: [7] })).toEqual(["POLICY.allow[0]: must be an ARN pattern (a string) or an Identity Center selector { permissionSet, account[, users] }"]);
  });

  it("still reports an ARN pattern's own problem beside selectors", () => {
    expect(issues({ allow: [`arn:aws:iam::*:role/x`] })[0]).toMatch(/^POLICY\.allow\[0\]: the account field must be a literal 12-digit account ID/);
  });
});

describe("the selector's decision", () => {
  const session = (role: string, name: string, account = A) =>
    identityFromSts({ arn: `arn:aws:sts::${account}:assumed-role/${role}/${name}`, account, userId: `AROAEMULATORSSOADMIN1:${name}` }, "aws");
  const admin = session("AWSReservedSSO_AdministratorAccess_0123456789abcdef", "Alice.Smith@example.com");
  const readOnly = session("AWSReservedSSO_AdministratorAccess_ReadOnly_1111222233334444", "Alice.Smith@example.com");
  const decide = (entry: unknown, who: ReturnType<typeof session>) =>
    compilePolicy(PolicySchema.parse({ allow: [entry] })).decide(who, { method: "GET", path: "/" }).allowed;

  it("matches the whole permission set name, never a longer one", () => {
    expect(decide({ permissionSet: "AdministratorAccess", account: A }, admin)).toBe(true);
    expect(decide({ permissionSet: "AdministratorAccess", account: A }, readOnly)).toBe(false);
    expect(decide({ permissionSet: "AdministratorAccess_ReadOnly", account: A }, admin)).toBe(false);
  });

  it("compares permission sets and users regardless of case", () => {
    expect(decide({ permissionSet: "ADMINISTRATORACCESS", account: A, users: ["ALICE.*"] }, admin)).toBe(true);
    expect(decide({ permissionSet: "AdministratorAccess", account: A, users: ["bob*"] }, admin)).toBe(false);
  });

  it("requires the account", () => {
    expect(decide({ permissionSet: "AdministratorAccess", account: B }, admin)).toBe(false);
    expect(decide({ permissionSet: "AdministratorAccess", account: B }, session("AWSReservedSSO_AdministratorAccess_0123456789abcdef", "x@y", B))).toBe(true);
  });
});

describe("npm run policy -- check and explain", () => {
  it("warns about an ARN glob over role/AWSReservedSSO_…* and shows the selector to write", () => {
    const checked = checkPolicyText(JSON.stringify({
      allow: [`arn:aws:iam::${A}:role/AWSReservedSSO_AdministratorAccess_*`, `arn:aws:iam::${A}:role/deployer`],
      deny: [`arn:aws:iam::${B}:role/AWSReservedSSO_*`],
    }));
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.warnings).toContainEqual(expect.stringMatching(
      new RegExp(`^POLICY\\.allow\\[0\\]: an ARN pattern over role/AWSReservedSSO_…\\* also matches .*; write the Identity Center selector \\{ permissionSet = "AdministratorAccess", account = "${A}" \\} instead$`),
    ));
    expect(checked.warnings).toContainEqual(expect.stringContaining(`POLICY.deny[0]: an ARN pattern over role/AWSReservedSSO_…* `));
    expect(checked.warnings).toContainEqual(expect.stringContaining(`{ permissionSet = "*", account = "${B}" }`));
    expect(checked.warnings.filter((w) => w.startsWith("POLICY.allow[1]"))).toEqual([]);
  });

  it("does not warn about an exact AWSReservedSSO_ role, nor about a selector", () => {
    const checked = checkPolicyText(JSON.stringify({
      allow: [`arn:aws:iam::${A}:role/AWSReservedSSO_AdministratorAccess_0123456789abcdef`, { permissionSet: "AdministratorAccess", account: A }],
    }));
    expect(checked.ok && checked.warnings).toEqual([]);
  });

  it("explains an SSO session ARN: the permission set, the user, and the selector that decides", () => {
    const doc = JSON.stringify({
      rules: [
        { name: "readonly", allow: [{ permissionSet: "AdministratorAccess_ReadOnly", account: A }] },
        { name: "people", allow: [{ permissionSet: "AdministratorAccess", account: A, users: ["*@example.com"] }] },
      ],
    });
    const out = runPolicyCommand({ command: "explain", file: "p.json", arn: SSO_ARN }, () => doc);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("session:   IAM Identity Center: permission set AdministratorAccess, user Alice.Smith@example.com");
    expect(out.stdout).toContain(`ALLOW by rule people (selector { permissionSet = "AdministratorAccess", account = "${A}", users = ["*@example.com"] })`);
  });

  it("explains a plain session as no Identity Center session", () => {
    const doc = JSON.stringify({ allow: [{ permissionSet: "*", account: A }] });
    const out = runPolicyCommand({ command: "explain", file: "p.json", arn: `arn:aws:sts::${A}:assumed-role/deployer/alice@example.com` }, () => doc);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toContain("session:   role deployer, session alice@example.com (not an Identity Center session");
  });

  it("knows that a selector cut off by accounts or principalTypes admits no one", () => {
    const selector = { permissionSet: "AdministratorAccess", account: A };
    expect(whyAdmitsNoOne(PolicySchema.parse({ allow: [selector], accounts: [B] }))).toMatch(/not in accounts/);
    expect(whyAdmitsNoOne(PolicySchema.parse({ allow: [selector], principalTypes: ["user"] }))).toMatch(/principal types/);
    expect(whyAdmitsNoOne(PolicySchema.parse({ allow: [selector], deny: [`arn:aws:iam::${A}:role/AWSReservedSSO_*`] }))).toMatch(/covered by deny/);
    expect(whyAdmitsNoOne(PolicySchema.parse({ allow: [selector] }))).toBeUndefined();
  });
});
