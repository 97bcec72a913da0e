import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

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
  origin_unreachable: { status: 502, title: "Origin could not be reached" },
  origin_timeout: { status: 504, title: "Origin did not answer in time" },
  misconfigured: { status: 500, title: "The gate is misconfigured" },
  internal_error: { status: 500, title: "The gate failed unexpectedly" },
  not_found: { status: 404, title: "Not found" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

/** How long a client should wait before retrying a 503, in seconds. */
const RETRY_AFTER_SECONDS: Partial<Record<ProblemCode, number>> = {
  rate_limited: 10,
  sts_throttled: 5,
  sts_unavailable: 2,
  sts_unreachable: 2,
  sts_timeout: 2,
  sts_redirect: 30,
  sts_bad_response: 30,
  sts_inconsistent_identity: 30,
};

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export function problemType(code: ProblemCode): string {
  return `urn:sts-gate:problem:${code}`;
}

/**
 * A refusal, as an HTTPException so Hono apps that mount the gate's middleware
 * can handle it like any other. `detail` is written for a human and must never
 * contain token material or a secret: callers pass fixed strings or values the
 * gate has already validated.
 */
export class GateProblem extends HTTPException {
  readonly code: ProblemCode;
  readonly detail: string;

  constructor(code: ProblemCode, detail?: string, options?: { cause?: unknown }) {
    const { status, title } = PROBLEMS[code];
    super(status, { message: detail ?? title, cause: options?.cause });
    this.name = "GateProblem";
    this.code = code;
    this.detail = detail ?? title;
  }

  override getResponse(): Response {
    return problemResponse(this.code, this.detail);
  }
}

export function problemResponse(code: ProblemCode, detail?: string): Response {
  const { status, title } = PROBLEMS[code];
  const headers = new Headers({ "content-type": PROBLEM_CONTENT_TYPE, "cache-control": "no-store" });
  if (status === 401) headers.set("www-authenticate", wwwAuthenticate(code));
  const retryAfter = RETRY_AFTER_SECONDS[code];
  if (retryAfter !== undefined) headers.set("retry-after", String(retryAfter));
  const body = { type: problemType(code), title, status, detail: detail ?? title, code };
  return new Response(JSON.stringify(body), { status, headers });
}

function wwwAuthenticate(code: ProblemCode): string {
  // RFC 6750 §3: a request with no credentials at all gets the bare challenge.
  if (code === "authorization_missing") return `Bearer realm="sts-gate"`;
  return `Bearer error="invalid_token", error_description="${code}"`;
}
