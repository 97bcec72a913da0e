import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import {
  ASSERTION_ALGORITHMS,
  ASSERTION_HEADER,
  ASSERTION_LIFETIME_SECONDS,
  ASSERTION_TYP,
  CALLER_PRINCIPAL_TYPES,
  type CallerPrincipalType,
} from "./claims.ts";
import { isAmbiguousTarget, rawRequestTarget } from "./raw-target.ts";

/** The caller the gate vouched for, from a verified assertion. */
export interface VerifiedCaller {
  /** The ARN exactly as STS returned it (`arn:aws:sts::…:assumed-role/deployer/ci-run-42`). */
  arn: string;
  /** The canonical principal the gate's policy matched (`arn:aws:iam::…:role/deployer`). */
  principal: string;
  account: string;
  userId: string;
  principalType: CallerPrincipalType;
  /** An assumed-role session's role name (its IAM path is unknown). Absent for other principal types. */
  role?: string;
  /** An assumed-role session's session name. Chosen by the caller: it identifies no one. */
  session?: string;
  /** An IAM Identity Center session only: its permission set. */
  permissionSet?: string;
  /**
   * An IAM Identity Center session only: the person calling, their Identity Center user name
   * (usually an email address), which AWS sets as the session name. Absent for every other caller.
   */
  user?: string;
  /** The assertion's unique id, for logs (and for a replay cache, if the origin keeps one). */
  jti: string;
  issuedAt: Date;
  expiresAt: Date;
}

/**
 * Stable reasons for a refusal. Origins (and their dashboards) may key on them.
 * `assertion_jwks_unavailable` is the origin's own trouble (it could not get the keys), so the
 * middlewares answer it with 503, not 401.
 */
export const CALLER_VERIFICATION_CODES = {
  assertion_missing: { status: 401, title: "No caller assertion" },
  assertion_invalid: { status: 401, title: "Caller assertion is malformed or its signature does not verify" },
  assertion_key_unknown: { status: 401, title: "Caller assertion is signed with a key that is not published" },
  assertion_expired: { status: 401, title: "Caller assertion has expired" },
  assertion_not_yet_valid: { status: 401, title: "Caller assertion is issued in the future" },
  assertion_wrong_issuer: { status: 401, title: "Caller assertion is from another issuer" },
  assertion_wrong_audience: { status: 401, title: "Caller assertion is for another audience" },
  assertion_wrong_request: { status: 401, title: "Caller assertion was issued for another request" },
  assertion_jwks_unavailable: { status: 503, title: "The gate's public keys could not be obtained" },
} as const;

export type CallerVerificationCode = keyof typeof CALLER_VERIFICATION_CODES;

export class CallerVerificationError extends Error {
  readonly code: CallerVerificationCode;
  /** 401, or 503 for `assertion_jwks_unavailable`. */
  readonly status: 401 | 503;

  constructor(code: CallerVerificationCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? CALLER_VERIFICATION_CODES[code].title, options);
    this.name = "CallerVerificationError";
    this.code = code;
    this.status = CALLER_VERIFICATION_CODES[code].status;
  }
}

/** Where the gate's public keys come from. */
export type CallerKeySource =
  /** The gate's JWKS URL (`https://gate.example.com/.well-known/jwks.json`): `createRemoteJWKSet`. */
  | string
  | URL
  /** A static key set (`{ keys: [...] }`), e.g. from configuration: `createLocalJWKSet`. */
  | JSONWebKeySet
  /** A key resolver you built yourself, e.g. `createRemoteJWKSet` with your own options. */
  | JWTVerifyGetKey;

