import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runProbe, shapeDifferences, type ProbeOptions } from "../../src/cli/probe";
import { readDeployTarget } from "../../src/cli/wrangler-config";
import { identity, TEST_AUDIENCE } from "../support/tokens";

/**
 * `sts-gate probe` against the emulator. The CLI gives runProbe the network's fetch; only a
 * test passes another, as a function argument: no variable or config key can redirect a probe.
 */
const CONFIG = `
[vars]
AUDIENCE = "${TEST_AUDIENCE}"
ORIGIN_URL = "https://origin.acme-corp.net"
[vars.POLICY]
allow = ["arn:aws:iam::111122223333:user/alice"]
`;

function probe(name: string, more: Partial<ProbeOptions> = {}) {
  const who = identity(name);
  return runProbe(
    {
      credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey, sessionToken: who.sessionToken },
      audience: TEST_AUDIENCE,
      region: "us-east-1",
      ...more,
    },
    { fetch: (request) => env.STS.fetch(request) },
  );
}

const config = (text = CONFIG, envName?: string) => ({ file: "wrangler.toml", target: readDeployTarget(text, envName) });
const lines = (s: string) => s.split("\n").filter((l) => l !== "");

describe("sts-gate probe", () => {
  it("prints the status, content type, identity and the policy's decision; exit 0 when all is as the gate expects", async () => {
    const out = await probe("alice", { config: config() });
    expect(out.exitCode).toBe(0);
    expect(lines(out.stdout)).toEqual([
      "endpoint:     https://sts.us-east-1.amazonaws.com/ (us-east-1)",
      "status:       200",
      "content-type: application/json",
      "identity:     arn:aws:iam::111122223333:user/alice",
      "principal:    arn:aws:iam::111122223333:user/alice (user, account 111122223333, UserId AIDAEMULATORALICE0001)",
      "policy:       admits GET /: rule allow (pattern arn:aws:iam::111122223333:user/alice)",
      "differences:  none: real STS answers the way the gate expects",
    ]);
  });

  it("without --config it says the policy was not checked", async () => {
    const out = await probe("deployer");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("principal:    arn:aws:iam::111122223333:role/deployer (assumed-role");
    expect(out.stdout).toContain("policy:       not checked (pass --config wrangler.toml)");
  });

  it("exits 1 when the policy would refuse the caller, and says why", async () => {
    const out = await probe("reader", { config: config(), method: "POST", path: "/deploy" });
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toMatch(/^policy: +refuses POST \/deploy: policy_denied: no rule matches POST \/deploy for arn:aws:iam::111122223333:role\/reader$/m);
  });

  it("a token for another audience than the config's: STS refuses, and both say why", async () => {
    const out = await probe("alice", { audience: "some-other-gate", config: config() });
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toMatch(/^difference: +audience: the token is for some-other-gate, but wrangler\.toml says AUDIENCE = "sts-gate-test"/m);
    expect(out.stdout).toMatch(/^status: +403$/m);
    expect(out.stdout).toMatch(/^difference: +sts: sts_refused: .*this gate's audience is sts-gate-test/m);
  });

  it.each([
    ["fault-extra-field", "sts_bad_response", /sts answer: unexpected field GetCallerIdentityResponse\.GetCallerIdentityResult\.\w+/],
    ["fault-missing-field", "sts_bad_response", /sts answer: missing field GetCallerIdentityResponse\.GetCallerIdentityResult\.\w+/],
    ["fault-html", "sts_bad_response", /content-type: the gate requires application\/json, STS sent text\/html/],
    ["fault-account-mismatch", "sts_inconsistent_identity", /identity: sts_inconsistent_identity: Account does not match/],
    ["fault-throttle", "sts_throttled", /sts: sts_throttled/],
  ])("an answer the gate would not accept (%s) is a difference, exit 1", async (name, code, line) => {
    const out = await probe(name);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toContain(code);
    expect(out.stdout).toMatch(line);
    expect(out.stdout).not.toContain("differences:  none");
  });

  it("a token the gate's own rules refuse never reaches STS", async () => {
    let calls = 0;
    let signed = false;
    const who = identity("alice");
    const out = await runProbe(
      { credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey }, audience: TEST_AUDIENCE, region: "us-east-1" },
      // The clock runs 20 minutes between signing and checking: the gate finds the token expired.
      { fetch: (r) => (calls++, env.STS.fetch(r)), now: () => (signed ? Date.now() : ((signed = true), Date.now() - 20 * 60 * 1000)) },
    );
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toMatch(/^difference: +validation: the gate refuses the token before STS: token_expired/m);
    expect(calls).toBe(0);
  });
});

