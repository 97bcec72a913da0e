import { describe, expect, it } from "vitest";
import { ALLOWED_PARAMETERS, encodeRfc3986, parseStrictQuery } from "../../src/token/query";
import { expectProblem, recorded, RECORDED } from "../support/helpers";

const rawQueryOf = (url: string) => url.slice(url.indexOf("?") + 1);
const BASE = "Action=GetCallerIdentity&Version=2011-06-15";

describe("parseStrictQuery", () => {
  it("decodes the recorded aws-cli query of an assumed-role session", () => {
    expect(parseStrictQuery(rawQueryOf(recorded("deployer-eu-west-1").url))).toEqual({
      Action: "GetCallerIdentity",
      Version: "2011-06-15",
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": "ASIAEMULATORDEPLOY01/20261122/eu-west-1/sts/aws4_request",
      "X-Amz-Date": "20261122T135445Z",
      "X-Amz-Expires": "60",
      "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
      "X-Amz-Security-Token": "IQoJb3JpZ2luX2VjEMULATOR/deployer+session=token==",
      "X-Amz-Signature": "514c3372172c8d34c2c63e7f05fa273d8571f95199fdd5daf5f9640fae2b4a6b",
    });
  });

  it.each(RECORDED.map((t) => [t.name, t.url] as const))("accepts every recorded aws-cli query (%s)", (_n, url) => {
    expect(parseStrictQuery(rawQueryOf(url)).Action).toBe("GetCallerIdentity");
  });

  it("returns nothing for an empty query", () => {
    expect(parseStrictQuery("")).toEqual({});
  });

  it("decodes escapes in either hex case, and an empty value", () => {
    expect(parseStrictQuery("X-Amz-SignedHeaders=host%3bx-k8s-aws-id&X-Amz-Expires=")).toEqual({
      "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
      "X-Amz-Expires": "",
    });
  });

  // ATTACKS #5: every malformed byte rejects the whole token; a lenient parser would skip the
  // pair and the verifier would check something other than what STS executes.
  it.each([
    ["a ';' separator", `${BASE};X-Amz-Date=20261122T135444Z`],
    ["an empty pair between separators", `${BASE}&&X-Amz-Date=20261122T135444Z`],
    ["a trailing separator", `${BASE}&`],
    ["a leading separator", `&${BASE}`],
    ["a pair without '='", `${BASE}&X-Amz-Date`],
    ["an empty name", `${BASE}&=x`],
    ["a second '=' in the value", `${BASE}&X-Amz-Expires=60=`],
    ["a literal '+'", `${BASE}&X-Amz-Security-Token=a+b`],
    ["a literal '/'", `${BASE}&X-Amz-Credential=AKIA/20261122`],
    ["a literal ';' in a value", `${BASE}&X-Amz-SignedHeaders=host;x-k8s-aws-id`],
    ["a literal '?'", `${BASE}&X-Amz-Expires=60?`],
    ["a space", `${BASE}&X-Amz-Expires= 60`],
    ["a truncated escape", `${BASE}&X-Amz-Expires=6%3`],
    ["a non-hex escape", `${BASE}&X-Amz-Expires=%zz`],
    ["a bare '%'", `${BASE}&X-Amz-Expires=%`],
    ["an escape of invalid UTF-8", `${BASE}&X-Amz-Security-Token=%FF`],
    ["an escaped overlong '/'", `${BASE}&X-Amz-Security-Token=%C0%AF`],
    ["an escape in the name of invalid UTF-8", `X-Amz-Date%FF=x`],
    ["a non-ASCII character", `${BASE}&X-Amz-Expires=6é`],
  ])("refuses %s as query_malformed", (_why, raw) => {
    expectProblem(() => parseStrictQuery(raw), "query_malformed");
  });

  // ATTACKS #4 (CVE-2022-2385): the verifier reads one copy, STS another.
  it.each([
    ["exact repeat", `${BASE}&X-Amz-Credential=A&X-Amz-Credential=B`],
    ["repeat in lower case", `${BASE}&X-Amz-Credential=A&x-amz-credential=B`],
    ["repeat in upper case", `${BASE}&X-Amz-Date=A&X-AMZ-DATE=B`],
    ["repeat spelled with an escape", `${BASE}&X-Amz-Date=A&X-Amz-%44ate=B`],
    ["repeated Action", `${BASE}&Action=AssumeRole`],
    ["repeat with an empty value", `${BASE}&Version=`],
  ])("refuses a %s as query_duplicate_parameter", (_why, raw) => {
    expectProblem(() => parseStrictQuery(raw), "query_duplicate_parameter");
  });

  it("names a repeated parameter only by its canonical spelling", () => {
    const problem = expectProblem(() => parseStrictQuery(`${BASE}&X-Amz-Date=A&x-AMZ-date=B`), "query_duplicate_parameter");
    expect(problem.detail).toContain("X-Amz-Date");
    expect(problem.detail).not.toContain("x-AMZ-date");
  });

  // ATTACKS #2 and #6: parameters outside the presign set could change what STS does.
  it.each([
    ["a parameter of another action", `${BASE}&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fx`],
    ["a lower-case spelling with no canonical twin", `${BASE}&x-amz-date=20261122T135444Z`],
    ["a lower-case Action", "action=GetCallerIdentity"],
    ["an unsigned extra", `${BASE}&X-Amz-Target=AWSSecurityTokenServiceV20110615.AssumeRole`],
    ["a name differing by a trailing space", `${BASE}&X-Amz-Date%20=x`],
  ])("refuses %s as query_unknown_parameter", (_why, raw) => {
    expectProblem(() => parseStrictQuery(raw), "query_unknown_parameter");
  });

  it("does not echo an unknown name back in the problem detail", () => {
    const problem = expectProblem(() => parseStrictQuery(`${BASE}&EvilName=1`), "query_unknown_parameter");
    expect(problem.detail).not.toContain("EvilName");
  });

  it("allows exactly the SigV4 presign set and the two STS parameters", () => {
    expect([...ALLOWED_PARAMETERS].sort()).toEqual(
      [
        "Action",
        "Version",
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-Security-Token",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
      ].sort(),
    );
  });
});

describe("encodeRfc3986", () => {
  it.each([
    ["AKIA/20261122/us-east-1/sts/aws4_request", "AKIA%2F20261122%2Fus-east-1%2Fsts%2Faws4_request"],
    ["host;x-k8s-aws-id", "host%3Bx-k8s-aws-id"],
    ["a+b=c==", "a%2Bb%3Dc%3D%3D"],
    ["!'()*", "%21%27%28%29%2A"],
    ["-._~", "-._~"],
    ["a b", "a%20b"],
  ])("encodes %j as %j", (value, encoded) => {
    expect(encodeRfc3986(value)).toBe(encoded);
    expect(parseStrictQuery(`X-Amz-Security-Token=${encoded}`)["X-Amz-Security-Token"]).toBe(value);
  });
});
