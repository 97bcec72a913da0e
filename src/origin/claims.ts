import { PRINCIPAL_TYPES } from "../protocol.ts";
/**
 * The wire contract between the gate and its origins: the header, the JWT type and the claims.
 * The gate's signer (`src/assertion/`) and the origin's verifier (`src/origin/`) both import it,
 * so the two cannot drift; so does `CALLER_HEADERS` in src/forward.ts. Its one import is the
 * protocol's list of principal types: it runs anywhere.
 */

/** The request header that carries the assertion from the gate to the origin. */
export const ASSERTION_HEADER = "X-Caller-Assertion";

/**
 * The JWT `typ` header (RFC 8725 §3.11, explicit typing): an assertion cannot be confused with
 * any other JWT the same key might ever sign, and no other JWT passes for an assertion.
 */
export const ASSERTION_TYP = "sts-gate-caller+jwt";

/** How long an assertion is valid after it is issued, in seconds. */
export const ASSERTION_LIFETIME_SECONDS = 60;

/** The algorithms the gate signs with and the verifier accepts by default. */
export const ASSERTION_ALGORITHMS = ["EdDSA", "ES256"] as const;
export type AssertionAlgorithm = (typeof ASSERTION_ALGORITHMS)[number];

export const CALLER_PRINCIPAL_TYPES = PRINCIPAL_TYPES;
export type CallerPrincipalType = (typeof CALLER_PRINCIPAL_TYPES)[number];

/** The claims of an assertion, as the gate writes them. */
export interface AssertionClaims {
  /** The gate (`ASSERTION_ISSUER`). */
  iss: string;
  /** The origin (`ASSERTION_AUDIENCE`). */
  aud: string;
  /** The canonical principal the policy matched, e.g. `arn:aws:iam::111122223333:role/deployer`. */
  sub: string;
  /** The ARN exactly as STS returned it. */
  arn: string;
  account: string;
  user_id: string;
  principal_type: CallerPrincipalType;
  /** An assumed-role session's role name (its IAM path is unknown). Absent for other principal types. */
  role?: string;
  /** An assumed-role session's session name: chosen by the caller, it identifies no one. */
  session?: string;
  /** An IAM Identity Center session only: its permission set. */
  permission_set?: string;
  /** An IAM Identity Center session only: the person, their Identity Center user name (AWS sets it). */
  user?: string;
  iat: number;
  exp: number;
  jti: string;
  /** The HTTP method of the request the assertion was issued for. */
  htm: string;
  /** The path and query of that request at the origin: see {@link requestTarget}. */
  htu: string;
}

/**
 * The `htu` of a request: its path and query exactly as the origin receives them, with the
 * `ORIGIN_URL` path prefix included. Scheme and host are left out: behind a tunnel or a load
 * balancer the origin often does not know the host the gate used.
 *
 * `url` may be absolute (`https://o.example/base/x?y=1`, as a Worker sees it) or the
 * request target of an HTTP/1.1 request line (`/base/x?y=1`, Node's `req.url`). A target that
 * starts with `//` is a path, not a host, and is kept as one.
 */
export function requestTarget(url: string | URL): string {
  const u = typeof url === "string" ? parseTarget(url) : url;
  return `${u.pathname}${u.search}`;
}

function parseTarget(url: string): URL {
  // Concatenation, not `new URL(url, base)`: relative resolution would read `//x/y` as host x.
  return url.startsWith("/") ? new URL(`http://origin.invalid${url}`) : new URL(url);
}
