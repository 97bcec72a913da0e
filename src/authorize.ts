/**
 * Verify, then decide: the one verifier's answer put to the policy, with the request's decision
 * record filled in as it goes. Framework-free, so the `stsAuth` middleware and the gate's own
 * request path (src/gate/) run the same steps.
 */
import { denialDetail } from "./denial.ts";
import { GateError } from "./errors.ts";
import type { CallerIdentity } from "./identity.ts";
import type { Decision } from "./observe/decision.ts";
import type { Grants, Policy, PolicyDecision } from "./policy/index.ts";
import type { Resolved } from "./verify/isolate-cache.ts";
import type { Verifier, VerifyContext } from "./verify/verifier.ts";

export interface Caller extends CallerIdentity {
  /** The policy rule that let the caller in. */
  rule: string;
  cache: Resolved["cache"];
  /** The access key that signed the token, as CloudTrail's userIdentity.accessKeyId shows it. */
  accessKeyId: string;
}

/** The request as the policy sees it, and what the verifier needs from it. */
export interface AuthorizeRequest extends Omit<VerifyContext, "trace"> {
  authorization: string | null | undefined;
  method: string;
  /** The raw, still-encoded path: the policy's globs match it. */
  path: string;
  /** What grants access after the guards: the policy's rules (default) or its `admins`. */
  grants?: Grants;
}

/** The caller, or the GateError of the first rule that refused (recorded in `decision` either way). */
export async function authorize(verifier: Verifier, policy: Policy, request: AuthorizeRequest, decision: Decision): Promise<Caller> {
  const trace: NonNullable<VerifyContext["trace"]> = {};
  let resolved: Resolved;
  try {
    resolved = await verifier.verify(request.authorization, { clientKey: request.clientKey, waitUntil: request.waitUntil, trace });
  } finally {
    // A refusal after the local rules still names the key, or the identity, in the line.
    if (trace.resolved) decision.identified(trace.resolved);
    else if (trace.accessKeyId !== undefined) decision.keyed(trace.accessKeyId);
  }
  const { identity } = resolved;
  const facts = { method: request.method, path: request.path };
  const verdict = request.grants === "admins" ? decideAdmin(policy, identity) : policy.decide(identity, facts);
  if (!verdict.allowed) {
    decision.reason(verdict.reason);
    throw new GateError(verdict.code, denialDetail(identity, facts));
  }
  decision.allow(verdict.rule, verdict.pattern);
  return { ...identity, rule: verdict.rule, cache: resolved.cache, accessKeyId: resolved.accessKeyId };
}

/** A compiled policy of this package knows its admins; any other policy has none. */
function decideAdmin(policy: Policy, identity: CallerIdentity): PolicyDecision {
  const p = policy as Policy & { decideAdmin?: (identity: CallerIdentity) => PolicyDecision };
  return typeof p.decideAdmin === "function" ? p.decideAdmin(identity) : { allowed: false, code: "not_admin", reason: "the policy has no admins" };
}
