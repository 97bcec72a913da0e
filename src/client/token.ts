import { AUDIENCE_HEADER, AUDIENCE_PATTERN, presignedQuery, SIGNED_HEADERS, TOKEN_LIFETIME_MS, TOKEN_PREFIX } from "../protocol.ts";
import { AwsV4Signer } from "aws4fetch";
import { lookupStsEndpoint, type StsEndpoint } from "../sts-endpoints.ts";

/**
 * The caller's side of sts-gate: mints the bearer token `aws eks get-token` makes, with
 * aws4fetch's Web Crypto SigV4 signer. No Node-only imports: this module runs in Workers,
 * browsers, Node, Deno and Bun.
 */

/** AWS credentials, as the AWS SDKs' credential providers return them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working; tokens signed with them stop working too. */
  expiration?: Date;
}

export interface CreateTokenOptions {
  credentials: AwsCredentials;
  /** The gate's audience (its `AUDIENCE`), signed into the token as the `x-k8s-aws-id` header. */
  audience: string;
  /**
   * The STS Region to sign for; the token names `sts.<region>.amazonaws.com`
   * (`.amazonaws.com.cn` in China). Default `us-east-1`. `aws-global` means `global: true`.
   */
  region?: string;
  /** Use the legacy global endpoint `sts.amazonaws.com` (signed for us-east-1). */
  global?: boolean;
  /** The clock, epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

export interface GateToken {
  /** `k8s-aws-v1.` + unpadded base64url of the presigned URL: send as `Authorization: Bearer <token>`. */
  token: string;
  /**
   * When to stop using the token: signing time + 14 minutes, like `aws eks get-token`'s
   * `expirationTimestamp` (STS and the gate honour it for 15 minutes; the minute in between
   * absorbs clock skew and time in flight), or the credentials' own `expiration` if that is earlier.
   */
  expiresAt: Date;
}

export type ClientErrorCode =
  | "audience_invalid"
  | "region_invalid"
  | "credentials_invalid"
  | "credentials_expired"
  | "options_invalid"
  | "clock";

/** Thrown for bad options or unusable credentials; `code` is stable, `message` is one line. */
export class StsGateClientError extends Error {
  readonly code: ClientErrorCode;
  constructor(code: ClientErrorCode, message: string) {
    super(message);
    this.name = "StsGateClientError";
    this.code = code;
  }
}

export { TOKEN_LIFETIME_MS, TOKEN_PREFIX };
/** `aws eks get-token` reports an expiry one minute before STS's. */
export const EXPIRY_MARGIN_MS = 60 * 1000;
/** What `aws eks get-token` signs with; STS ignores it for GetCallerIdentity, the gate requires ≤ 900. */
const EXPIRES_SECONDS = "60";
const GLOBAL_HOST = "sts.amazonaws.com";

/**
 * Resolves the STS endpoint a token will name, from the same table the gate checks tokens
 * against, so a token the client makes is never refused for its host.
 */
export function resolveStsEndpoint(region: string | undefined, global: boolean | undefined): StsEndpoint {
  const r = region ?? "us-east-1";
  if (global || r === "aws-global") {
    const regional = regionalEndpoint(r);
    if (regional !== undefined && regional.partition !== "aws") {
      throw new StsGateClientError(
        "region_invalid",
        `The global STS endpoint is in the aws partition only; ${r} is in ${regional.partition}.`,
      );
    }
    return lookupStsEndpoint(GLOBAL_HOST)!;
  }
  const endpoint = regionalEndpoint(r);
  if (endpoint === undefined) {
    throw new StsGateClientError("region_invalid", `Unknown region ${JSON.stringify(r)}: no STS endpoint is known for it.`);
  }
  return endpoint;
}

function regionalEndpoint(region: string): StsEndpoint | undefined {
  if (!/^[a-z0-9-]{1,32}$/.test(region)) return undefined;
  const host = region.startsWith("cn-") ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
  return lookupStsEndpoint(host);
}

/** The gate's own rule for AUDIENCE: 1–256 visible ASCII characters. */
export function checkAudience(audience: unknown): string {
  if (typeof audience !== "string" || !AUDIENCE_PATTERN.test(audience)) {
    throw new StsGateClientError("audience_invalid", "The audience must be 1 to 256 visible ASCII characters.");
  }
  return audience;
}

