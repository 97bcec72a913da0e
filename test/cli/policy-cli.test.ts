import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { runPolicyCli } from "../../src/cli/policy-cli";
import type { CliOutcome } from "../../src/cli/policy-command";
import { readTomlFixture } from "../support/wrangler-toml";
import { COOKBOOK as COOKBOOK_POLICY } from "../support/policy";

/**
 * `npm run policy` is `runPolicyCli` behind a wrapper that only reads argv and files
 * (src/cli/policy.ts), so the command is tested here with files in memory. In Node, where the
 * command runs: it parses with node:util parseArgs, which workerd only stubs.
 */
const A = "111122223333";

const COOKBOOK = {
  accounts: [A],
  deny: [`arn:aws:iam::${A}:role/contractor-*`],
  pin: { [`arn:aws:iam::${A}:role/deployer`]: "AROAEMULATORDEPLOYER1" },
  // The cookbook's rules (test/support/policy.ts).
  rules: COOKBOOK_POLICY.rules,
};

const FILES: Record<string, string> = {
  "cookbook.json": JSON.stringify(COOKBOOK, null, 2),
  "shorthand.json": JSON.stringify({ allow: [`arn:aws:iam::${A}:role/deployer`] }),
  "broken.json": JSON.stringify({
    rules: [
      { name: "a", allow: [`arn:aws:iam::${A}:role/x`] },
      { name: "b", methods: ["get"], paths: ["deploy/**"], allow: [`arn:*:iam::${A}:role/x`] },
    ],
  }),
  "not-json.json": "{rules: []}",
  "warnings.json": JSON.stringify({
    accounts: [A],
    rules: [{ name: "r", allow: [`arn:aws:iam::${A}:role/service/deployer`, `arn:aws:iam::444455556666:role/x`, `arn:aws:sts::${A}:federated-user/*`] }],
    deny: [`arn:aws:iam::${A}:role/team/contractor`],
  }),
};

function run(...argv: string[]): CliOutcome {
  return runPolicyCli(argv, (file) => {
    const text = FILES[file];
    if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${file}'`);
    return text;
  });
}

const lines = (s: string) => s.split("\n").filter((l) => l !== "");

/** Every failure is one line (or, for an invalid policy, one line per issue), never a stack trace. */
function expectCleanError(outcome: CliOutcome, exitCode: number, pattern: RegExp) {
  expect(outcome.exitCode).toBe(exitCode);
  expect(outcome.stdout).toBe("");
  expect(lines(outcome.stderr)).toHaveLength(1);
  expect(outcome.stderr).toMatch(pattern);
  expect(outcome.stderr).not.toMatch(/\n\s+at /);
}

