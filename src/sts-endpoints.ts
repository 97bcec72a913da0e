/**
 * The AWS STS hosts a presigned GetCallerIdentity URL may name, and the SigV4
 * region each one signs for. A token pointing anywhere else is refused, so this
 * list is the gate's trust boundary: a host missing here locks real callers out,
 * a host wrongly here lets a caller choose who vouches for them.
 *
 * Sources, read 2026-11-22:
 * - Regions, FIPS hosts, GovCloud and China: the `sts` entries of the AWS SDK
 *   endpoints model (the `endpoints.json` that botocore also ships), from the copy
 *   in aws-sdk-java-v2 at
 *   core/regions/src/main/resources/software/amazon/awssdk/regions/internal/region/endpoints.json
 *   (davidh44/aws-sdk-java-v2@75caf6aaceea65ad55cb4fc3ad9ce63030395621). Its region
 *   lists match botocore's botocore/data/partitions.json
 *   (boto/botocore@c870f2c199fe36e2bed3afa8f8b5282a739cb711).
 * - Dual-stack hosts: IAM User Guide, "Dual-stack endpoint support"
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_dual-stack_endpoint_support.html),
 *   which names them per partition. endpoints.json does not list them for STS.
 *   botocore's botocore/data/sts/2011-06-15/endpoint-rule-set-1.json
 *   (boto/botocore@cd9207757d459bba9c524475b601e59f55760a3a) builds the same names.
 * - Not included: the ISO partitions, which have no public hostnames, and
 *   aws-eusc, which StsPartition does not cover.
 *
 * When AWS opens a Region, add it to the right list below; nothing else changes.
 */

export type StsPartition = "aws" | "aws-us-gov" | "aws-cn";

export interface StsEndpoint {
  /** lowercase host name, no port */
  readonly host: string;
  /** the SigV4 signing region that the credential scope must name */
  readonly region: string;
  readonly partition: StsPartition;
  readonly fips: boolean;
  readonly dualStack: boolean;
}

const AWS_REGIONS = [
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-6",
  "ap-southeast-7",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-north-1",
  "eu-south-1",
  "eu-south-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "il-central-1",
  "me-central-1",
  "me-south-1",
  "mx-central-1",
  "sa-east-1",
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
] as const;

// The endpoints model gives STS an sts-fips host only in these four. The IAM guide
// says dual-stack FIPS also covers Canada, but the model has no Canadian sts-fips
// host at all, so Canada stays out until AWS lists one.
const AWS_FIPS_REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2"] as const;

const GOV_REGIONS = ["us-gov-east-1", "us-gov-west-1"] as const;

const CN_REGIONS = ["cn-north-1", "cn-northwest-1"] as const;

const PLAIN = { fips: false, dualStack: false } as const;
const FIPS = { fips: true, dualStack: false } as const;
const DUAL_STACK = { fips: false, dualStack: true } as const;
const FIPS_DUAL_STACK = { fips: true, dualStack: true } as const;

function regional(
  partition: StsPartition,
  regions: readonly string[],
  hostFor: (region: string) => string,
  flags: { readonly fips: boolean; readonly dualStack: boolean },
): StsEndpoint[] {
  return regions.map((region) => Object.freeze({ host: hostFor(region), region, partition, ...flags }));
}

// Frozen because this is an allowlist: code elsewhere must not be able to add a host at run time.
export const STS_ENDPOINTS: readonly StsEndpoint[] = Object.freeze([
  // The legacy global host. It is served in us-east-1, so tokens for it are scoped
  // to us-east-1 whatever Region the caller is in. It has no dual-stack twin.
  Object.freeze({ host: "sts.amazonaws.com", region: "us-east-1", partition: "aws", ...PLAIN } as const),
  ...regional("aws", AWS_REGIONS, (r) => `sts.${r}.amazonaws.com`, PLAIN),
  ...regional("aws", AWS_REGIONS, (r) => `sts.${r}.api.aws`, DUAL_STACK),
  ...regional("aws", AWS_FIPS_REGIONS, (r) => `sts-fips.${r}.amazonaws.com`, FIPS),
  ...regional("aws", AWS_FIPS_REGIONS, (r) => `sts-fips.${r}.api.aws`, FIPS_DUAL_STACK),
  // GovCloud has no sts-fips host: the endpoints model tags the ordinary host as
  // the FIPS one. The IAM guide lists only a "regular" dual-stack host there, so
  // that one is not claimed to be FIPS.
  ...regional("aws-us-gov", GOV_REGIONS, (r) => `sts.${r}.amazonaws.com`, FIPS),
  ...regional("aws-us-gov", GOV_REGIONS, (r) => `sts.${r}.api.aws`, DUAL_STACK),
  // China has its own DNS suffixes, no global host and no FIPS hosts.
  ...regional("aws-cn", CN_REGIONS, (r) => `sts.${r}.amazonaws.com.cn`, PLAIN),
  ...regional("aws-cn", CN_REGIONS, (r) => `sts.${r}.api.amazonwebservices.com.cn`, DUAL_STACK),
]);

const BY_HOST: ReadonlyMap<string, StsEndpoint> = (() => {
  const byHost = new Map<string, StsEndpoint>();
  for (const endpoint of STS_ENDPOINTS) {
    // Lookups are case-sensitive, so a row with an uppercase letter could never match.
    // A duplicate could carry a different signing region. Either is a typo in the
    // table, and failing at load beats quietly admitting or refusing tokens.
    if (endpoint.host !== endpoint.host.toLowerCase()) {
      throw new Error(`sts-endpoints: host is not lowercase: ${endpoint.host}`);
    }
    if (byHost.has(endpoint.host)) {
      throw new Error(`sts-endpoints: duplicate host: ${endpoint.host}`);
    }
    byHost.set(endpoint.host, endpoint);
  }
  return byHost;
})();

/** Exact, case-sensitive lookup. Returns undefined for anything not in the table. */
export function lookupStsEndpoint(host: string): StsEndpoint | undefined {
  // No normalising: the caller passes the host exactly as the token spells it, and
  // anything other than the canonical lowercase form is refused, not repaired.
  return BY_HOST.get(host);
}
