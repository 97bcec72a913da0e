/**
 * The wire protocol, in one place: what a token is, what it signs, how long it lives, and how
 * refusals are named. The gate, the client and the origin verifier import these, so no copy can
 * drift. Framework-free and runtime-neutral.
 */

/** A token is this prefix and the unpadded base64url of a presigned GetCallerIdentity URL. */
export const TOKEN_PREFIX = "k8s-aws-v1.";
/** The signed header that binds a token to one gate: its AUDIENCE. */
export const AUDIENCE_HEADER = "x-k8s-aws-id";
/** Exactly what a token signs. */
export const SIGNED_HEADERS = "host;x-k8s-aws-id";
/** STS honours a presigned GetCallerIdentity URL for 15 minutes after X-Amz-Date. */
export const TOKEN_LIFETIME_MS = 15 * 60 * 1000;
/** The largest X-Amz-Expires a token may carry (STS itself ignores it for GetCallerIdentity). */
export const MAX_EXPIRES_SECONDS = 900;

/**
 * botocore's parameter order for a presigned GetCallerIdentity URL (`aws eks get-token`): the
 * request's own parameters, the presign parameters, the session token, the signature last. The
 * client writes it; the gate rebuilds the upstream URL in it.
 */
export const PARAMETER_ORDER = [
  "Action",
  "Version",
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Security-Token",
  "X-Amz-Signature",
] as const;

/** RFC 3986 percent-encoding, as SigV4 canonicalises: `encodeURIComponent` plus `!'()*`. */
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The signed parts of a presigned GetCallerIdentity URL; the session token only for temporary credentials. */
export interface PresignedParameters {
  credential: string;
  amzDate: string;
  /** Absent in a token that carries no X-Amz-Expires (STS honours 15 minutes either way). */
  expires: string | undefined;
  signedHeaders: string;
  securityToken: string | undefined;
  signature: string;
}

/**
 * The query of a presigned GetCallerIdentity URL, each value RFC 3986-encoded, in
 * PARAMETER_ORDER: the client writes its tokens with it, and the gate rebuilds the upstream URL
 * with it from the validated values (never from the token's own text).
 */
export function presignedQuery(p: PresignedParameters): string {
  const values: Record<(typeof PARAMETER_ORDER)[number], string | undefined> = {
    Action: "GetCallerIdentity",
    Version: "2011-06-15",
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": p.credential,
    "X-Amz-Date": p.amzDate,
    "X-Amz-Expires": p.expires,
    "X-Amz-SignedHeaders": p.signedHeaders,
    "X-Amz-Security-Token": p.securityToken,
    "X-Amz-Signature": p.signature,
  };
  return PARAMETER_ORDER.flatMap((name) => (values[name] === undefined ? [] : [`${name}=${encodeRfc3986(values[name])}`])).join("&");
}

/** An audience (the EKS cluster name a token is minted for): 1 to 256 visible ASCII characters. */
export const AUDIENCE_PATTERN = /^[\x21-\x7e]{1,256}$/;

/** Every principal type STS can answer with. */
export const PRINCIPAL_TYPES = ["user", "assumed-role", "role", "federated-user", "root"] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

/** RFC 9457 problem details, for the gate's refusals and the origin verifier's alike. */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export function problemType(code: string): string {
  return `urn:sts-gate:problem:${code}`;
}
