import { describe, expect, it } from "vitest";
import { runPolicyCommand } from "../../src/cli/policy-command";
import { checkPolicyText, explainPolicy, PolicySchema } from "../../src/policy";
import { COOKBOOK as COOKBOOK_POLICY } from "../support/policy";

/**
 * The part of `npm run policy` that runs after parsing, here in workerd beside the gate, as
 * `sts-gate doctor` runs it. The command line itself: test/cli/policy-cli.test.ts (Node).
 */
const A = "111122223333";

const COOKBOOK = {
  accounts: [A],
  pin: { [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER1" },
  // The cookbook's first two rules (test/support/policy.ts).
  rules: COOKBOOK_POLICY.rules!.slice(0, 2),
};
const text = JSON.stringify(COOKBOOK);
const read = () => text;

describe("runPolicyCommand", () => {
  it("checks: the summary on stdout, exit 0", () => {
    const out = runPolicyCommand({ command: "check", file: "p.json" }, read);
    expect(out).toMatchObject({ exitCode: 0, stderr: "" });
    expect(out.stdout).toMatch(/^p\.json: valid\n2 rules, in order:\n/);
  });

  it("explains with the defaults the command line documents: GET /", () => {
    const out = runPolicyCommand({ command: "explain", file: "p.json", arn: `arn:aws:sts::${A}:assumed-role/reader/laptop` }, read);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("request:   GET /");
    expect(out.stdout).toContain("ALLOW by rule readers");
  });

  it("denies with the rule's reason, exit 1, and upper-cases the method", () => {
    const out = runPolicyCommand({ command: "explain", file: "p.json", arn: `arn:aws:iam::${A}:role/deployer`, method: "delete", path: "/deploy/app" }, read);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toContain("request:   DELETE /deploy/app");
    expect(out.stdout).toMatch(/^DENY /m);
  });

  it("refuses an explain without an ARN, and an unreadable file, in one line each", () => {
    expect(runPolicyCommand({ command: "explain", file: "p.json" }, read)).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "policy: explain needs --arn <arn> (npm run policy -- --help)\n",
    });
    const missing = runPolicyCommand({ command: "check", file: "gone.json" }, () => {
      throw new Error("ENOENT: gone.json");
    });
    expect(missing).toEqual({ exitCode: 1, stdout: "", stderr: "policy: cannot read gone.json: ENOENT: gone.json\n" });
  });
});

describe("checkPolicyText and explainPolicy", () => {
  it("return what the gate would: the same document, the same decision", () => {
    const checked = checkPolicyText(text);
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.doc).toEqual(PolicySchema.parse(COOKBOOK));
    const e = explainPolicy(checked.doc, { arn: `arn:aws:sts::${A}:assumed-role/reader/laptop`, method: "GET", path: "/x" });
    expect(e.identity.principal).toBe(`arn:aws:iam::${A}:role/reader`);
    expect(e.decision).toEqual({ allowed: true, rule: "readers", pattern: `arn:aws:iam::${A}:role/*` });
  });
});

describe("runPolicyCommand on an app's policy (issue 20)", () => {
  const app = "APPS[1] (docs)";
  const alice = `arn:aws:iam::${A}:user/alice`;
  const docs = JSON.stringify({ allow: [alice] });

  it("names the app's issues by the app, its fields as policy.…", () => {
    const out = runPolicyCommand({ command: "check", file: "w.toml [vars] APPS[1] (docs)", app }, () => JSON.stringify({ allow: ["arn:aws:iam::*:user/alice"] }));
    expect(out.exitCode).toBe(1);
    expect(out.stderr.split("\n")[1]).toMatch(/^APPS\[1\] \(docs\): policy\.allow\[0\]: the account field must be a literal/);
  });

  it("refuses admins in an app's policy, and a missing policy", () => {
    const withAdmins = runPolicyCommand({ command: "check", file: "f", app }, () => JSON.stringify({ allow: [alice], admins: [alice] }));
    expect(withAdmins.exitCode).toBe(1);
    expect(withAdmins.stderr).toContain("APPS[1] (docs): policy.admins: is not allowed in an app's policy");
    const missing = runPolicyCommand({ command: "check", file: "f", app, missing: true }, () => "");
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("APPS[1] (docs): policy: missing");
    // A policy file on its own may name admins (the single-app POLICY.admins).
    expect(runPolicyCommand({ command: "check", file: "f" }, () => JSON.stringify({ allow: [alice], admins: [alice] })).exitCode).toBe(0);
  });

  it("explain decides the gate's own API by ADMINS, and the app's paths by its policy", () => {
    const admins = JSON.stringify([`arn:aws:iam::${A}:role/gate-admin`]);
    const api = (arn: string) => runPolicyCommand({ command: "explain", file: "f", app, admins, arn, path: "/.well-known/sts-gate/revocations" }, () => docs);
    expect(api(`arn:aws:iam::${A}:role/gate-admin`).exitCode).toBe(0);
    expect(api(alice).exitCode).toBe(1);
    const page = runPolicyCommand({ command: "explain", file: "f", app, admins, arn: alice, path: "/docs/x" }, () => docs);
    expect(page.exitCode).toBe(0);
    expect(page.stdout).toContain(`note: admins: ${alice} is not an admin`);
    // Without ADMINS, no one may use the gate's API.
    expect(runPolicyCommand({ command: "explain", file: "f", app, arn: alice, path: "/.well-known/sts-gate/revocations" }, () => docs).exitCode).toBe(1);
  });
});
