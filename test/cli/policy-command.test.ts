import { describe, expect, it } from "vitest";
import { runPolicyCommand } from "../../src/cli/policy-command";
import { checkPolicyText, explainPolicy, PolicySchema } from "../../src/policy";

/**
 * The part of `npm run policy` that runs after parsing, here in workerd beside the gate, as
 * `sts-gate doctor` runs it. The command line itself: test/cli/policy-cli.test.ts (Node).
 */
const A = "111122223333";

const COOKBOOK = {
  accounts: [A],
  pin: { [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER1" },
  rules: [
    { name: "ci-deploy", methods: ["POST", "PUT"], paths: ["/deploy/**"], allow: [`arn:aws:iam::${A}:role/deployer`] },
    { name: "readers", methods: ["GET", "HEAD"], allow: [`arn:aws:iam::${A}:role/*`] },
  ],
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