describe("sts-gate probe --config with APPS: --app picks the app", () => {
  const APPS = `
[vars]
ADMINS = ["arn:aws:iam::111122223333:role/deployer"]

[[vars.APPS]]
name = "api"
hosts = ["api.acme-corp.net"]
audience = "${TEST_AUDIENCE}"
originUrl = "https://api-origin.acme-corp.net"
publicPaths = ["/health"]

[vars.APPS.policy]
allow = ["arn:aws:iam::111122223333:user/alice"]

[[vars.APPS]]
name = "docs"
hosts = ["tools.acme-corp.net"]
pathPrefix = "/docs/"
audience = "docs-prod"
originUrl = "https://docs-origin.acme-corp.net"

[vars.APPS.policy]
allow = ["arn:aws:iam::111122223333:role/reader"]

[[vars.APPS]]
name = "wiki"
hosts = ["tools.acme-corp.net"]
audience = "wiki-prod"
originUrl = "https://wiki-origin.acme-corp.net"

[vars.APPS.policy]
allow = ["arn:aws:iam::111122223333:role/reader"]
`;
  const apps = (app?: string, text = APPS) => ({ file: "wrangler.toml", target: readDeployTarget(text, undefined), ...(app === undefined ? {} : { app }) });

  it("decides with the app's policy, on its path prefix by default, and names the app", async () => {
    const out = await probe("reader", { audience: "docs-prod", config: apps("docs") });
    expect(out.exitCode).toBe(0);
    expect(lines(out.stdout)[0]).toBe("app:          APPS[1] (docs): audience docs-prod, pathPrefix /docs");
    expect(out.stdout).toMatch(/^policy: +admits GET \/docs: rule allow \(pattern arn:aws:iam::111122223333:role\/reader\)$/m);
    expect(out.stdout).toContain("differences:  none");
    // Another app's policy would refuse the same caller: the probe asked this app's.
    const api = await probe("reader", { config: apps("api"), path: "/orders" });
    expect(api.exitCode).toBe(1);
    expect(api.stdout).toMatch(/^policy: +refuses GET \/orders: policy_denied/m);
  });

  it("compares the token's audience with the app's, not with any single-app AUDIENCE", async () => {
    const out = await probe("reader", { audience: TEST_AUDIENCE, config: apps("docs") });
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toMatch(/^difference: +audience: the token is for sts-gate-test, but APPS\[1\] \(docs\)'s audience is "docs-prod"; this gate's STS call would be refused/m);
  });

  it("routes as the gate does: a path another app serves, or that the gate refuses as ambiguous, is a difference", async () => {
    // Outside the docs prefix (a segment boundary): the host's root app serves it.
    const outside = await probe("reader", { audience: "docs-prod", config: apps("docs"), path: "/docsx" });
    expect(outside.exitCode).toBe(1);
    expect(outside.stdout).toMatch(/^difference: +path: on tools\.acme-corp\.net the gate sends \/docsx to the app wiki, not to APPS\[1\] \(docs\)$/m);
    // Under a sibling's longer prefix: that app serves it, whatever wiki's policy says.
    const sibling = await probe("reader", { audience: "wiki-prod", config: apps("wiki"), path: "/docs/guide" });
    expect(sibling.exitCode).toBe(1);
    expect(sibling.stdout).toMatch(/^difference: +path: on tools\.acme-corp\.net the gate sends \/docs\/guide to the app docs, not to APPS\[2\] \(wiki\)$/m);
    // An escape that a lenient origin reads under docs' prefix: the gate's rule `appAmbiguous`.
    const escaped = await probe("reader", { audience: "wiki-prod", config: apps("wiki"), path: "/%64ocs/guide" });
    expect(escaped.exitCode).toBe(1);
    expect(escaped.stdout).toMatch(/^difference: +path: on tools\.acme-corp\.net the gate refuses \/%64ocs\/guide \(400 app_ambiguous\)/m);
    // The control: the same caller on wiki's own path has no difference.
    const own = await probe("reader", { audience: "wiki-prod", config: apps("wiki"), path: "/pages" });
    expect(own.exitCode).toBe(0);
  });

  it("a public path is not asked of the policy: the gate verifies no one there", async () => {
    const out = await probe("deployer", { config: apps("api"), path: "/health" });
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/^policy: +not asked: \/health is a public path of APPS\[0\] \(api\); the gate forwards it for any method without verification$/m);
    // The glob is the gate's: /health/x is not public, and the policy then refuses this caller.
    const below = await probe("deployer", { config: apps("api"), path: "/health/x" });
    expect(below.stdout).toMatch(/^policy: +refuses GET \/health\/x: policy_denied/m);
  });

  it("the gate's own API is not an app's policy to decide", async () => {
    const out = await probe("deployer", { config: apps("api"), path: "/.well-known/sts-gate/revocations" });
    expect(out.stdout).toMatch(/^policy: +not asked: \/\.well-known\/sts-gate\/revocations is the gate's own API, which ADMINS/m);
    expect(out.stdout).not.toMatch(/^policy: +(admits|refuses)/m);
  });

  it("an app policy with admins is invalid, as the gate says, on the policy's own line", async () => {
    // APPS ends in wiki's [vars.APPS.policy] table.
    const text = `${APPS}admins = ["arn:aws:iam::111122223333:role/reader"]\n`;
    const out = await probe("reader", { audience: "wiki-prod", config: apps("wiki", text), path: "/pages" });
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toMatch(/^policy: +wrangler\.toml \[vars\] APPS\[2\] \(wiki\) is invalid/m);
    expect(out.stdout).toMatch(/^difference: +policy: APPS\[2\] \(wiki\): policy\.admins: is not allowed in an app's policy/m);
    expect(out.stdout).not.toContain("difference:   config:");
  });

  it("a problem in another app is a difference: the gate would answer 500 to every request", async () => {
    const text = APPS.replace('publicPaths = ["/health"]', 'publicPaths = ["/health"]\npathPrefix = "v1"');
    const out = await probe("reader", { audience: "docs-prod", config: apps("docs", text) });
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toMatch(/^policy: +admits GET \/docs/m);
    expect(out.stdout).toMatch(/^difference: +config: APPS\[0\]\.pathPrefix: .*; the gate would answer 500 misconfigured to every request \(sts-gate doctor lists them\)$/m);
  });

  it("without --app, or with a name no app has, it is a usage error (exit 2) and nothing is sent to STS", async () => {
    let calls = 0;
    const who = identity("alice");
    for (const [app, line] of [
      [undefined, "wrangler.toml: [vars] has APPS, each with its own audience and policy: pass --app NAME (its apps: api, docs, wiki)"],
      ["blog", "wrangler.toml: [vars] has no app named blog (its apps: api, docs, wiki)"],
    ] as const) {
      const out = await runProbe({ credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey }, audience: TEST_AUDIENCE, region: "us-east-1", config: apps(app) }, { fetch: (r) => (calls++, env.STS.fetch(r)) });
      expect(out).toEqual({ exitCode: 2, stdout: "", stderr: `${line}\n` });
    }
    const single = await runProbe({ credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey }, audience: TEST_AUDIENCE, region: "us-east-1", config: { ...config(), app: "docs" } }, { fetch: (r) => (calls++, env.STS.fetch(r)) });
    expect(single.exitCode).toBe(2);
    expect(single.stderr).toBe("wrangler.toml: [vars] has no APPS; --app picks one app of a gate with APPS\n");
    expect(calls).toBe(0);
  });
});

describe("shapeDifferences", () => {
  it("is empty for the answer the gate accepts", () => {
    const body = { GetCallerIdentityResponse: { GetCallerIdentityResult: { Arn: "a", Account: "1", UserId: "u" }, ResponseMetadata: { RequestId: "r" } } };
    expect(shapeDifferences(JSON.stringify(body))).toEqual([]);
  });

  it("names wrong types and non-JSON bodies", () => {
    expect(shapeDifferences('{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Arn":1,"Account":"1","UserId":"u"}}}')).toEqual([
      "GetCallerIdentityResponse.GetCallerIdentityResult.Arn is a number, not a string",
    ]);
    expect(shapeDifferences("<xml/>")[0]).toMatch(/^the body is not JSON/);
  });
});
