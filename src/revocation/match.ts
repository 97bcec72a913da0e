import type { CallerIdentity } from "../identity.ts";
import type { ActiveRevocation } from "./entry.ts";

/** What is known of a request: the token's access key always; the identity once resolved. */
export interface RevocationFacts {
  accessKeyId: string;
  identity?: CallerIdentity;
}

/**
 * Rule `revocationMatch`: the first active entry that selects this request, if any.
 * - `accessKeyId`: the key that signed the token, exactly (known before any KV read or STS call);
 * - `account`: the caller's account;
 * - `principal`: the caller's canonical principal or its exact ARN (so one assumed-role session
 *   can be revoked alone), compared regardless of case: IAM names are unique regardless of case,
 *   and a revocation errs towards refusing.
 * An entry whose expiresAt has passed no longer applies.
 */
export function findRevocation(entries: Iterable<ActiveRevocation>, facts: RevocationFacts, now: number): ActiveRevocation | undefined {
  const identity = facts.identity;
  for (const entry of entries) {
    // Rule `revocationExpiry`: an expired entry stops applying, whatever KV still holds.
    if (entry.expiresAt !== undefined && now >= entry.expiresAt) continue;
    if (selects(entry, facts.accessKeyId, identity)) return entry;
  }
  return undefined;
}

function selects(entry: ActiveRevocation, accessKeyId: string, identity: CallerIdentity | undefined): boolean {
  switch (entry.kind) {
    case "accessKeyId":
      return entry.value === accessKeyId;
    case "account":
      return identity !== undefined && entry.value === identity.account;
    case "principal": {
      if (identity === undefined) return false;
      const wanted = entry.value.toLowerCase();
      return wanted === identity.principal.toLowerCase() || wanted === identity.arn.toLowerCase();
    }
  }
}

/** What a refused caller is told: which selector and entry, never the reason (that is the operator's). */
export function revokedDetail(entry: ActiveRevocation): string {
  const what = entry.kind === "accessKeyId" ? `access key ${entry.value}` : entry.kind === "account" ? `account ${entry.value}` : `principal ${entry.value}`;
  return `Revoked: ${what} is revoked at this gate (entry ${entry.id}).`;
}