function checkCredentials(credentials: AwsCredentials | undefined, now: number): AwsCredentials {
  if (credentials === null || typeof credentials !== "object") {
    throw new StsGateClientError("credentials_invalid", "No AWS credentials were given.");
  }
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = credentials;
  // The gate's credential-scope rule: an access key ID is 16-128 uppercase letters and digits.
  if (typeof accessKeyId !== "string" || !/^[A-Z0-9]{16,128}$/.test(accessKeyId)) {
    throw new StsGateClientError("credentials_invalid", "The access key ID must be 16 to 128 uppercase letters and digits.");
  }
  if (typeof secretAccessKey !== "string" || secretAccessKey === "") {
    throw new StsGateClientError("credentials_invalid", "The secret access key is missing.");
  }
  if (sessionToken !== undefined && sessionToken !== null && (typeof sessionToken !== "string" || sessionToken === "")) {
    throw new StsGateClientError("credentials_invalid", "The session token, when given, must be a non-empty string.");
  }
  if (expiration instanceof Date && expiration.getTime() <= now) {
    throw new StsGateClientError("credentials_expired", "The AWS credentials have expired.");
  }
  return credentials;
}

/**
 * Mints a bearer token for a gate with this audience: a presigned `sts:GetCallerIdentity`
 * URL, byte-for-byte the format `aws eks get-token` writes (same parameters in the same
 * order, RFC 3986 encoding, `X-Amz-Expires=60`, unpadded base64url). Signing is local; no
 * request is made.
 */
export async function createToken(options: CreateTokenOptions): Promise<GateToken> {
  const now = (options.now ?? Date.now)();
  if (!Number.isFinite(now)) throw new StsGateClientError("clock", "The clock did not return a number of milliseconds.");
  const audience = checkAudience(options.audience);
  const endpoint = resolveStsEndpoint(options.region, options.global);
  const credentials = checkCredentials(options.credentials, now);
  const sessionToken = credentials.sessionToken || undefined;

  const signedAt = Math.floor(now / 1000) * 1000;
  const amzDate = new Date(signedAt).toISOString().replace(/[:-]|\.\d{3}/g, "");
  const signer = new AwsV4Signer({
    method: "GET",
    url: `https://${endpoint.host}/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=${EXPIRES_SECONDS}`,
    headers: { [AUDIENCE_HEADER]: audience },
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken,
    service: "sts",
    region: endpoint.region,
    signQuery: true,
    datetime: amzDate,
  });
  const signed = (await signer.sign()).url.searchParams;
  const credential = `${credentials.accessKeyId}/${amzDate.slice(0, 8)}/${endpoint.region}/sts/aws4_request`;
  // What aws4fetch signed must be exactly what we write out; the URL is rebuilt below only to
  // put the parameters in botocore's order.
  if (
    signed.get("X-Amz-Credential") !== credential ||
    signed.get("X-Amz-SignedHeaders") !== SIGNED_HEADERS ||
    signed.get("X-Amz-Date") !== amzDate ||
    signed.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256"
  ) {
    throw new Error("sts-gate client: the signer produced unexpected parameters");
  }
  const signature = signed.get("X-Amz-Signature");
  if (signature === null || !/^[0-9a-f]{64}$/.test(signature)) {
    throw new Error("sts-gate client: the signer produced no signature");
  }

  // botocore's order (PARAMETER_ORDER), so the token is byte for byte what the CLI makes.
  const query = presignedQuery({ credential, amzDate, expires: EXPIRES_SECONDS, signedHeaders: SIGNED_HEADERS, securityToken: sessionToken, signature });
  const url = `https://${endpoint.host}/?${query}`;

  let expiresAt = signedAt + TOKEN_LIFETIME_MS - EXPIRY_MARGIN_MS;
  if (credentials.expiration instanceof Date) expiresAt = Math.min(expiresAt, credentials.expiration.getTime());
  return { token: TOKEN_PREFIX + base64url(url), expiresAt: new Date(expiresAt) };
}

/** SigV4's URI encoding: everything but unreserved characters, uppercase hex. */

/** Unpadded base64url of an ASCII string (the URL is ASCII after encoding). */
function base64url(ascii: string): string {
  return btoa(ascii).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
