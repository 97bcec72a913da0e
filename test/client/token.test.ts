import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createToken, StsGateClientError, type AwsCredentials } from "../../src/client/index";
import fixtures from "../fixtures/aws-cli-tokens.json";
import { stsCallsFor } from "../support/emulator";
import { decodeToken, identity, TEST_AUDIENCE } from "../support/tokens";

function credentialsOf(name: string): AwsCredentials {
  const { accessKeyId, secretAccessKey, sessionToken } = identity(name);
  return { accessKeyId, secretAccessKey, sessionToken };
}

/** The raw `name=value` pairs of a token's URL, in order, still percent-encoded. */
function rawPairs(token: string): [string, string][] {
  const url = decodeToken(token);
  return url
    .slice(url.indexOf("?") + 1)
    .split("&")
    .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)] as [string, string]);
}

describe("createToken: the format of aws eks get-token", () => {
  describe.each(fixtures.tokens)("recorded $name", (fixture) => {
    const signedAt = Date.parse(fixture.signedAt);
    const mint = () =>
      createToken({
        credentials: credentialsOf(fixture.identity),
        audience: fixtures.audience,
        region: fixture.cliRegion,
        now: () => signedAt + 999,
      });

    it("has the same parameters, in the same order, with the same encoding", async () => {
      const { token } = await mint();
      const ours = rawPairs(token);
      const theirs = rawPairs(fixture.token);
      expect(ours.map(([name]) => name)).toEqual(theirs.map(([name]) => name));
      // Every value but the signature is equal as raw (still encoded) text: same escapes, same case.
      const unsigned = (pairs: [string, string][]) => pairs.filter(([n]) => n !== "X-Amz-Signature");
      expect(unsigned(ours)).toEqual(unsigned(theirs));
      expect(new URL(decodeToken(token)).host).toBe(fixture.host);
      // Unpadded base64url, like the CLI's.
      expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    });

    it("is the recorded token byte for byte (same key, time, audience: same signature)", async () => {
      expect((await mint()).token).toBe(fixture.token);
    });

    it("expires when the CLI says it does: signing time + 14 minutes", async () => {
      expect((await mint()).expiresAt.toISOString().replace(".000Z", "Z")).toBe(fixture.expirationTimestamp);
    });
  });

  it("uses the China partition's hosts", async () => {
    const { token } = await createToken({ credentials: credentialsOf("alice"), audience: "a", region: "cn-north-1" });
    expect(new URL(decodeToken(token)).host).toBe("sts.cn-north-1.amazonaws.com.cn");
    expect(decodeToken(token)).toContain("%2Fcn-north-1%2Fsts%2Faws4_request");
  });

  it("uses GovCloud's regional hosts", async () => {
    const { token } = await createToken({ credentials: credentialsOf("alice"), audience: "a", region: "us-gov-west-1" });
    expect(new URL(decodeToken(token)).host).toBe("sts.us-gov-west-1.amazonaws.com");
  });

  it("signs the global endpoint for us-east-1, whatever the region", async () => {
    const { token } = await createToken({ credentials: credentialsOf("alice"), audience: "a", region: "eu-west-1", global: true });
    const url = decodeToken(token);
    expect(new URL(url).host).toBe("sts.amazonaws.com");
    expect(url).toContain("%2Fus-east-1%2Fsts%2Faws4_request");
  });

  it("ends earlier when the credentials expire first", async () => {
    const now = Date.parse("2026-11-22T10:00:00Z");
    const expiration = new Date(now + 5 * 60 * 1000);
    const { expiresAt } = await createToken({ credentials: { ...credentialsOf("deployer"), expiration }, audience: "a", now: () => now });
    expect(expiresAt).toEqual(expiration);
  });

  it.each([
    ["an unknown region", { region: "mars-west-1" }, "region_invalid"],
    ["an uppercase region", { region: "US-EAST-1" }, "region_invalid"],
    ["the global endpoint from China", { region: "cn-north-1", global: true }, "region_invalid"],
    ["an empty audience", { audience: "" }, "audience_invalid"],
    ["an audience with a space", { audience: "a b" }, "audience_invalid"],
    ["an audience over 256 characters", { audience: "a".repeat(257) }, "audience_invalid"],
    ["a malformed access key ID", { credentials: { accessKeyId: "akia-lower", secretAccessKey: "s" } }, "credentials_invalid"],
    ["no secret", { credentials: { accessKeyId: "AKIAEMULATORALICE001", secretAccessKey: "" } }, "credentials_invalid"],
    [
      "expired credentials",
      { credentials: { ...credentialsOf("deployer"), expiration: new Date(Date.now() - 1000) } },
      "credentials_expired",
    ],
  ])("refuses %s", async (_, override, code) => {
    const error = await createToken({ credentials: credentialsOf("alice"), audience: "a", ...override }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StsGateClientError);
    expect((error as StsGateClientError).code).toBe(code);
  });
});

describe("createToken: accepted by the gate through the STS emulator", () => {
  it.each([
    ["alice", "af-south-1", false, "arn:aws:iam::111122223333:user/alice"],
    ["alice", "eu-central-1", false, "arn:aws:iam::111122223333:user/alice"],
    ["deployer", "ap-northeast-1", false, "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42"],
    ["deployer", "us-east-1", true, "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42"],
  ])("%s in %s (global: %s)", async (name, region, global, arn) => {
    const { token } = await createToken({ credentials: credentialsOf(name), audience: TEST_AUDIENCE, region, global });
    const res = await exports.default.fetch("https://localhost/client", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { headers: Record<string, string> }).headers["x-caller-arn"]).toBe(arn);
    expect(await stsCallsFor(token)).toBe(1);
  });
});
