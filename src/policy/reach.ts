import type { PrincipalType } from "../protocol.ts";
import { formatIssuePath } from "../issue-path.ts";
import { compileArnPattern } from "./match.ts";
import { DEFAULT_PRINCIPAL_TYPES, isSelector, type PolicyDocument, type PrincipalEntry } from "./schema.ts";

/**
 * Whether a valid policy can admit anyone at all: a policy whose every allow pattern is cut off
 * (by `accounts`, by `principalTypes`, or by a `deny` pattern that covers it) deploys cleanly and
 * then refuses every caller. Returns why, or undefined when some pattern can still match.
 *
 * A deny pattern covers an allow pattern when it matches the allow pattern's own text: a `*`
 * in the deny matches any run of characters without `:`, including the allow's own `*`s, so
 * every ARN the allow pattern matches is denied too. (Sufficient, not necessary: an overlap
 * this misses is reported as admitting someone, never the other way round.)
 */
export function whyAdmitsNoOne(doc: PolicyDocument): string | undefined {
  const types = new Set<PrincipalType>(doc.principalTypes ?? DEFAULT_PRINCIPAL_TYPES);
  // Only ARN deny patterns are compared with allow entries (a selector deny is never found to cover one: the safe direction).
  const denies = (doc.deny ?? []).flatMap((d) => (isSelector(d) ? [] : [{ pattern: d, matches: compileArnPattern(d, { ignoreCase: true }) }]));
  const allowLists: Array<[ReadonlyArray<PropertyKey>, readonly PrincipalEntry[]]> =
    doc.rules?.map((r, i) => [["rules", i, "allow"], r.allow]) ?? (doc.allow === undefined ? [] : [[["allow"], doc.allow]]);
  const reasons: string[] = [];
  for (const [where, patterns] of allowLists) {
    patterns.forEach((pattern, j) => {
      reasons.push(`${formatIssuePath([...where, j], "POLICY")} ${cutOff(pattern, doc.accounts, types, denies) ?? "can match"}`);
    });
  }
  if (reasons.length === 0) return "it allows no principal pattern";
  if (reasons.some((r) => r.endsWith(" can match"))) return undefined;
  return reasons.join("; ");
}

function cutOff(
  entry: PrincipalEntry,
  accounts: readonly string[] | undefined,
  types: ReadonlySet<PrincipalType>,
  denies: ReadonlyArray<{ pattern: string; matches: (arn: string) => boolean }>,
): string | undefined {
  // A selector's sessions are assumed-role principals role/AWSReservedSSO_<permission set>_<hex>.
  const pattern = isSelector(entry)
    ? `arn:${entry.partition ?? "aws"}:iam::${entry.account}:role/AWSReservedSSO_${entry.permissionSet}_*`
    : entry;
  const fields = pattern.split(":");
  const account = fields[4] ?? "";
  if (accounts !== undefined && !accounts.includes(account)) return `is for account ${account}, which is not in accounts`;
  const possible = (isSelector(entry) ? (["assumed-role"] as PrincipalType[]) : typesOf(fields.slice(5).join(":"))).filter((t) => types.has(t));
  if (possible.length === 0) return "names only principal types that are not in principalTypes";
  const deny = denies.find((d) => d.matches(pattern));
  if (deny !== undefined) return `is covered by deny pattern ${deny.pattern}`;
  return undefined;
}

/** The principal types whose canonical principal a resource pattern can match. */
function typesOf(resource: string): PrincipalType[] {
  if (resource.startsWith("user/")) return ["user"];
  // An assumed-role session's principal is its role.
  if (resource.startsWith("role/")) return ["role", "assumed-role"];
  if (resource.startsWith("federated-user/")) return ["federated-user"];
  if (resource === "root") return ["root"];
  return ["user", "role", "assumed-role", "federated-user", "root"];
}