export interface VerifyCallerOptions {
  /** The gate's public keys. */
  jwks: CallerKeySource;
  /** The gate's `ASSERTION_ISSUER` (default there: `urn:sts-gate:<AUDIENCE>`). */
  issuer: string;
  /** This origin, as the gate's `ASSERTION_AUDIENCE` names it (default there: ORIGIN_URL's origin). */
  audience: string;
  /** Allowed clock difference between gate and origin, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** The longest an assertion may live after its `iat`, in seconds (before tolerance). Default 60, the gate's lifetime. */
  maxAgeSeconds?: number;
  /** Accepted algorithms. Default `["EdDSA", "ES256"]`. */
  algorithms?: readonly string[];
  /** The current time in epoch milliseconds. For tests. */
  now?: () => number;
}

/** What `verifyCaller` needs of a request: a `Request` has all of it. */
export interface VerifiableRequest {
  method: string;
  /** Absolute (`https://o.example/x?y`) or a request target (`/x?y`, as Node's `req.url`). */
  url: string;
  headers: { get(name: string): string | null };
}

/**
 * Verifies the `X-Caller-Assertion` of `request`: signature (a key from `options.jwks`),
 * `typ`, `iss`, `aud`, `iat`/`exp` within the clock tolerance, and `htm`/`htu` against the
 * request's own method, path and query. Returns the caller, or throws `CallerVerificationError`.
 */
export async function verifyCaller(request: VerifiableRequest, options: VerifyCallerOptions): Promise<VerifiedCaller> {
  checkOptions(options);
  const keys = keyResolver(options.jwks);
  const assertion = request.headers.get(ASSERTION_HEADER);
  if (assertion === null || assertion === "") throw new CallerVerificationError("assertion_missing");

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, keys, {
      algorithms: [...(options.algorithms ?? ASSERTION_ALGORITHMS)],
      typ: ASSERTION_TYP,
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSeconds ?? 30,
      maxTokenAge: options.maxAgeSeconds ?? ASSERTION_LIFETIME_SECONDS,
      requiredClaims: ["sub", "exp", "iat", "jti", "arn", "account", "user_id", "principal_type", "htm", "htu"],
      currentDate: options.now ? new Date(options.now()) : undefined,
    }));
  } catch (error) {
    throw classify(error);
  }

  const caller = callerFrom(payload);
  if (payload.htm !== request.method) {
    throw new CallerVerificationError("assertion_wrong_request", `The assertion was issued for a ${String(payload.htm)} request, not ${request.method}.`);
  }
  const target = rawRequestTarget(request.url);
  if (target === undefined) throw new CallerVerificationError("assertion_wrong_request", "The request URL cannot be parsed.");
  if (isAmbiguousTarget(target)) {
    throw new CallerVerificationError("assertion_wrong_request", "The request target has a dot segment or a backslash, which the gate never sends.");
  }
  if (payload.htu !== target) {
    throw new CallerVerificationError("assertion_wrong_request", "The assertion was issued for another path or query.");
  }
  return caller;
}

/** A verifier bound to its options: `createCallerVerifier(options)(request)`. */
export function createCallerVerifier(options: VerifyCallerOptions): (request: VerifiableRequest) => Promise<VerifiedCaller> {
  checkOptions(options);
  keyResolver(options.jwks); // builds (and caches) the key set now, so configuration errors surface early
  return (request) => verifyCaller(request, options);
}

/** Fails closed on a missing issuer or audience: jose would silently skip the check. */
function checkOptions(options: VerifyCallerOptions): void {
  if (typeof options.issuer !== "string" || options.issuer === "") throw new TypeError("verifyCaller: options.issuer must be a non-empty string");
  if (typeof options.audience !== "string" || options.audience === "") throw new TypeError("verifyCaller: options.audience must be a non-empty string");
  if (options.jwks === undefined || options.jwks === null) throw new TypeError("verifyCaller: options.jwks is required");
}

