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