describe("policy check", () => {
  it("exits 0 with a summary for a valid policy", () => {
    const out = run("check", "cookbook.json");
    expect(out.exitCode).toBe(0);
    expect(out.stderr).toBe("");
    expect(lines(out.stdout)).toEqual([
      "cookbook.json: valid",
      "3 rules, in order:",
      "  ci-deploy: POST, PUT on /deploy/**, for 1 principal pattern",
      "  readers: GET, HEAD on any path, for 1 principal pattern",
      "  admin: any method on /admin/**, for 1 principal pattern",
      "deny: 1 pattern",
      `accounts: ${A}`,
      "principal types: user, assumed-role, role",
      "pinned: 1 principal",
    ]);
  });

  it("summarizes the shorthand as one rule named allow", () => {
    const out = run("check", "shorthand.json");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("shorthand form (allow): one rule named allow");
    expect(out.stdout).toContain("  allow: any method on any path, for 1 principal pattern");
  });

  it("exits 1 and prints each issue with its path", () => {
    const out = run("check", "broken.json");
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toBe("");
    expect(lines(out.stderr)).toEqual([
      "broken.json: invalid policy (3 issues)",
      "POLICY.rules[1].methods[0]: methods are upper-case: GET",
      "POLICY.rules[1].paths[0]: must start with '/', e.g. /deploy/**",
      "POLICY.rules[1].allow[0]: the partition field must be literally aws, aws-cn or aws-us-gov (no wildcards: the caller picks the partition by picking the STS host)",
    ]);
  });

  it("exits 1 for text that is not JSON, naming the problem", () => {
    const out = run("check", "not-json.json");
    expect(out.exitCode).toBe(1);
    expect(lines(out.stderr)[1]).toMatch(/^POLICY: is not valid JSON \(/);
  });

  it("exits 1 in one line for a file it cannot read", () => {
    expectCleanError(run("check", "missing.json"), 1, /^policy: cannot read missing\.json: ENOENT/);
  });

  it("warns about patterns and pins that can never apply, and still exits 0", () => {
    const out = run("check", "warnings.json");
    expect(out.exitCode).toBe(0);
    expect(lines(out.stderr)).toEqual([
      "warning: POLICY.rules[0].allow[0]: has an IAM path, but an assumed-role session's canonical principal is role/<name> without its path, so this pattern allows no session",
      "warning: POLICY.rules[0].allow[1]: account 444455556666 is not in accounts, so this pattern allows no one",
      "warning: POLICY.rules[0].allow[2]: federated-user is not in principalTypes, so this pattern allows no one",
      "warning: POLICY.deny[0]: has an IAM path, but an assumed-role session's canonical principal is role/<name> without its path, so this pattern denies no session",
    ]);
  });
});

describe("policy explain", () => {
  const DEPLOYER = `arn:aws:sts::${A}:assumed-role/deployer/ci-run-42`;

  it("exits 0 for an allowed request and names the rule and pattern", () => {
    const out = run("explain", "cookbook.json", "--arn", DEPLOYER, "--user-id", "AROAEMULATORDEPLOYER1:ci-run-42", "--method", "POST", "--path", "/deploy/app");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain(`principal: arn:aws:iam::${A}:role/deployer (assumed-role, account ${A}, UserId AROAEMULATORDEPLOYER1:ci-run-42)`);
    expect(out.stdout).toContain("request:   POST /deploy/app");
    expect(out.stdout).toContain(`ALLOW by rule ci-deploy (pattern arn:aws:iam::${A}:role/deployer)`);
    expect(out.stdout).not.toContain("note:");
  });

  it("exits 1 for a denied request, with the code, the reason and every rule it tried", () => {
    const out = run("explain", "cookbook.json", "--arn", DEPLOYER, "--user-id", "AROAEMULATORDEPLOYER1:ci-run-42", "--method", "DELETE", "--path", "/deploy/app");
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toContain("rules[0] ci-deploy: method DELETE is not one of POST, PUT");
    expect(out.stdout).toContain("rules[1] readers: method DELETE is not one of GET, HEAD");
    expect(out.stdout).toContain("rules[2] admin: path /deploy/app matches none of /admin/**");
    expect(out.stdout).toContain(`DENY policy_denied: no rule matches DELETE /deploy/app for arn:aws:iam::${A}:role/deployer`);
  });

  it("reports a pin mismatch when given STS's UserId", () => {
    const out = run("explain", "cookbook.json", "--arn", DEPLOYER, "--user-id", "AROAEMULATORDEPLOYER2:ci-run-42", "--method", "POST", "--path", "/deploy/app");
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toContain(`DENY policy_denied: UserId does not carry the pinned unique ID for arn:aws:iam::${A}:role/deployer`);
  });

  it("says a pin cannot be checked without --user-id", () => {
    const out = run("explain", "cookbook.json", "--arn", DEPLOYER, "--method=POST", "--path=/deploy/app");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("pin: not checked (no --user-id; see the note)");
    expect(out.stdout).toContain("cannot be checked without --user-id");
  });

  it("synthesizes a UserId that fits the principal when none is given", () => {
    const out = run("explain", "cookbook.json", "--arn", `arn:aws:iam::${A}:user/alice`, "--path", "/admin/users");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("ALLOW by rule admin");
    expect(out.stdout).toMatch(/note: UserId synthesized as AIDA[A-Z0-9]+ \(pass --user-id/);
  });

  it("defaults to GET / and upper-cases the method", () => {
    expect(run("explain", "cookbook.json", "--arn", `arn:aws:sts::${A}:assumed-role/reader/laptop`).stdout).toContain("request:   GET /");
    expect(run("explain", "cookbook.json", "--arn", `arn:aws:sts::${A}:assumed-role/reader/laptop`, "--method", "head").stdout).toContain("ALLOW by rule readers");
  });

  it("shows the path as the gate sees it: dot segments resolved before matching", () => {
    const out = run("explain", "cookbook.json", "--arn", `arn:aws:iam::${A}:user/alice`, "--path", "/admin/../reports");
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toContain("note: path: the gate sees /admin/../reports as /reports");
  });

  it("explains deny, accounts and principal types", () => {
    expect(run("explain", "cookbook.json", "--arn", `arn:aws:sts::${A}:assumed-role/contractor-7/x1`).stdout).toContain(
      `DENY policy_denied: denied by deny pattern arn:aws:iam::${A}:role/contractor-*`,
    );
    expect(run("explain", "cookbook.json", "--arn", "arn:aws:sts::444455556666:assumed-role/deployer/x1").stdout).toContain(
      "DENY policy_denied: account 444455556666 is not in accounts",
    );
    expect(run("explain", "cookbook.json", "--arn", `arn:aws:iam::${A}:root`).stdout).toContain("DENY principal_type_denied");
  });

  it.each([
    ["not an ARN", ["--arn", "deployer"], /^policy: --arn: not a principal ARN/],
    ["a partition the gate does not know", ["--arn", `arn:aws-eusc:iam::${A}:user/alice`], /^policy: --arn: not a principal ARN/],
    ["an ARN the gate would refuse", ["--arn", `arn:aws:iam::${A}:group/admins`], /^policy: --arn: the gate would refuse this identity from STS/],
    ["a UserId that does not fit the ARN", ["--arn", `arn:aws:iam::${A}:user/alice`, "--user-id", "AROAEMULATORDEPLOYER1"], /^policy: --arn\/--user-id: the gate would refuse/],
    ["a relative path", ["--arn", `arn:aws:iam::${A}:user/alice`, "--path", "admin"], /^policy: --path: must start with '\/'/],
    ["no --arn", [], /^policy: explain needs --arn <arn>/],
    ["a bad method", ["--arn", `arn:aws:iam::${A}:user/alice`, "--method", "GET /x"], /^policy: --method: not an HTTP method/],
  ])("exits 2 in one line for %s", (_why, args, pattern) => {
    expectCleanError(run("explain", "cookbook.json", ...args), 2, pattern);
  });

  it("exits 2 for an invalid policy, with its issues", () => {
    const out = run("explain", "broken.json", "--arn", `arn:aws:iam::${A}:user/alice`);
    expect(out.exitCode).toBe(2);
    expect(lines(out.stderr)[0]).toBe("broken.json: invalid policy; run npm run policy -- check broken.json");
    expect(lines(out.stderr)).toHaveLength(4);
  });
});

describe("policy command line", () => {
  it.each([
    ["an unknown command", ["frobnicate", "x.json"], /^policy: unknown command frobnicate/],
    ["an unknown option", ["check", "cookbook.json", "--verbose"], /^policy: unknown option --verbose for check/],
    ["an explain option given to check", ["check", "cookbook.json", "--arn", "x"], /^policy: unknown option --arn for check/],
    ["an option without its value", ["explain", "cookbook.json", "--arn"], /^policy: --arn needs a value/],
    ["an option given twice", ["explain", "cookbook.json", "--arn", "a", "--arn", "b"], /^policy: --arn given twice/],
    ["no file", ["check"], /^policy: check takes exactly one policy file/],
    ["two files", ["check", "a.json", "b.json"], /^policy: check takes exactly one policy file/],
  ])("exits 2 in one line for %s", (_why, argv, pattern) => {
    expectCleanError(run(...argv), 2, pattern);
  });

  it("prints usage for --help (exit 0) and for no arguments (exit 2)", () => {
    expect(run("--help")).toMatchObject({ exitCode: 0, stderr: "" });
    expect(run("--help").stdout).toContain("npm run policy -- check <file>");
    expect(run()).toMatchObject({ exitCode: 2, stdout: "" });
  });
});

/** `npm run policy` on a wrangler.toml: the file is read, its POLICY handed to the command. */
const runToml = (...argv: string[]): CliOutcome => runPolicyCli(argv, readTomlFixture);

describe("npm run policy -- check on wrangler.toml", () => {
  it("checks the top-level [vars.POLICY] table", () => {
    const out = runToml("check", "wrangler.toml");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/^wrangler\.toml \[vars\.POLICY\]: valid\n/);
    expect(out.stdout).toContain("for 1 principal pattern");
  });

  it.each([["--env", "staging"], ["--env=staging"]])("checks the POLICY of the environment %s names, a JSON string there", (...env) => {
    const out = runToml("check", "wrangler.toml", ...env);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/^wrangler\.toml \[env\.staging\.vars\.POLICY\]: valid\n/);
  });

  it("explain works on wrangler.toml too", () => {
    const out = runToml("explain", "wrangler.toml", "--env", "staging", "--arn", "arn:aws:iam::111122223333:user/alice");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("ALLOW by rule allow");
  });

  it.each([
    [["check", "wrangler.toml", "--env", "empty"], 1, /^policy: wrangler\.toml: \[env\.empty\.vars\] has no POLICY$/],
    [["check", "wrangler.toml", "--env", "prod"], 1, /^policy: cannot read wrangler\.toml: has no \[env\.prod\]/],
    [["check", "p.json", "--env", "staging"], 2, /^policy: --env applies to a wrangler\.toml file only$/],
    [["check", "wrangler.toml", "--env"], 2, /^policy: --env needs a value/],
  ])("%j exits %i with one line", (argv, code, line) => {
    const out = runToml(...argv);
    expect(out.exitCode).toBe(code);
    expect(out.stderr.trim().split("\n")).toHaveLength(1);
    expect(out.stderr.trim()).toMatch(line);
  });

  it("passes JSON files through unchanged", () => {
    expect(runToml("check", "p.json").stdout).toMatch(/^p\.json: valid\n/);
  });
});