function callerFrom(p: JWTPayload): VerifiedCaller {
  const s = (name: string): string => {
    const v = p[name];
    if (typeof v !== "string" || v === "") throw new CallerVerificationError("assertion_invalid", `The "${name}" claim is not a non-empty string.`);
    return v;
  };
  const principalType = s("principal_type");
  if (!(CALLER_PRINCIPAL_TYPES as readonly string[]).includes(principalType)) {
    throw new CallerVerificationError("assertion_invalid", "The principal_type claim is not a known principal type.");
  }
  const account = s("account");
  if (!/^\d{12}$/.test(account)) throw new CallerVerificationError("assertion_invalid", "The account claim is not a 12-digit account ID.");
  s("htm");
  s("htu");
  // Optional claims: absent, or a non-empty string. A user without a permission set is no
  // Identity Center session, so such an assertion is refused rather than half believed.
  const optional = (name: string): string | undefined => (p[name] === undefined ? undefined : s(name));
  const role = optional("role");
  const session = optional("session");
  const permissionSet = optional("permission_set");
  const user = optional("user");
  if ((user !== undefined || permissionSet !== undefined) && (permissionSet === undefined || user === undefined || role === undefined || session !== user)) {
    throw new CallerVerificationError("assertion_invalid", "The permission_set and user claims are not those of an Identity Center session.");
  }
  return {
    arn: s("arn"),
    principal: s("sub"),
    account,
    userId: s("user_id"),
    principalType: principalType as CallerPrincipalType,
    ...(role !== undefined && { role }),
    ...(session !== undefined && { session }),
    ...(permissionSet !== undefined && { permissionSet }),
    ...(user !== undefined && { user }),
    jti: s("jti"),
    // jose has checked that iat and exp are numbers.
    issuedAt: new Date((p.iat as number) * 1000),
    expiresAt: new Date((p.exp as number) * 1000),
  };
}

function classify(error: unknown): CallerVerificationError {
  if (error instanceof CallerVerificationError) return error;
  if (error instanceof errors.JWTExpired) return new CallerVerificationError("assertion_expired", undefined, { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "check_failed") {
      if (error.claim === "iss") return new CallerVerificationError("assertion_wrong_issuer", undefined, { cause: error });
      if (error.claim === "aud") return new CallerVerificationError("assertion_wrong_audience", undefined, { cause: error });
      if (error.claim === "iat" || error.claim === "nbf") return new CallerVerificationError("assertion_not_yet_valid", undefined, { cause: error });
    }
    return new CallerVerificationError("assertion_invalid", `The assertion's claims are invalid (${error.claim}).`, { cause: error });
  }
  if (error instanceof errors.JOSEError) return new CallerVerificationError("assertion_invalid", undefined, { cause: error });
  // Not from verification (a bad option, a bug): not the caller's fault, so not a 401.
  if (error instanceof Error) throw error;
  return new CallerVerificationError("assertion_invalid", undefined, { cause: error });
}

// Key sets hold jose's caches (imported keys; for a URL, the fetched set and its refresh
// timers), so each source gets one for the life of the process, however `options` is passed.
const byObject = new WeakMap<object, JWTVerifyGetKey>();
const byUrl = new Map<string, JWTVerifyGetKey>();

function keyResolver(source: CallerKeySource): JWTVerifyGetKey {
  let resolver: JWTVerifyGetKey | undefined;
  if (typeof source === "string" || source instanceof URL) {
    const url = new URL(source);
    resolver = byUrl.get(url.href);
    if (resolver === undefined) {
      resolver = guarded(createRemoteJWKSet(url));
      byUrl.set(url.href, resolver);
    }
    return resolver;
  }
  resolver = byObject.get(source);
  if (resolver === undefined) {
    resolver = guarded(typeof source === "function" ? source : createLocalJWKSet(source));
    byObject.set(source, resolver);
  }
  return resolver;
}

/** Sorts key-lookup failures: an unknown key is the assertion's problem; a missing key set is ours. */
function guarded(resolve: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await resolve(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) {
        throw new CallerVerificationError("assertion_key_unknown", "No published key matches the assertion's kid and alg.", { cause: error });
      }
      if (error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
        throw new CallerVerificationError("assertion_invalid", undefined, { cause: error });
      }
      throw new CallerVerificationError("assertion_jwks_unavailable", "The gate's key set could not be fetched or read.", { cause: error });
    }
  };
}
