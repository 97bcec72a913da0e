import { describe, expect, inject, it } from "vitest";
import type { CliRun } from "./runs";
import "./runs";

/** `sts-gate doctor`, `sts-gate probe` and `npm run policy -- check wrangler.toml`, as child processes (global-setup.ts). */
const runs = inject("cliRuns");

function ran(name: string): CliRun {
  const r = runs[name];
  if (r === undefined) throw new Error(`no CLI run named ${name}`);
  return r;
}

const lines = (s: string) => s.split("\n").filter((l) => l !== "");
const noStack = (r: CliRun) => expect(r.stderr).not.toMatch(/\n\s+at /);

describe("the built bin", () => {
  it("is executable: it runs as a command, not only through node", () => {
    const r = ran("bin-direct");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: sts-gate <command>/);
    expect(r.stdout).toContain("doctor");
    expect(r.stdout).toContain("probe");
  });
});

describe("sts-gate doctor", () => {
  it("exits 0 on a sound configuration with the summary npm run policy -- check prints", () => {
    const doctor = ran("doctor-sound");
    expect(doctor.code).toBe(0);
    expect(doctor.stderr).toBe("");
    const policy = ran("policy-toml");
    expect(policy.code).toBe(0);
    expect(lines(doctor.stdout)).toEqual([
      `test/fixtures/deploy/sound.toml: no problems found (the top level, what wrangler deploy --env="" deploys)`,
      ...lines(policy.stdout),
    ]);
    expect(policy.stdout).toMatch(/^test\/fixtures\/deploy\/sound\.toml \[vars\.POLICY\]: valid\n2 rules, in order:\n/);
  });

  it("checks the environment --env names; the TypeScript source behaves as the bin", () => {
    const r = ran("doctor-sound-env");
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe("test/fixtures/deploy/sound.toml [env.staging]: no problems found ([env.staging])");
    expect(r.stdout).toContain("shorthand form (allow)");
    expect(ran("doctor-source")).toMatchObject({ code: 0, stdout: ran("doctor-sound").stdout });
  });

  it("exits 1 with one line per problem, each naming what it is about", () => {
    const r = ran("doctor-broken");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    noStack(r);
    const problems = lines(r.stderr);
    // The same seven problems test/cli/doctor.test.ts finds in its all-in-one case, in order.
    expect(problems).toHaveLength(7);
    expect(problems.every((l) => l.startsWith("test/fixtures/deploy/broken.toml: "))).toBe(true);
    expect(problems[1]).toContain("AUDIENCE: missing from [vars]");
    expect(problems[5]).toContain("STS: a service binding to sts-emulator");
    expect(problems[0]).toContain("placeholder 00000000000000000000000000000000");
    expect(problems[2]).toContain("not https");
    expect(problems[3]).toContain("localhost is an example or local host");
    expect(problems[4]).toContain("admits no one");
    expect(problems[6]).toContain("wrangler secret put ASSERTION_PRIVATE_JWK");
  });

  it("a policy that admits no one fails the doctor, though npm run policy -- check only warns", () => {
    const doctor = ran("doctor-no-one");
    expect(doctor.code).toBe(1);
    expect(lines(doctor.stderr)).toEqual([expect.stringMatching(/^test\/fixtures\/deploy\/broken\.toml \[env\.no-one\]: POLICY: admits no one: /)]);
    const policy = ran("policy-toml-no-one");
    expect(policy.code).toBe(0);
    expect(policy.stderr).toMatch(/^warning: POLICY admits no one: /m);
  });

  it("reports an invalid policy and anything else the gate would refuse", () => {
    const r = ran("doctor-invalid");
    expect(r.code).toBe(1);
    const problems = lines(r.stderr);
    expect(problems.some((l) => l.includes(": POLICY.allow[0]: the account field must be a literal"))).toBe(true);
    expect(problems.some((l) => l.includes(": STS_TIMEOUT_MS: "))).toBe(true);
    expect(problems.some((l) => l.includes("gate-origin.example.com is an example"))).toBe(true);
  });

  it.each([
    ["doctor-unknown-env", /^sts-gate: test\/fixtures\/deploy\/sound\.toml has no \[env\.prod\] \(it has \[env\.staging\]\)$/],
    ["doctor-missing-file", /^sts-gate: cannot read test\/fixtures\/deploy\/nope\.toml: /],
  ])("%s: exit 2, one line", (name, line) => {
    const r = ran(name);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(line)]);
  });

  it("--help describes every check", () => {
    const r = ran("doctor-help");
    expect(r.code).toBe(0);
    for (const word of ["IDENTITY_CACHE", "AUDIENCE", "ORIGIN_URL", "POLICY", "STS", "wrangler secret put", "--config", "--env"]) {
      expect(r.stdout).toContain(word);
    }
  });
});

describe("sts-gate probe (the command; its checks run against the emulator in test/cli/probe.test.ts)", () => {
  it("--help says what it prints and when it exits non-zero", () => {
    const r = ran("probe-help");
    expect(r.code).toBe(0);
    for (const word of ["--audience", "--region", "--profile", "--config", "status", "content type", "identity", "policy"]) expect(r.stdout).toContain(word);
  });

  it.each([
    ["probe-missing-audience", 2, /^sts-gate: --audience is required/],
    ["probe-no-credentials", 1, /^sts-gate: no AWS credentials found/],
    ["probe-bad-config", 2, /^sts-gate: test\/fixtures\/deploy\/sound\.toml has no \[env\.prod\]/],
    ["probe-apps-no-app", 2, /^sts-gate: test\/fixtures\/deploy\/apps\.toml: \[vars\] has APPS, each with its own audience and policy: pass --app NAME \(its apps: payments, docs, wiki\)$/],
    ["probe-apps-unknown-app", 2, /^sts-gate: test\/fixtures\/deploy\/apps\.toml: \[vars\] has no app named blog \(its apps: payments, docs, wiki\)$/],
    ["probe-app-single-app", 2, /^sts-gate: test\/fixtures\/deploy\/sound\.toml: \[vars\] has no APPS; --app picks one app of a gate with APPS$/],
    ["probe-app-no-config", 2, /^sts-gate: --app needs --config/],
  ])("%s: exit %i, one line, nothing sent", (name, code, line) => {
    const r = ran(name);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe("");
    expect(lines(r.stderr)).toEqual([expect.stringMatching(line)]);
    // Every connection the run tried was recorded (test/cli/network-watch.mjs): none.
    expect(r.connections).toEqual([]);
  });

  it("with APPS and --app, the app's audience is the default and the app is named", () => {
    const r = ran("probe-app-reaches-sts");
    expect(r.code).toBe(1);
    expect(lines(r.stdout)[0]).toBe("app:          APPS[1] (docs): audience docs-prod, pathPrefix /docs");
    // No audience difference: the token was minted for the app's audience, which the watch cannot see, but the probe compares.
    expect(r.stdout).not.toContain("difference:   audience");
    expect(r.connections).toContain("sts.eu-west-1.amazonaws.com");
  });

  it("the network watch sees a connection: a probe that gets as far as STS tries the token's host", () => {
    const r = ran("probe-reaches-sts");
    expect(r.code).not.toBe(0);
    expect(r.connections).toContain("sts.eu-west-1.amazonaws.com");
  });
});

describe("npm run policy -- check wrangler.toml", () => {
  it("reads [vars.POLICY] of the environment --env names", () => {
    const r = ran("policy-toml-env");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^test\/fixtures\/deploy\/sound\.toml \[env\.staging\.vars\.POLICY\]: valid\n/);
  });
});
