import { MAX_EXPIRES_SECONDS, SIGNED_HEADERS, TOKEN_LIFETIME_MS } from "../protocol.ts";
import { GateError } from "../errors.ts";
import type { StsEndpoint } from "../sts-endpoints.ts";
import { bearerToken } from "./bearer.ts";
import { decodeBase64url, decodeUtf8, stripPrefix } from "./decode.ts";
import { parsePresignedUrl } from "./presigned-url.ts";
import { parseStrictQuery, type QueryParameters } from "./query.ts";

export { MAX_EXPIRES_SECONDS, TOKEN_LIFETIME_MS };
/** How far in the future X-Amz-Date may be, for callers whose clocks run fast. */
export const MAX_CLOCK_SKEW_MS = 60 * 1000;

/** Exactly what a token must sign (rule `signedHeadersExact`). */
export const REQUIRED_SIGNED_HEADERS = SIGNED_HEADERS;

/** A token that passed every local rule: everything the STS exchange needs, already checked. */
export interface ValidatedToken {
  /** The bearer token as sent, for hashing into a cache key. Never logged or echoed. */
  token: string;
  endpoint: StsEndpoint;
  accessKeyId: string;
  amzDate: string;
  credential: string;
  signedHeaders: string;
  signature: string;
  securityToken: string | undefined;
  expires: string | undefined;
  signedAt: number;
  expiresAt: number;
}

/**
 * The whole local validation, as one sequence of named rules (after aws-iam-authenticator's
 * `Verify`). Each throws a GateError with its own code; none makes a network call.
 */
export function validateAuthorization(authorization: string | null | undefined, now: number): ValidatedToken {
  return validateToken(bearerToken(authorization), now);
}

/** Every rule after `bearerToken`, for a token already taken from its header. */
export function validateToken(token: string, now: number, maxAgeMs: number = TOKEN_LIFETIME_MS): ValidatedToken {
  const url = parsePresignedUrl(decodeUtf8(decodeBase64url(stripPrefix(token))));
  const params = parseStrictQuery(url.rawQuery);
  const required = requireParameters(params);
  checkAction(required.Action);
  checkVersion(required.Version);
  checkAlgorithm(required["X-Amz-Algorithm"]);
  checkSignedHeaders(required["X-Amz-SignedHeaders"]);
  checkSignature(required["X-Amz-Signature"]);
  const signedAt = parseAmzDate(required["X-Amz-Date"]);
  const accessKeyId = checkCredentialScope(required["X-Amz-Credential"], required["X-Amz-Date"], url.endpoint);
  checkExpires(params["X-Amz-Expires"]);
  const expiresAt = checkLifetime(signedAt, now, maxAgeMs);
  return {
    token,
    endpoint: url.endpoint,
    accessKeyId,
    amzDate: required["X-Amz-Date"],
    credential: required["X-Amz-Credential"],
    signedHeaders: required["X-Amz-SignedHeaders"],
    signature: required["X-Amz-Signature"],
    securityToken: params["X-Amz-Security-Token"],
    expires: params["X-Amz-Expires"],
    signedAt,
    expiresAt,
  };
}

const REQUIRED = [
  "Action",
  "Version",
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
] as const;
type Required = Record<(typeof REQUIRED)[number], string>;

/** Rule `requiredParameters`. */
export function requireParameters(params: QueryParameters): Required {
  for (const name of REQUIRED) {
    if (params[name] === undefined) throw new GateError("parameter_missing", `The token lacks ${name}.`);
  }
  return params as Required;
}

/** Rule `actionIsGetCallerIdentity`: any other action's response could echo attacker data. */
export function checkAction(action: string): void {
  if (action !== "GetCallerIdentity") throw new GateError("action_invalid", "Action must be GetCallerIdentity.");
}

/** Rule `versionIs20110615`. */
export function checkVersion(version: string): void {
  if (version !== "2011-06-15") throw new GateError("version_invalid", "Version must be 2011-06-15.");
}

/** Rule `algorithmIsSigV4`. */
export function checkAlgorithm(algorithm: string): void {
  if (algorithm !== "AWS4-HMAC-SHA256") throw new GateError("algorithm_invalid", "X-Amz-Algorithm must be AWS4-HMAC-SHA256.");
}

