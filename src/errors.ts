/**
 * The gate's refusals without a framework: the rule modules (token, STS exchange, identity,
 * policy, verifier, edge) throw GateError, a plain Error with a stable `code`, as jose's errors
 * carry theirs. Only the HTTP edge (src/problem.ts, the middleware and the app) turns one into
 * a problem+json response.
 */

/**
 * Every way the gate can refuse a request, with its HTTP status and a short title.
 * The codes are part of the public interface (clients and dashboards key on them),
 * so they are never renamed; the README lists them.
 */
export const PROBLEMS = {
  // The Authorization header and the token's outer encoding.
  authorization_missing: { status: 401, title: "No bearer token" },
  authorization_malformed: { status: 401, title: "Authorization is not exactly 'Bearer <token>'" },
  token_missing: { status: 401, title: "Authorization: Bearer carries no token" },
  token_too_large: { status: 401, title: "Token is larger than 4 KiB" },
  token_prefix: { status: 401, title: "Token does not start with k8s-aws-v1." },
  token_encoding: { status: 401, title: "Token is not strict unpadded base64url" },
  token_not_utf8: { status: 401, title: "Token does not decode to UTF-8 text" },
  // The presigned URL inside the token.
  token_url_malformed: { status: 401, title: "Token URL is not a well-formed URL" },
  token_url_scheme: { status: 401, title: "Token URL is not https" },
  token_url_userinfo: { status: 401, title: "Token URL carries userinfo" },
  token_url_port: { status: 401, title: "Token URL carries a port" },
  token_url_fragment: { status: 401, title: "Token URL carries a fragment" },
  token_url_path: { status: 401, title: "Token URL path is not /" },
  sts_host_unknown: { status: 401, title: "Token URL host is not a known STS endpoint" },
  query_malformed: { status: 401, title: "Token query string is malformed" },
  query_duplicate_parameter: { status: 401, title: "Token query repeats a parameter" },
  query_unknown_parameter: { status: 401, title: "Token query has a parameter outside the SigV4 presign set" },
  parameter_missing: { status: 401, title: "Token query lacks a required parameter" },
  action_invalid: { status: 401, title: "Token is not for sts:GetCallerIdentity" },
  version_invalid: { status: 401, title: "Token names the wrong STS API version" },
  algorithm_invalid: { status: 401, title: "Token is not signed with AWS4-HMAC-SHA256" },
  signed_headers_invalid: { status: 401, title: "Token must sign exactly host;x-k8s-aws-id" },
  signature_malformed: { status: 401, title: "Token signature is not 64 lowercase hex digits" },
  credential_malformed: { status: 401, title: "Token credential scope is malformed" },
  credential_date_mismatch: { status: 401, title: "Token credential date differs from X-Amz-Date" },
  credential_region_mismatch: { status: 401, title: "Token credential region differs from the endpoint's" },
  date_malformed: { status: 401, title: "Token X-Amz-Date is malformed" },
  expires_invalid: { status: 401, title: "Token X-Amz-Expires is not an integer from 0 to 900" },
  token_expired: { status: 401, title: "Token has expired" },
  token_not_yet_valid: { status: 401, title: "Token is signed in the future" },
  // The STS exchange.
  sts_refused: { status: 401, title: "STS refused the token" },
  sts_throttled: { status: 503, title: "STS is throttling" },
  sts_unavailable: { status: 503, title: "STS is unavailable" },
  sts_unreachable: { status: 503, title: "STS could not be reached" },
  sts_timeout: { status: 503, title: "STS did not answer in time" },
  sts_redirect: { status: 503, title: "STS answered with a redirect" },
  sts_bad_response: { status: 503, title: "STS answered with something other than a GetCallerIdentity result" },
  sts_inconsistent_identity: { status: 503, title: "STS answered with an identity that does not agree with itself" },
  rate_limited: { status: 429, title: "Too many token verifications" },
  // Identity and policy.
  principal_unsupported: { status: 403, title: "Principal type is not supported" },
  principal_type_denied: { status: 403, title: "Principal type is not allowed by the policy" },
  policy_denied: { status: 403, title: "Principal is not allowed by the policy" },
  // Forwarding and configuration.
  path_outside_prefix: { status: 400, title: "Request path could resolve above the origin's path prefix" },
  method_override: { status: 400, title: "Request asks the origin to run another method" },
  caller_header_alias: { status: 400, title: "Request carries another spelling of an identity header" },
  origin_unreachable: { status: 502, title: "Origin could not be reached" },
  origin_timeout: { status: 504, title: "Origin did not answer in time" },
  origin_bad_response: { status: 502, title: "Origin answered with a status the gate does not pass on" },
  misconfigured: { status: 500, title: "The gate is misconfigured" },
  internal_error: { status: 500, title: "The gate failed unexpectedly" },
  not_found: { status: 404, title: "Not found" },
  no_app: { status: 404, title: "No app serves this host and path" },
  app_ambiguous: { status: 400, title: "Request path could be read as another app's" },
  // Forward-auth (/.well-known/sts-gate/verify): the original request, from the fronting proxy's headers.
  original_request_missing: { status: 400, title: "The fronting proxy did not say which request to decide on" },
  original_request_ambiguous: { status: 400, title: "Both forwarded-request header conventions are present and disagree" },
  // Revocation at the edge (src/revocation/).
  revoked: { status: 403, title: "Revoked at this gate" },
  revocations_unavailable: { status: 503, title: "The gate cannot read its revocation set" },
  not_admin: { status: 403, title: "Not an admin of this gate" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  revocation_not_found: { status: 404, title: "No such revocation" },
  body_too_large: { status: 413, title: "Body is too large" },
  body_not_json: { status: 400, title: "Body is not JSON" },
  body_invalid: { status: 400, title: "Body is not a JSON object" },
  unknown_field: { status: 400, title: "Body has an unknown field" },
  selector_missing: { status: 400, title: "No selector: give accessKeyId, principal or account" },
  selector_multiple: { status: 400, title: "More than one selector" },
  access_key_malformed: { status: 400, title: "accessKeyId is not an access key ID" },
  principal_malformed: { status: 400, title: "principal is not a principal ARN" },
  account_malformed: { status: 400, title: "account is not a 12-digit account ID" },
  reason_invalid: { status: 400, title: "reason is missing or invalid" },
  expires_at_malformed: { status: 400, title: "expiresAt is not an ISO 8601 instant" },
  expires_at_past: { status: 400, title: "expiresAt is in the past" },
} as const satisfies Record<string, { status: 400 | 401 | 403 | 404 | 405 | 413 | 429 | 500 | 502 | 503 | 504; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export class GateError extends Error {
  readonly code: ProblemCode;
  /** Written for a human; never token material or a secret: callers pass fixed or validated text. */
  readonly detail: string;
  readonly status: (typeof PROBLEMS)[ProblemCode]["status"];

  constructor(code: ProblemCode, detail?: string, options?: { cause?: unknown }) {
    const { status, title } = PROBLEMS[code];
    super(detail ?? title, { cause: options?.cause });
    this.name = "GateError";
    this.code = code;
    this.detail = detail ?? title;
    this.status = status;
  }
}
