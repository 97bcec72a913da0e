import { describe, expect, it } from "vitest";
import { lookupStsEndpoint, STS_ENDPOINTS, type StsEndpoint } from "../src/sts-endpoints";

describe("lookupStsEndpoint", () => {
  it.each<[string, Omit<StsEndpoint, "host">]>([
    // The legacy global host signs for us-east-1.
    ["sts.amazonaws.com", { region: "us-east-1", partition: "aws", fips: false, dualStack: false }],
    ["sts.us-east-1.amazonaws.com", { region: "us-east-1", partition: "aws", fips: false, dualStack: false }],
    ["sts.eu-west-1.amazonaws.com", { region: "eu-west-1", partition: "aws", fips: false, dualStack: false }],
    ["sts.ap-southeast-2.amazonaws.com", { region: "ap-southeast-2", partition: "aws", fips: false, dualStack: false }],
    ["sts.eu-west-1.api.aws", { region: "eu-west-1", partition: "aws", fips: false, dualStack: true }],
    ["sts-fips.us-west-2.amazonaws.com", { region: "us-west-2", partition: "aws", fips: true, dualStack: false }],
    ["sts-fips.us-east-1.api.aws", { region: "us-east-1", partition: "aws", fips: true, dualStack: true }],
    ["sts.us-gov-west-1.amazonaws.com", { region: "us-gov-west-1", partition: "aws-us-gov", fips: true, dualStack: false }],
    ["sts.us-gov-east-1.api.aws", { region: "us-gov-east-1", partition: "aws-us-gov", fips: false, dualStack: true }],
    ["sts.cn-north-1.amazonaws.com.cn", { region: "cn-north-1", partition: "aws-cn", fips: false, dualStack: false }],
    [
      "sts.cn-northwest-1.api.amazonwebservices.com.cn",
      { region: "cn-northwest-1", partition: "aws-cn", fips: false, dualStack: true },
    ],
  ])("knows %s", (host, expected) => {
    expect(lookupStsEndpoint(host)).toEqual({ host, ...expected });
  });

  // ATTACKS #1: every one of these names a host an attacker could answer for, or a spelling
  // that some other component would resolve differently from the table's.
  it.each([
    "sts.amazonaws.com.evil.example",
    "evil.example",
    "sts.made-up-1.amazonaws.com",
    "STS.AMAZONAWS.COM",
    "Sts.us-east-1.amazonaws.com",
    "sts.amazonaws.com.",
    "sts.us-east-1.amazonaws.com.",
    "sts.us-east-1.amazonaws.com.cn",
    "sts.cn-north-1.amazonaws.com",
    "sts.us-gov-west-1.amazonaws.com.cn",
    "sts-fips.eu-west-1.amazonaws.com",
    "sts-fips.us-gov-west-1.amazonaws.com",
    "sts.api.aws",
    "sts.aws-global.amazonaws.com",
    "xsts.amazonaws.com",
    "sts.amazonaws.co",
    "amazonaws.com",
    "sts.amazonaws.com:443",
    " sts.amazonaws.com",
    "",
  ])("does not know %j", (host) => {
    expect(lookupStsEndpoint(host)).toBeUndefined();
  });

  it("finds every row of the table, and returns that row", () => {
    for (const endpoint of STS_ENDPOINTS) expect(lookupStsEndpoint(endpoint.host)).toBe(endpoint);
  });
});

describe("the STS endpoint table", () => {
  it("has unique, lowercase, plain DNS names only", () => {
    const hosts = STS_ENDPOINTS.map((e) => e.host);
    expect(new Set(hosts).size).toBe(hosts.length);
    for (const host of hosts) expect(host).toMatch(/^sts(-fips)?\.([a-z0-9-]+\.)?(amazonaws\.com|api\.aws|amazonaws\.com\.cn|api\.amazonwebservices\.com\.cn)$/);
  });

  // A regional host signing for some other region would make the region check meaningless.
  it("names each regional host's signing region in the host", () => {
    for (const e of STS_ENDPOINTS) {
      if (e.host === "sts.amazonaws.com") continue;
      expect(e.host.split(".")[1]).toBe(e.region);
    }
  });

  it("puts China and GovCloud hosts in their own partitions", () => {
    for (const e of STS_ENDPOINTS) {
      expect(e.partition === "aws-cn").toBe(e.host.endsWith(".cn"));
      expect(e.partition === "aws-us-gov").toBe(e.region.startsWith("us-gov-"));
    }
  });

  // It is an allowlist: nothing may add a host at run time.
  it("is frozen, rows included", () => {
    expect(Object.isFrozen(STS_ENDPOINTS)).toBe(true);
    for (const e of STS_ENDPOINTS) expect(Object.isFrozen(e)).toBe(true);
    expect(() => (STS_ENDPOINTS as StsEndpoint[]).push({ ...STS_ENDPOINTS[0]!, host: "evil.example" })).toThrow(TypeError);
    expect(lookupStsEndpoint("evil.example")).toBeUndefined();
  });
});
