import type { CallerIdentity } from "../identity.ts";
import { compileWildcard } from "../wildcard.ts";
import { compileArnPattern } from "./match.ts";
import { formatEntry, isSelector, type IdentityCenterSelector, type PrincipalEntry } from "./schema.ts";

/**
 * Rule `identityCenterSelector`: a selector matches an IAM Identity Center session (and nothing
 * else) when its partition (default aws) and account are the session's, literally; its
 * `permissionSet` (an exact name or a `*` glob, linear matcher) matches the session's
 * permission set regardless of case, as a whole, so `AdministratorAccess` never matches
 * `AdministratorAccess_ReadOnly`; and, when `users` is given, one of its globs matches the
 * session's user regardless of case.
 */
export function compileSelector(selector: IdentityCenterSelector): (identity: CallerIdentity) => boolean {
  const partition = selector.partition ?? "aws";
  const permissionSet = compileWildcard(selector.permissionSet.toLowerCase());
  const users = selector.users?.map((u) => compileWildcard(u.toLowerCase()));
  return (identity) => {
    if (identity.permissionSet === undefined || identity.user === undefined) return false;
    if (identity.partition !== partition || identity.account !== selector.account) return false;
    if (!permissionSet(identity.permissionSet.toLowerCase())) return false;
    if (users === undefined) return true;
    const user = identity.user.toLowerCase();
    return users.some((match) => match(user));
  };
}

/** A compiled `allow`, `deny` or `admins` entry: `pattern` is its text for logs. */
export interface CompiledEntry {
  pattern: string;
  match: (identity: CallerIdentity) => boolean;
}

/** ARN patterns match the canonical principal; selectors the Identity Center facts. */
export function compileEntry(entry: PrincipalEntry, options: { ignoreCase?: boolean } = {}): CompiledEntry {
  if (isSelector(entry)) return { pattern: formatEntry(entry), match: compileSelector(entry) };
  const match = compileArnPattern(entry, options);
  return { pattern: entry, match: (identity) => match(identity.principal) };
}
