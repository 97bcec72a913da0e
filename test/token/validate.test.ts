import { describe, expect, it } from "vitest";
import { lookupStsEndpoint } from "../../src/sts-endpoints";
import {
  checkCredentialScope,
  checkExpires,
  checkLifetime,
  MAX_CLOCK_SKEW_MS,
  parseAmzDate,
  requireParameters,
  TOKEN_LIFETIME_MS,
  validateAuthorization,
} from "../../src/token/validate";
import { encodeToken, presignUrl } from "../support/tokens";
import { expectProblem, rawParam, recorded, RECORDED, withParam } from "../support/helpers";

const alice = recorded("alice-us-east-1");
const SIGNED_AT = Date.parse(alice.signedAt);
const NOW = SIGNED_AT + 1000;
const MINUTE = 60 * 1000;

const validate = (url: string, now = NOW) => validateAuthorization(`Bearer ${encodeToken(url)}`, now);
/** alice's recorded URL with one parameter replaced (raw, percent-encoded) or removed. */
const tampered = (name: string, raw: string | undefined) => withParam(alice.url, name, raw);
/** alice's recorded URL re-dated: X-Amz-Date and the credential scope's date move together. */
function redated(amzDate: string): string {
  const credential = rawParam(alice.url, "X-Amz-Credential").replace(/%2F\d{8}%2F/, `%2F${amzDate.slice(0, 8)}%2F`);
  return withParam(withParam(alice.url, "X-Amz-Date", amzDate), "X-Amz-Credential", credential);
}

describe("validateAuthorization on good tokens", () => {
  it.each(RECORDED.map((t) => [t.name, t] as const))("accepts the recorded aws-cli token %s", (_n, t) => {
    const signedAt = Date.parse(t.signedAt);
    const v = validateAuthorization(`Bearer ${t.token}`, signedAt + 1000);
    expect(v.token).toBe(t.token);
    expect(v.endpoint.host).toBe(t.host);
    expect(v.amzDate).toBe(t.amzDate);
    expect(v.signedAt).toBe(signedAt);
    expect(v.expiresAt).toBe(signedAt + TOKEN_LIFETIME_MS);
    expect(v.signedHeaders).toBe("host;x-k8s-aws-id");
    expect(v.expires).toBe("60");
  });

  it("hands on the decoded credential, key, signature and session token", () => {
    const t = recorded("deployer-eu-west-1");
    const v = validateAuthorization(`Bearer ${t.token}`, Date.parse(t.signedAt));
    expect(v.accessKeyId).toBe("ASIAEMULATORDEPLOY01");
    expect(v.credential).toBe("ASIAEMULATORDEPLOY01/20261122/eu-west-1/sts/aws4_request");
    expect(v.signature).toBe("514c3372172c8d34c2c63e7f05fa273d8571f95199fdd5daf5f9640fae2b4a6b");
    expect(v.securityToken).toBe("IQoJb3JpZ2luX2VjEMULATOR/deployer+session=token==");
  });

  it.each([
    ["the global host", "sts.amazonaws.com", "us-east-1"],
    ["a FIPS host", "sts-fips.us-west-2.amazonaws.com", "us-west-2"],
    ["a dual-stack host", "sts.eu-central-1.api.aws", "eu-central-1"],
    ["a GovCloud host", "sts.us-gov-west-1.amazonaws.com", "us-gov-west-1"],
    ["a China host", "sts.cn-north-1.amazonaws.com.cn", "cn-north-1"],
  ])("accepts an aws4fetch token for %s (%s)", async (_why, host, region) => {
    const url = await presignUrl("deployer", { host, region, at: SIGNED_AT });
    const v = validate(url);
    expect(v.endpoint).toBe(lookupStsEndpoint(host));
    expect(v.expires).toBeUndefined();
  });

  it.each([
    ["X-Amz-Expires", undefined],
    ["X-Amz-Security-Token", undefined],
  ])("accepts a token without the optional %s", (name) => {
    expect(validate(tampered(name, undefined)).accessKeyId).toBe("AKIAEMULATORALICE001");
  });
});

