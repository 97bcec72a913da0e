/**
 * The policy: its schema (schema.ts), the matchers (match.ts, on src/wildcard.ts), the decision
 * (evaluate.ts) and the tooling behind `npm run policy` (explain.ts, reach.ts).
 */
export * from "./schema.ts";
export * from "./match.ts";
export * from "./evaluate.ts";
export * from "./explain.ts";
export { whyAdmitsNoOne } from "./reach.ts";
export { compileEntry, compileSelector, type CompiledEntry } from "./selector.ts";
export { wildcardMatch } from "../wildcard.ts";
