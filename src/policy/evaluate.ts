import type { CallerIdentity } from "../identity.ts";
import type { PrincipalType } from "../protocol.ts";
import { compilePathGlob, policyPath } from "./match.ts";
import { compileEntry, type CompiledEntry } from "./selector.ts";
import { DEFAULT_PRINCIPAL_TYPES, SHORTHAND_RULE, type PolicyDocument } from "./schema.ts";

// ---------------------------------------------------------------------------------------------
// Decisions.

export type PolicyDecision =
  /** `rule` is the name of the rule that allowed; `pattern` the principal pattern in it that matched. */
  | { allowed: true; rule: string; pattern?: string }
  | { allowed: false; code: "principal_type_denied" | "policy_denied" | "not_admin"; reason: string };

/** What a decision may depend on besides the caller. */
export interface RequestFacts {
  method: string;
  /** The URL's pathname, as the URL parser leaves it (dot segments resolved, escapes kept). */
  path: string;
}

export interface Policy {
  decide(identity: CallerIdentity, request: RequestFacts): PolicyDecision;
}

type CompiledPattern = CompiledEntry;

interface CompiledRule {
  name: string;
  methods: ReadonlySet<string> | undefined;
  paths: ReadonlyArray<{ glob: string; match: (path: string) => boolean }> | undefined;
  allow: readonly CompiledPattern[];
}

export interface CompiledPolicy extends Policy {
  /** The decision, with one line per step taken: what `npm run policy -- explain` prints. */
  trace(identity: CallerIdentity, request: RequestFacts, grants?: Grants): { decision: PolicyDecision; steps: string[] };
  /** Whether the policy names admins, i.e. whether the revocation API is on. */
  readonly hasAdmins: boolean;
  /** Rule `adminsOnly`: the guards, then `admins` instead of the rules. */
  decideAdmin(identity: CallerIdentity): PolicyDecision;
}

/** What grants access once the guards pass: the rules (every request) or `admins` (the gate's own API). */
export type Grants = "rules" | "admins";

/** The rule name an admin decision is logged with. */
export const ADMINS_RULE = "admins";

/**
 * Compiles a validated policy document. Evaluated on every request; decisions are never cached.
 *
 * Order: principal type, accounts, deny patterns, unique-ID pin, then the rules in order; the
 * first rule whose methods, paths and principal patterns all match allows.
 */
export function compilePolicy(doc: PolicyDocument): CompiledPolicy {
  const types = new Set<PrincipalType>(doc.principalTypes ?? DEFAULT_PRINCIPAL_TYPES);
  const accounts = doc.accounts === undefined ? undefined : new Set(doc.accounts);
  // IAM names are unique regardless of case, so deny compares without case: the safe direction.
  // Selectors compare permission sets and users regardless of case everywhere.
  const deny = (doc.deny ?? []).map((entry) => compileEntry(entry, { ignoreCase: true }));
  const pins = new Map(Object.entries(doc.pin ?? {}).map(([arn, id]) => [arn.toLowerCase(), id]));
  const rules: CompiledRule[] = (doc.rules ?? (doc.allow === undefined ? [] : [{ name: SHORTHAND_RULE, allow: doc.allow }])).map((r) => ({
    name: r.name,
    methods: r.methods === undefined ? undefined : new Set(r.methods),
    paths: r.paths?.map((glob) => ({ glob, match: compilePathGlob(glob) })),
    allow: r.allow.map((entry) => compileEntry(entry)),
  }));
  // Matched like allow: case-sensitive, field by field.
  const admins = (doc.admins ?? []).map((entry) => compileEntry(entry));
  // The path is read (decoded and checked) only for a policy whose rules look at it: a hit pays for no more.
  const readsPaths = rules.some((r) => r.paths !== undefined);

  function evaluate(identity: CallerIdentity, request: RequestFacts, steps?: string[], grants: Grants = "rules"): PolicyDecision {
    const denied = (reason: string): PolicyDecision => ({ allowed: false, code: "policy_denied", reason });
    if (!types.has(identity.type)) {
      return {
        allowed: false,
        code: "principal_type_denied",
        reason: `principal type ${identity.type} is not enabled in the policy's principalTypes`,
      };
    }
    steps?.push(`principalTypes: ${identity.type} is enabled`);
    if (accounts !== undefined) {
      if (!accounts.has(identity.account)) return denied(`account ${identity.account} is not in accounts`);
      steps?.push(`accounts: ${identity.account} is listed`);
    }
    for (const d of deny) {
      if (d.match(identity)) return denied(`denied by deny pattern ${d.pattern}`);
    }
    if (deny.length > 0) steps?.push(`deny: no pattern matches ${identity.principal}`);
    const pinned = pins.get(identity.principal.toLowerCase());
    if (pinned !== undefined) {
      if (uniqueIdOf(identity) !== pinned) return denied(`UserId does not carry the pinned unique ID for ${identity.principal}`);
      steps?.push(`pin: UserId carries ${pinned}, the pinned unique ID`);
    } else if (pins.size > 0) {
      steps?.push(`pin: ${identity.principal} is not pinned`);
    }
    if (grants === "admins") {
      const hit = admins.find((a) => a.match(identity));
      if (hit !== undefined) return { allowed: true, rule: ADMINS_RULE, pattern: hit.pattern };
      return {
        allowed: false,
        code: "not_admin",
        reason: admins.length === 0 ? "the policy has no admins" : `no admins pattern matches ${identity.principal}`,
      };
    }
    const path = readsPaths ? policyPath(request.path) : null;
    for (const [i, rule] of rules.entries()) {
      const label = `rules[${i}] ${rule.name}`;
      if (rule.methods !== undefined && !rule.methods.has(request.method)) {
        steps?.push(`${label}: method ${request.method} is not one of ${[...rule.methods].join(", ")}`);
        continue;
      }
      if (rule.paths !== undefined) {
        if (path === null) {
          steps?.push(`${label}: the path is ambiguous (see below), so no paths glob matches it`);
          continue;
        }
        if (!rule.paths.some((p) => p.match(path))) {
          steps?.push(`${label}: path ${path} matches none of ${rule.paths.map((p) => p.glob).join(", ")}`);
          continue;
        }
      }
      const hit = rule.allow.find((a) => a.match(identity));
      if (hit !== undefined) return { allowed: true, rule: rule.name, pattern: hit.pattern };
      steps?.push(`${label}: no allow pattern matches ${identity.principal}`);
    }
    const ambiguous =
      path === null && readsPaths
        ? " (the path has an encoded '/' or '\\', a '.', '..' or '..;' segment, a control character or a bad escape, so no paths glob matches it)"
        : "";
    return denied(`no rule matches ${request.method} ${shorten(request.path)} for ${identity.principal}${ambiguous}`);
  }

  return {
    decide: (identity, request) => evaluate(identity, request),
    trace(identity, request, grants) {
      const steps: string[] = [];
      return { decision: evaluate(identity, request, steps, grants), steps };
    },
    hasAdmins: admins.length > 0,
    decideAdmin: (identity) => evaluate(identity, { method: "GET", path: "/" }, undefined, "admins"),
  };
}

/** The unique ID STS's UserId carries: a role's AROA… before the session name, a user's AIDA…. */
function uniqueIdOf(identity: CallerIdentity): string | undefined {
  switch (identity.type) {
    case "assumed-role":
      return identity.userId.split(":")[0];
    case "role":
    case "user":
      return identity.userId;
    default:
      return undefined;
  }
}

function shorten(s: string): string {
  return s.length <= 200 ? s : `${s.slice(0, 200)}…`;
}