describe("validateAuthorization runs every layer", () => {
  // One refusal per layer, so that dropping a call from the pipeline fails a test.
  it.each([
    ["no header", null, "authorization_missing"],
    ["another scheme", `Basic ${alice.token}`, "authorization_malformed"],
    ["another prefix", `Bearer ${alice.token.replace("k8s-aws-v1.", "k8s-aws-v2.")}`, "token_prefix"],
    ["padding", `Bearer ${alice.token}==`, "token_encoding"],
    ["bytes that are not UTF-8", "Bearer k8s-aws-v1.__8", "token_not_utf8"],
    ["an unknown host", `Bearer ${encodeToken(alice.url.replace("sts.us-east-1.amazonaws.com", "sts.us-east-1.amazonaws.com.evil.example"))}`, "sts_host_unknown"],
    ["a case-variant duplicate", `Bearer ${encodeToken(`${alice.url}&x-amz-credential=x`)}`, "query_duplicate_parameter"],
    ["a ';' separator", `Bearer ${encodeToken(alice.url.replace("&Version", ";Version"))}`, "query_malformed"],
  ] as const)("refuses %s", (_why, header, code) => {
    expectProblem(() => validateAuthorization(header, NOW), code);
  });
});

describe("rule requiredParameters", () => {
  it.each(["Action", "Version", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"])(
    "refuses a token without %s as parameter_missing",
    (name) => {
      expectProblem(() => validate(tampered(name, undefined)), "parameter_missing");
    },
  );

  it("refuses an empty query", () => {
    expectProblem(() => requireParameters({}), "parameter_missing");
    expectProblem(() => validate("https://sts.us-east-1.amazonaws.com/"), "parameter_missing");
  });
});

describe("rule actionIsGetCallerIdentity", () => {
  // ATTACKS #2 (CVE-2020-16250): another action's response can echo attacker data.
  it.each(["GetSessionToken", "AssumeRole", "getcalleridentity", "GetCallerIdentity%20", "GetCallerIdentity%00", ""])(
    "refuses Action=%s as action_invalid",
    (raw) => {
      expectProblem(() => validate(tampered("Action", raw)), "action_invalid");
    },
  );

  it("accepts the action spelled with escapes, since it decodes to the same value", () => {
    expect(validate(tampered("Action", "%47etCallerIdentity")).accessKeyId).toBe("AKIAEMULATORALICE001");
  });
});

describe("rule versionIs20110615", () => {
  it.each(["2011-06-16", "2011-6-15", "20110615", "2011-06-15%20", ""])("refuses Version=%s as version_invalid", (raw) => {
    expectProblem(() => validate(tampered("Version", raw)), "version_invalid");
  });
});

describe("rule algorithmIsSigV4", () => {
  it.each(["AWS4-HMAC-SHA512", "aws4-hmac-sha256", "AWS4-ECDSA-P256-SHA256", "AWS-HMAC-SHA256", ""])(
    "refuses X-Amz-Algorithm=%s as algorithm_invalid",
    (raw) => {
      expectProblem(() => validate(tampered("X-Amz-Algorithm", raw)), "algorithm_invalid");
    },
  );
});

describe("rule signedHeadersExact", () => {
  // ATTACKS #7 and #9: the audience header must be signed, and nothing the gate does not send.
  it.each([
    ["host only: no audience binding", "host"],
    ["audience only", "x-k8s-aws-id"],
    ["an extra header", "host%3Bx-k8s-aws-id%3Bx-amz-target"],
    ["the wrong order", "x-k8s-aws-id%3Bhost"],
    ["upper case", "HOST%3Bx-k8s-aws-id"],
    ["a trailing ';'", "host%3Bx-k8s-aws-id%3B"],
    ["a ',' separator", "host%2Cx-k8s-aws-id"],
    ["nothing", ""],
  ])("refuses %s as signed_headers_invalid", (_why, raw) => {
    expectProblem(() => validate(tampered("X-Amz-SignedHeaders", raw)), "signed_headers_invalid");
  });
});

describe("rule signatureShape", () => {
  const signature = rawParam(alice.url, "X-Amz-Signature");
  it.each([
    ["upper-case hex", signature.toUpperCase()],
    ["63 digits", signature.slice(1)],
    ["65 digits", `${signature}0`],
    ["a non-hex digit", `g${signature.slice(1)}`],
    ["empty", ""],
  ])("refuses %s as signature_malformed", (_why, raw) => {
    expectProblem(() => validate(tampered("X-Amz-Signature", raw)), "signature_malformed");
  });
});

describe("rule amzDateShape", () => {
  it.each([
    ["20261122T135444Z", Date.UTC(2026, 10, 22, 13, 54, 44)],
    ["20240229T235959Z", Date.UTC(2024, 1, 29, 23, 59, 59)],
    ["20000229T000000Z", Date.UTC(2000, 1, 29, 0, 0, 0)],
    ["20261231T235959Z", Date.UTC(2026, 11, 31, 23, 59, 59)],
  ])("reads %s", (text, ms) => {
    expect(parseAmzDate(text)).toBe(ms);
  });

  it.each([
    ["no Z", "20261122T135444"],
    ["lower-case t and z", "20261122t135444z"],
    ["ISO 8601 punctuation", "2026-11-22T13:54:44Z"],
    ["milliseconds", "20261122T135444.000Z"],
    ["no T", "20261122135444Z"],
    ["an offset", "20261122T135444+0000"],
    ["fullwidth digits", "２０２６1122T135444Z"],
    ["empty", ""],
    // Twelve digits in the right places, but no such instant.
    ["30 February", "20260230T000000Z"],
    ["29 February of a common year", "20250229T000000Z"],
    ["29 February 2100", "21000229T000000Z"],
    ["31 November", "20261131T000000Z"],
    ["month 13", "20261301T000000Z"],
    ["month 00", "20260001T000000Z"],
    ["day 00", "20261100T000000Z"],
    ["hour 24", "20261122T240000Z"],
    ["minute 60", "20261122T136000Z"],
    ["a leap second", "20261231T235960Z"],
    // Date.UTC reads years 0..99 as 1900..1999.
    ["a two-digit year", "00990101T000000Z"],
  ])("refuses %s as date_malformed", (_why, text) => {
    expectProblem(() => parseAmzDate(text), "date_malformed");
  });

  it("refuses an impossible date in a token that would otherwise be fresh", () => {
    // Date.UTC rolls 30 February over to 2 March, where this clock would find the token valid.
    const now = Date.UTC(2026, 2, 2, 0, 0, 1);
    expectProblem(() => validate(redated("20260230T000000Z"), now), "date_malformed");
  });

  it("refuses a malformed date before comparing it with the credential scope", () => {
    expectProblem(() => validate(tampered("X-Amz-Date", "2026-11-22T13%3A54%3A44Z")), "date_malformed");
  });
});

describe("rule credentialScope", () => {
  const endpoint = lookupStsEndpoint("sts.us-east-1.amazonaws.com")!;
  const date = "20261122T135444Z";

  it("returns the access key ID", () => {
    expect(checkCredentialScope("AKIAEMULATORALICE001/20261122/us-east-1/sts/aws4_request", date, endpoint)).toBe(
      "AKIAEMULATORALICE001",
    );
  });

  it.each([
    ["another service", "AKIAEMULATORALICE001/20261122/us-east-1/iam/aws4_request"],
    ["no terminator", "AKIAEMULATORALICE001/20261122/us-east-1/sts"],
    ["another terminator", "AKIAEMULATORALICE001/20261122/us-east-1/sts/aws4_requestx"],
    ["an extra segment", "AKIAEMULATORALICE001/20261122/us-east-1/sts/aws4_request/x"],
    ["a trailing newline", "AKIAEMULATORALICE001/20261122/us-east-1/sts/aws4_request\n"],
    ["a lower-case key", "akiaemulatoralice001/20261122/us-east-1/sts/aws4_request"],
    ["a 15-character key", "AKIAEMULATORALI/20261122/us-east-1/sts/aws4_request"],
    ["a 129-character key", `AKIA${"A".repeat(125)}/20261122/us-east-1/sts/aws4_request`],
    ["a seven-digit date", "AKIAEMULATORALICE001/2026112/us-east-1/sts/aws4_request"],
    ["an upper-case region", "AKIAEMULATORALICE001/20261122/US-EAST-1/sts/aws4_request"],
    ["an empty region", "AKIAEMULATORALICE001/20261122//sts/aws4_request"],
    ["a dotted region", "AKIAEMULATORALICE001/20261122/us-east-1.evil/sts/aws4_request"],
    ["a 33-character region", `AKIAEMULATORALICE001/20261122/${"a".repeat(33)}/sts/aws4_request`],
    ["empty", ""],
  ])("refuses %s as credential_malformed", (_why, credential) => {
    expectProblem(() => checkCredentialScope(credential, date, endpoint), "credential_malformed");
  });

  it("refuses a malformed scope inside a token", () => {
    const raw = rawParam(alice.url, "X-Amz-Credential").replace("%2Fsts%2F", "%2Fiam%2F");
    expectProblem(() => validate(tampered("X-Amz-Credential", raw)), "credential_malformed");
  });

  it.each([
    ["the day before", "20261121"],
    ["the day after", "20261123"],
  ])("refuses a scope dated %s as credential_date_mismatch", (_why, day) => {
    const raw = rawParam(alice.url, "X-Amz-Credential").replace("20261122", day);
    expectProblem(() => validate(tampered("X-Amz-Credential", raw)), "credential_date_mismatch");
    expectProblem(
      () => checkCredentialScope(`AKIAEMULATORALICE001/${day}/us-east-1/sts/aws4_request`, date, endpoint),
      "credential_date_mismatch",
    );
  });

  // The token must be signed for the region of the host it names; the gate rebuilds the
  // upstream URL from the host, so a mismatch means the token and the request disagree.
  it.each([
    ["us-west-2 scope on the us-east-1 host", "us-west-2", "sts.us-east-1.amazonaws.com"],
    ["eu-west-1 scope on the global host", "eu-west-1", "sts.amazonaws.com"],
    ["us-east-1 scope on a China host", "us-east-1", "sts.cn-north-1.amazonaws.com.cn"],
    ["us-gov-west-1 scope on the us-gov-east-1 host", "us-gov-west-1", "sts.us-gov-east-1.amazonaws.com"],
  ])("refuses a token with %s as credential_region_mismatch", async (_why, region, host) => {
    const url = await presignUrl("alice", { region, host, at: SIGNED_AT });
    expectProblem(() => validate(url), "credential_region_mismatch");
  });

  it("refuses a recorded token whose host was swapped for another region's", () => {
    const url = alice.url.replace("sts.us-east-1.amazonaws.com", "sts.us-west-2.amazonaws.com");
    expectProblem(() => validate(url), "credential_region_mismatch");
  });
});

describe("rule expiresRange", () => {
  it.each([undefined, "0", "1", "60", "900"])("accepts X-Amz-Expires=%s", (value) => {
    expect(() => checkExpires(value)).not.toThrow();
  });

  // ATTACKS #10, and anything a lenient Number() or parseInt() would read as in range.
  it.each([
    ["901"],
    ["-1"],
    ["abc"],
    ["0900"],
    ["00"],
    ["1000"],
    [""],
    ["+60"],
    ["60.0"],
    ["1e2"],
    ["0x10"],
    [" 60"],
    ["60abc"],
    ["９００"],
  ])("refuses X-Amz-Expires=%j as expires_invalid", (value) => {
    expectProblem(() => checkExpires(value), "expires_invalid");
  });

  it.each(["901", "-1", "abc", "0900", "%2B60"])("refuses a token with X-Amz-Expires=%s", (raw) => {
    expectProblem(() => validate(tampered("X-Amz-Expires", raw)), "expires_invalid");
  });
});

describe("rule lifetime", () => {
  const S = SIGNED_AT;

  it.each([
    ["exactly 60 s before X-Amz-Date (the skew allowance)", S - MAX_CLOCK_SKEW_MS],
    ["at X-Amz-Date", S],
    ["1 ms before 15 minutes have passed", S + TOKEN_LIFETIME_MS - 1],
  ])("accepts a token checked %s", (_why, now) => {
    expect(checkLifetime(S, now)).toBe(S + TOKEN_LIFETIME_MS);
    expect(validate(alice.url, now).expiresAt).toBe(S + TOKEN_LIFETIME_MS);
  });

  // ATTACKS #10: a token dated in the future would stay valid for longer than 15 minutes.
  it.each([
    ["1 ms beyond the skew allowance", S - MAX_CLOCK_SKEW_MS - 1],
    ["an hour early", S - 60 * MINUTE],
  ])("refuses a token checked %s as token_not_yet_valid", (_why, now) => {
    expectProblem(() => checkLifetime(S, now), "token_not_yet_valid");
    expectProblem(() => validate(alice.url, now), "token_not_yet_valid");
  });

  it.each([
    ["exactly 15 minutes after X-Amz-Date", S + TOKEN_LIFETIME_MS],
    ["a day later", S + 24 * 60 * MINUTE],
  ])("refuses a token checked %s as token_expired", (_why, now) => {
    expectProblem(() => checkLifetime(S, now), "token_expired");
    expectProblem(() => validate(alice.url, now), "token_expired");
  });

  it("keeps the constants at what STS honours", () => {
    expect(TOKEN_LIFETIME_MS).toBe(15 * MINUTE);
    expect(MAX_CLOCK_SKEW_MS).toBe(MINUTE);
  });

  // STS honours a presigned GetCallerIdentity for 15 minutes whatever X-Amz-Expires says,
  // so X-Amz-Expires=900 buys nothing beyond that and X-Amz-Expires=60 does not shorten it.
  it("measures the lifetime from X-Amz-Date alone, not from X-Amz-Expires", () => {
    expect(validate(tampered("X-Amz-Expires", "60"), S + 10 * MINUTE).expiresAt).toBe(S + TOKEN_LIFETIME_MS);
    expectProblem(() => validate(tampered("X-Amz-Expires", "900"), S + TOKEN_LIFETIME_MS), "token_expired");
  });
});
