/**
 * sts-gate/hono: verify AWS callers inside your own Hono app, with exactly the core the gate
 * uses (validation, STS exchange, cache, policy). See README.md, "Verify callers inside your
 * own Hono app".
 */
export { stsAuth, type Caller, type StsAuthOptions, type StsAuthVariables } from "./middleware.ts";
export { IdentityCache, DEFAULT_MEMORY_ENTRIES } from "./verify/isolate-cache.ts";
export { createVerifier, type Verifier, type VerifierOptions, type VerifyContext } from "./verify/verifier.ts";
export { GateProblem, PROBLEMS, problemResponse, type ProblemCode } from "./problem.ts";
export type { PolicyDocument, Policy } from "./policy/index.ts";
export type { CallerIdentity, PrincipalType } from "./identity.ts";
