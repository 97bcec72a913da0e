import { describe, expect, it } from "vitest";
import { policyCliInput, readDeployTarget } from "../../src/cli/wrangler-config";
import { runPolicyCli } from "../../src/cli/policy-cli";

const TOML = `
[vars]
AUDIENCE = "top"
[vars.POLICY]
allow = ["arn:aws:iam::111122223333:role/deployer"]

[env.staging.vars]
POLICY = '{"allow":["arn:aws:iam::111122223333:user/alice"]}'

[env.empty.vars]
AUDIENCE = "x"
`;

const FILES: Record<string, string> = { "wrangler.toml": TOML, "p.json": '{"allow":["arn:aws:iam::111122223333:user/bob"]}' };
const read = (f: string) => {
  const t = FILES[f];
  if (t === undefined) throw new Error(`ENOENT: ${f}`);
  return t;
};

/** What `npm run policy` does: policyCliInput, then runPolicyCli (src/cli/policy.ts). */
function policy(...argv: string[]) {
  const input = policyCliInput(argv, read);
  return "error" in input ? { exitCode: input.exitCode, stdout: "", stderr: `policy: ${input.error}\n` } : runPolicyCli(input.argv, input.readText);
}

describe("readDeployTarget", () => {
  it("reads the top level without --env, and an environment's own tables with it", () => {
    expect(readDeployTarget(TOML, undefined).vars.AUDIENCE).toBe("top");
    expect(readDeployTarget(TOML, "").varsTable).toBe("[vars]");
    const staging = readDeployTarget(TOML, "staging");
    expect(staging.varsTable).toBe("[env.staging.vars]");
    expect(staging.vars.AUDIENCE).toBeUndefined();
  });
});

describe("npm run policy -- check on wrangler.toml", () => {
  it("checks the top-level [vars.POLICY] table", () => {
    const out = policy("check", "wrangler.toml");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/^wrangler\.toml \[vars\.POLICY\]: valid\n/);
    expect(out.stdout).toContain("for 1 principal pattern");
  });

  it.each([["--env", "staging"], ["--env=staging"]])("checks the POLICY of the environment %s names, a JSON string there", (...env) => {
    const out = policy("check", "wrangler.toml", ...env);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/^wrangler\.toml \[env\.staging\.vars\.POLICY\]: valid\n/);
  });

  it("explain works on wrangler.toml too", () => {
    const out = policy("explain", "wrangler.toml", "--env", "staging", "--arn", "arn:aws:iam::111122223333:user/alice");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("ALLOW by rule allow");
  });

  it.each([
    [["check", "wrangler.toml", "--env", "empty"], 1, /^policy: wrangler\.toml: \[env\.empty\.vars\] has no POLICY$/],
    [["check", "wrangler.toml", "--env", "prod"], 1, /^policy: cannot read wrangler\.toml: has no \[env\.prod\]/],
    [["check", "p.json", "--env", "staging"], 2, /^policy: --env applies to a wrangler\.toml file only$/],
    [["check", "wrangler.toml", "--env"], 2, /^policy: --env needs a value/],
  ])("%j exits %i with one line", (argv, code, line) => {
    const out = policy(...argv);
    expect(out.exitCode).toBe(code);
    expect(out.stderr.trim().split("\n")).toHaveLength(1);
    expect(out.stderr.trim()).toMatch(line);
  });

  it("passes JSON files through unchanged", () => {
    expect(policy("check", "p.json").stdout).toMatch(/^p\.json: valid\n/);
  });
});
