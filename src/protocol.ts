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

/** Every principal type STS can answer with. */
export const PRINCIPAL_TYPES = ["user", "assumed-role", "role", "federated-user", "root"] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

/** RFC 9457 problem details, for the gate's refusals and the origin verifier's alike. */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export function problemType(code: string): string {
  return `urn:sts-gate:problem:${code}`;
}
