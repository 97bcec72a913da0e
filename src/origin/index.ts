/**
 * The verifier for origins behind sts-gate: WebCrypto and jose only, so it runs on Node ≥ 20,
 * Workers, Deno and Bun. Middlewares: `./node` (Express / Node http) and `./hono`.
 */
export {
  CALLER_VERIFICATION_CODES,
  CallerVerificationError,
  createCallerVerifier,
  verifyCaller,
  type CallerKeySource,
  type CallerVerificationCode,
  type VerifiableRequest,
  type VerifiedCaller,
  type VerifyCallerOptions,
} from "./verify.ts";
export { ASSERTION_HEADER, ASSERTION_LIFETIME_SECONDS, ASSERTION_TYP, requestTarget, type AssertionClaims, type CallerPrincipalType } from "./claims.ts";
