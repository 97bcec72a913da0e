import * as z from "zod";
import { PRINCIPAL_TYPES, type CallerIdentity, type PrincipalType } from "./identity";

/**
 * Principal types allowed when the policy does not say. `federated-user` and `root` must be
 * opted into: anyone allowed to call sts:GetFederationToken can mint a federated user with any
 * name, indistinguishable from a real federated session (seed 003, ATTACKS.md #11), and root
 * should never be a routine caller.
 */
export const DEFAULT_PRINCIPAL_TYPES: readonly PrincipalType[] = ["user", "assumed-role", "role"];

const ARN_FIELDS = 6;

/**
 * An ARN pattern: six `:`-separated fields, `*` matching any run of characters inside one
 * field. The account field must be a literal 12-digit account (ATTACKS.md #12: a wildcard
 * that spans accounts lets a same-named role in a stranger's account in).
 */
const ArnPattern = z
  .string()
  .max(2048)
  .refine((p) => p.split(":").length === ARN_FIELDS && p.startsWith("arn:"), {
    error: "must be an ARN pattern with six ':'-separated fields, e.g. arn:aws:iam::111122223333:role/deployer",
  })
  .refine((p) => /^\d{12}$/.test(p.split(":")[4] ?? ""), {
    error: "the account field must be a literal 12-digit account ID (no wildcards: accounts are explicit)",
  });

export const PolicySchema = z.strictObject({
  allow: z.array(ArnPattern).max(1000),
  principalTypes: z.array(z.enum(PRINCIPAL_TYPES)).min(1).optional(),
});

export type PolicyDocument = z.infer<typeof PolicySchema>;

export type PolicyDecision =
  | { allowed: true; rule: string }
  | { allowed: false; code: "principal_type_denied" | "policy_denied"; reason: string };

/** What a decision may depend on besides the caller. */
export interface RequestFacts {
  method: string;
  path: string;
}

export interface Policy {
  decide(identity: CallerIdentity, request: RequestFacts): PolicyDecision;
}

/** Compiles a validated policy document. Evaluated on every request; decisions are never cached. */
export function compilePolicy(doc: PolicyDocument): Policy {
  const types = new Set<PrincipalType>(doc.principalTypes ?? DEFAULT_PRINCIPAL_TYPES);
  const allow = doc.allow.map((pattern) => ({ pattern, match: compileArnPattern(pattern) }));
  return {
    decide(identity) {
      if (!types.has(identity.type)) {
        return {
          allowed: false,
          code: "principal_type_denied",
          reason: `principal type ${identity.type} is not enabled in the policy's principalTypes`,
        };
      }
      for (const rule of allow) {
        if (rule.match(identity.principal)) return { allowed: true, rule: rule.pattern };
      }
      return { allowed: false, code: "policy_denied", reason: "no allow pattern matches the principal" };
    },
  };
}

/**
 * Rule `arnPatternFieldByField`: both sides are split on `:` and matched field by field, so a
 * `*` can never swallow a field boundary, and an ARN with a different number of fields never
 * matches.
 */
export function compileArnPattern(pattern: string): (arn: string) => boolean {
  const fields = pattern.split(":").map(globToRegExp);
  return (arn) => {
    const parts = arn.split(":");
    if (parts.length !== fields.length) return false;
    return fields.every((re, i) => re.test(parts[i]!));
  };
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))
    .join("[^:]*");
  return new RegExp(`^${body}$`);
}