/** A gate with APPS (issue 20): test/fixtures/deploy/apps.toml, three apps each with its own policy, and ADMINS. */
const APPS_TOML = readFileSync(new URL("../fixtures/deploy/apps.toml", import.meta.url), "utf8");
const runApps = (text: string, ...argv: string[]): CliOutcome =>
  runPolicyCli(argv, (file) => {
    if (file === "apps.toml") return text;
    return readTomlFixture(file);
  });

describe("npm run policy with APPS (issue 20)", () => {
  it("check reads each app's policy and reports it by app", () => {
    const out = runApps(APPS_TOML, "check", "apps.toml");
    expect(out.exitCode).toBe(0);
    expect(out.stderr).toBe("");
    expect(lines(out.stdout).filter((l) => l.endsWith(": valid"))).toEqual([
      "apps.toml [vars] APPS[0] (payments): valid",
      "apps.toml [vars] APPS[1] (docs): valid",
      "apps.toml [vars] APPS[2] (wiki): valid",
    ]);
    expect(out.stdout).toContain("accounts: 111122223333\n");
  });

  it("check --app checks that app's policy only", () => {
    const out = runApps(APPS_TOML, "check", "apps.toml", "--app", "wiki");
    expect(out.exitCode).toBe(0);
    expect(lines(out.stdout)[0]).toBe("apps.toml [vars] APPS[2] (wiki): valid");
    expect(out.stdout).not.toContain("(docs)");
  });

  it("check reports each app's issues and warnings with the app's name, and exits 1 if any app's policy is invalid", () => {
    const text = APPS_TOML.replace("iam::111122223333:role/deployer", "iam::*:role/deployer").replace(
      'allow = ["arn:aws:iam::111122223333:user/alice"]',
      'accounts = ["444455556666"]\nallow = ["arn:aws:iam::111122223333:user/alice"]',
    );
    const out = runApps(text, "check", "apps.toml");
    expect(out.exitCode).toBe(1);
    const stderr = lines(out.stderr);
    expect(stderr[0]).toBe("apps.toml [vars] APPS[0] (payments): invalid policy (1 issue)");
    expect(stderr[1]).toMatch(/^APPS\[0\] \(payments\): policy\.allow\[0\]: the account field must be a literal/);
    expect(stderr.slice(2).every((l) => l.startsWith("warning: APPS[1] (docs): policy"))).toBe(true);
    expect(stderr.slice(2).join("\n")).not.toContain("POLICY");
    // The other apps are still checked.
    expect(out.stdout).toContain("apps.toml [vars] APPS[2] (wiki): valid");
  });

  it("check refuses admins in an app's policy, as the gate does", () => {
    const text = APPS_TOML.replace('allow = ["arn:aws:iam::111122223333:user/alice"]', 'allow = ["arn:aws:iam::111122223333:user/alice"]\nadmins = ["arn:aws:iam::111122223333:user/alice"]');
    const out = runApps(text, "check", "apps.toml", "--app", "docs");
    expect(out.exitCode).toBe(1);
    expect(lines(out.stderr)).toEqual([
      "apps.toml [vars] APPS[1] (docs): invalid policy (1 issue)",
      "APPS[1] (docs): policy.admins: is not allowed in an app's policy: name the gate's admins in ADMINS",
    ]);
  });

  it("explain --app decides with that app's policy", () => {
    const alice = ["--arn", "arn:aws:iam::111122223333:user/alice"];
    const docs = runApps(APPS_TOML, "explain", "apps.toml", "--app", "docs", ...alice);
    expect(docs.exitCode).toBe(0);
    expect(docs.stdout).toContain("ALLOW by rule allow (pattern arn:aws:iam::111122223333:user/alice)");
    const payments = runApps(APPS_TOML, "explain", "apps.toml", "--app", "payments", ...alice);
    expect(payments.exitCode).toBe(1);
    expect(payments.stdout).toMatch(/^DENY /m);
  });

  it("explain --app decides the gate's own API by ADMINS", () => {
    const admin = runApps(APPS_TOML, "explain", "apps.toml", "--app", "docs", "--arn", "arn:aws:iam::111122223333:role/gate-admin", "--path", "/.well-known/sts-gate/revocations");
    expect(admin.exitCode).toBe(0);
    expect(admin.stdout).toContain("ALLOW by rule admins (pattern arn:aws:iam::111122223333:role/gate-admin)");
    const alice = runApps(APPS_TOML, "explain", "apps.toml", "--app", "docs", "--arn", "arn:aws:iam::111122223333:user/alice", "--path", "/.well-known/sts-gate/revocations");
    expect(alice.exitCode).toBe(1);
  });

  it.each([
    [["explain", "apps.toml", "--arn", "arn:aws:iam::111122223333:user/alice"], 2, /^policy: apps\.toml: \[vars\] has APPS, each with its own policy: explain needs --app NAME \(its apps: payments, docs, wiki\)$/],
    [["explain", "apps.toml", "--app", "blog", "--arn", "arn:aws:iam::111122223333:user/alice"], 2, /^policy: apps\.toml: \[vars\] has no app named blog \(its apps: payments, docs, wiki\)$/],
    [["check", "apps.toml", "--app", "docs", "--app", "wiki"], 2, /^policy: --app given twice/],
    [["check", "apps.toml", "--app"], 2, /^policy: --app needs a value/],
    [["check", "wrangler.toml", "--app", "docs"], 2, /^policy: wrangler\.toml: \[vars\] has no APPS; --app picks one app of a gate with APPS$/],
    [["check", "p.json", "--app", "docs"], 2, /^policy: --app applies to a wrangler\.toml file with APPS only$/],
  ])("%j exits %i with one line", (argv, code, line) => {
    const out = runApps(APPS_TOML, ...argv);
    expect(out.exitCode).toBe(code);
    expect(out.stdout).toBe("");
    expect(out.stderr.trim().split("\n")).toHaveLength(1);
    expect(out.stderr.trim()).toMatch(line);
  });
});