/**
 * Rule `signedHeadersExact`: the audience header must be signed (it is what binds the token
 * to this gate), and nothing else may be, because the gate sends no other header.
 */
export function checkSignedHeaders(signedHeaders: string): void {
  if (signedHeaders !== REQUIRED_SIGNED_HEADERS) {
    throw new GateError("signed_headers_invalid", `X-Amz-SignedHeaders must be exactly ${REQUIRED_SIGNED_HEADERS}.`);
  }
}

/** Rule `signatureShape`. */
export function checkSignature(signature: string): void {
  if (!/^[0-9a-f]{64}$/.test(signature)) {
    throw new GateError("signature_malformed", "X-Amz-Signature must be 64 lowercase hex digits.");
  }
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Rule `amzDateShape`: a real calendar instant, not merely twelve digits. */
export function parseAmzDate(amzDate: string): number {
  const m = AMZ_DATE.exec(amzDate);
  if (m === null) throw new GateError("date_malformed", "X-Amz-Date must look like 20260102T030405Z.");
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(t);
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  ) {
    throw new GateError("date_malformed", "X-Amz-Date is not a real date and time.");
  }
  return t;
}

const CREDENTIAL = /^([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]{1,32})\/sts\/aws4_request$/;

/**
 * Rule `credentialScope`: `<key>/<yyyymmdd>/<region>/sts/aws4_request`, dated the same day as
 * X-Amz-Date and scoped to the region the endpoint table gives for the host.
 */
export function checkCredentialScope(credential: string, amzDate: string, endpoint: StsEndpoint): string {
  const m = CREDENTIAL.exec(credential);
  if (m === null) {
    throw new GateError("credential_malformed", "X-Amz-Credential must be <key>/<yyyymmdd>/<region>/sts/aws4_request.");
  }
  const [, accessKeyId, date, region] = m as unknown as [string, string, string, string];
  if (date !== amzDate.slice(0, 8)) {
    throw new GateError("credential_date_mismatch", "The credential scope's date must be X-Amz-Date's date.");
  }
  if (region !== endpoint.region) {
    throw new GateError("credential_region_mismatch", `Tokens for ${endpoint.host} are scoped to ${endpoint.region}.`);
  }
  return accessKeyId;
}

/** Rule `expiresRange`: absent, or a plain integer from 0 to 900 (no sign, no leading zeros). */
export function checkExpires(expires: string | undefined): void {
  if (expires === undefined) return;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(expires) || Number(expires) > MAX_EXPIRES_SECONDS) {
    throw new GateError("expires_invalid", `X-Amz-Expires must be an integer from 0 to ${MAX_EXPIRES_SECONDS}.`);
  }
}

/**
 * Rule `lifetime`: valid from X-Amz-Date (up to a minute early, for skewed clocks) until
 * X-Amz-Date + 15 minutes, which is what STS itself honours whatever X-Amz-Expires says, or
 * until X-Amz-Date + `maxAgeMs` when the gate is told a shorter lifetime (rule `tokenMaxAge`).
 * Returns the instant the token expires.
 */
export function checkLifetime(signedAt: number, now: number, maxAgeMs: number = TOKEN_LIFETIME_MS): number {
  if (signedAt > now + MAX_CLOCK_SKEW_MS) {
    throw new GateError("token_not_yet_valid", "X-Amz-Date is more than 60 seconds in the future.");
  }
  return checkAge(signedAt, now, maxAgeMs);
}

/** Rule `tokenMaxAge`: a token older than the limit is expired, however it would be resolved. */
export function checkAge(signedAt: number, now: number, maxAgeMs: number): number {
  const expiresAt = signedAt + Math.min(maxAgeMs, TOKEN_LIFETIME_MS);
  if (now >= expiresAt) throw new GateError("token_expired", `The token is more than ${ageText(maxAgeMs)} old.`);
  return expiresAt;
}

function ageText(maxAgeMs: number): string {
  const seconds = Math.floor(Math.min(maxAgeMs, TOKEN_LIFETIME_MS) / 1000);
  return seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? "" : "s"}` : `${seconds} seconds`;
}
