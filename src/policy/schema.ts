import * as z from "zod/mini";
import { PRINCIPAL_TYPES, type PrincipalType } from "../protocol.ts";
import type { StsPartition } from "../sts-endpoints.ts";
import { wildcardMatch } from "../wildcard.ts";
import { ENGLISH } from "../zod-english.ts";

/** The policy document: its schema and the limits that keep it small enough to read and cheap to match. */


/**
 * Principal types allowed when the policy does not say. `federated-user` and `root` must be
 * opted into: anyone allowed to call sts:GetFederationToken can mint a federated user with any
 * name, indistinguishable from a real federated session (ATTACKS #11 in SECURITY.md), and root
 * should never be a routine caller.
 */
export const DEFAULT_PRINCIPAL_TYPES: readonly PrincipalType[] = ["user", "assumed-role", "role"];

/** The partitions a pattern may name, literally: the caller picks the partition by picking the STS host. */
export const PARTITIONS = ["aws", "aws-cn", "aws-us-gov"] as const satisfies readonly StsPartition[];

/** The methods a rule may name. Omit `methods` for any method. */
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** The name of the one rule the shorthand `{"allow": [...]}` stands for. */
export const SHORTHAND_RULE = "allow";

export const ARN_FIELDS = 6;
const MAX_ENTRIES = 1000;
/** Path globs and request paths are matched segment by segment; both are capped, so matching stays cheap. */
export const MAX_GLOB_SEGMENTS = 64;
export const MAX_PATH_SEGMENTS = 256;

// ---------------------------------------------------------------------------------------------
// The schema. Every check reports the path of what it is about (`rules[1].paths[0]`), and a
// pattern reports only its first problem, so an operator reads one precise line per mistake.

/** Why an ARN pattern is refused, or undefined. Shared by allow and deny: the rules are the same. */
function arnPatternProblem(pattern: string): string | undefined {
  const fields = pattern.split(":");
  if (fields.length !== ARN_FIELDS || fields[0] !== "arn") {
    return "must be an ARN pattern with six ':'-separated fields, e.g. arn:aws:iam::111122223333:role/deployer";
  }
  const [, partition, service, region, account, resource] = fields as [string, string, string, string, string, string];
  // ATTACKS #12 (Vault CVE-2025-11621): a wildcard account lets a same-named role in a stranger's account in.
  if (!/^\d{12}$/.test(account)) {
    return "the account field must be a literal 12-digit account ID (no wildcards: accounts are explicit)";
  }
  // The same account ID in another partition is another account, and the caller chooses the
  // partition by choosing the token's STS host.
  if (!(PARTITIONS as readonly string[]).includes(partition)) {
    return "the partition field must be literally aws, aws-cn or aws-us-gov (no wildcards: the caller picks the partition by picking the STS host)";
  }
  if (!wildcardMatch(service, "iam") && !wildcardMatch(service, "sts")) {
    return "the service field must be iam or sts: principals are arn:<partition>:iam::… or arn:<partition>:sts::…";
  }
  if (!wildcardMatch(region, "")) return "the region field of a principal ARN is empty: arn:<partition>:iam::<account>:…";
  if (!/^[\w+=,.@/*-]+$/.test(resource)) {
    return "the resource field may contain only IAM name characters (letters, digits, + = , . @ _ -), '/' and '*'";
  }
  if (resource.startsWith("assumed-role/")) {
    const role = resource.split("/")[1] ?? "<role>";
    return `never matches: an assumed-role session is matched by its role; write arn:${partition}:iam::${account}:${"role/" + role}`;
  }
  // The kind of principal, when the pattern names it literally, must live under the service named.
  const kind = /^(user|role|federated-user)\/|^(root)$/.exec(resource);
  const literalKind = kind?.[1] ?? kind?.[2];
  if (literalKind === undefined && !resource.includes("*")) {
    return "never matches: principals are user/<name>, role/<name>, federated-user/<name> or root";
  }
  if (literalKind !== undefined && !service.includes("*")) {
    const home = literalKind === "federated-user" ? "sts" : "iam";
    if (service !== home) return `never matches: ${literalKind} principals are arn:${partition}:${home}::… ARNs`;
  }
  return undefined;
}

/** A string of at most `max` characters, refused with the message `problemOf` gives (if any). */
function checkedString(max: number, problemOf: (value: string) => string | undefined) {
  return z.string().check(
    z.maxLength(max),
    z.superRefine((value, ctx) => {
      const problem = problemOf(value);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    }),
  );
}

const ArnPattern = checkedString(2048, arnPatternProblem);

/** Permission set names are IAM name characters, 1 to 32 of them; a selector may add `*`. */
function permissionSetProblem(glob: string): string | undefined {
  if (!/^[\w+=,.@*-]{1,64}$/.test(glob)) {
    return "must be a permission set name or a '*' glob of one: letters, digits, + = , . @ _ - and '*', e.g. AdministratorAccess";
  }
  return undefined;
}

/** A session name is what STS allows: IAM name characters, 2 to 64 of them; a glob may add `*`. */
function userGlobProblem(glob: string): string | undefined {
  if (!/^[\w+=,.@*-]{1,128}$/.test(glob)) {
    return "must be a user name or a '*' glob of one: letters, digits, + = , . @ _ - and '*', e.g. *@example.com";
  }
  return undefined;
}

/**
 * An IAM Identity Center selector, written where a principal pattern may be:
 * `{ permissionSet = "AdministratorAccess", account = "111122223333", users = ["*@example.com"] }`.
 * It matches only Identity Center sessions (src/identity.ts, rule `identityCenterSession`).
 */
const IdentityCenterSelectorSchema = z.strictObject({
  permissionSet: checkedString(64, permissionSetProblem),
  // ATTACKS #12: a wildcard account would admit the same permission set in a stranger's account.
  account: z.string({ error: "must be a literal 12-digit account ID, as a string (no wildcards: accounts are explicit)" }).check(
    z.regex(/^\d{12}$/, { error: "must be a literal 12-digit account ID, as a string (no wildcards: accounts are explicit)" }),
  ),
  /** The partition, literally; default aws. The same account ID in another partition is another account. */
  partition: z.optional(z.enum(PARTITIONS, { error: "must be literally aws, aws-cn or aws-us-gov (default aws)" })),
  users: z.optional(list(checkedString(128, userGlobProblem), 100, "must not be empty: omit users for every user of the permission set")),
});

export type IdentityCenterSelector = z.infer<typeof IdentityCenterSelectorSchema>;

/**
 * What `allow`, `rules[].allow`, `deny` and `admins` list: ARN patterns and Identity Center
 * selectors. Dispatched on the entry's type rather than a zod union, so a selector's problem is
 * reported at its own path (`POLICY.allow[0].account`) and not as "matches neither".
 */
export const PrincipalEntrySchema = z.unknown().check(z.superRefine((entry, ctx) => {
  const schema = typeof entry === "string" ? ArnPattern : typeof entry === "object" && entry !== null && !Array.isArray(entry) ? IdentityCenterSelectorSchema : undefined;
  if (schema === undefined) {
    ctx.addIssue({ code: "custom", message: "must be an ARN pattern (a string) or an Identity Center selector { permissionSet, account[, users] }" });
    return;
  }
  const parsed = schema.safeParse(entry, ENGLISH);
  if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", path: issue.path as PropertyKey[], message: issue.message });
})) as unknown as z.ZodMiniType<string | IdentityCenterSelector>;

export type PrincipalEntry = z.infer<typeof PrincipalEntrySchema>;

export function isSelector(entry: PrincipalEntry): entry is IdentityCenterSelector {
  return typeof entry !== "string";
}

/** A selector as one line, for the decision log's `pattern` and for `npm run policy`. */
export function formatEntry(entry: PrincipalEntry): string {
  if (!isSelector(entry)) return entry;
  const parts = [`permissionSet = ${JSON.stringify(entry.permissionSet)}`, `account = ${JSON.stringify(entry.account)}`];
  if (entry.partition !== undefined) parts.push(`partition = ${JSON.stringify(entry.partition)}`);
  if (entry.users !== undefined) parts.push(`users = [${entry.users.map((u) => JSON.stringify(u)).join(", ")}]`);
  return `{ ${parts.join(", ")} }`;
}

/** Why a path glob is refused, or undefined. */
function pathGlobProblem(glob: string): string | undefined {
  if (!glob.startsWith("/")) return "must start with '/', e.g. /deploy/**";
  if (/[?#]/.test(glob)) return "must not contain '?' or '#': paths are matched without the query";
  if (glob.includes("%")) return "must be written decoded, without percent-escapes: the gate decodes the request path before matching";
  if (/[\\\s\x00-\x1f\x7f]/.test(glob)) return "must not contain '\\', whitespace or control characters";
  for (const segment of glob.split("/").slice(1)) {
    if (segment.includes("**") && segment !== "**") return "'**' must be a whole segment, e.g. /deploy/** or /a/**/b";
    if (segment === "." || segment === "..") return "must not contain '.' or '..' segments: request paths are resolved before matching";
  }
  if (glob.split("/").length - 1 > MAX_GLOB_SEGMENTS) return `must have at most ${MAX_GLOB_SEGMENTS} segments`;
  return undefined;
}

export const PathGlob = checkedString(1024, pathGlobProblem);

const Method = z.string().check(z.superRefine((m, ctx) => {
  if ((HTTP_METHODS as readonly string[]).includes(m)) return;
  const upper = m.toUpperCase();
  ctx.addIssue({
    code: "custom",
    message: (HTTP_METHODS as readonly string[]).includes(upper)
      ? `methods are upper-case: ${upper}`
      : `must be one of ${HTTP_METHODS.join(", ")} (omit methods for any method)`,
  });
}));

const AccountId = z.string({ error: "must be a 12-digit account ID, as a string" }).check(
  z.regex(/^\d{12}$/, { error: "must be a 12-digit account ID, as a string" }),
);

const RuleName = z.string().check(
  z.regex(/^[A-Za-z0-9][\w.-]{0,63}$/, { error: "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit" }),
);

/** A list of at most `max` entries; `nonEmpty` is the message for an empty one, where empty is refused. */
export function list<T extends z.ZodMiniType>(item: T, max: number, nonEmpty?: string) {
  const array = z.array(item);
  return nonEmpty === undefined ? array.check(z.maxLength(max)) : array.check(z.minLength(1, { error: nonEmpty }), z.maxLength(max));
}

const Rule = z.strictObject({
  name: RuleName,
  methods: z.optional(list(Method, HTTP_METHODS.length * 2, "must not be empty: omit methods for any method")),
  paths: z.optional(list(PathGlob, 100, "must not be empty: omit paths for any path")),
  allow: list(PrincipalEntrySchema, MAX_ENTRIES, "must name at least one principal pattern"),
});

export type PolicyRule = z.infer<typeof Rule>;

/** Canonical principals that can be pinned: roles (AROA…) and users (AIDA…), literally. */
const PINNABLE = /^arn:(?:aws|aws-cn|aws-us-gov):iam::\d{12}:(role|user)(?:\/[\w+=,.@-]+)*\/[\w+=,.@-]{1,64}$/;

const Pin = z.record(z.string(), z.string()).check(z.superRefine((pins, ctx) => {
  const seen = new Map<string, string>();
  const keys = Object.keys(pins);
  if (keys.length > MAX_ENTRIES) ctx.addIssue({ code: "custom", message: `must have at most ${MAX_ENTRIES} entries` });
  for (const key of keys) {
    const kind = PINNABLE.exec(key)?.[1];
    if (kind === undefined) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: "the key must be the canonical ARN of a role or user, without wildcards, e.g. arn:aws:iam::111122223333:role/deployer",
      });
      continue;
    }
    const folded = key.toLowerCase();
    const earlier = seen.get(folded);
    if (earlier !== undefined) {
      ctx.addIssue({ code: "custom", path: [key], message: `pins the same principal as ${earlier} (IAM names are unique regardless of case)` });
      continue;
    }
    seen.set(folded, key);
    const prefix = kind === "role" ? "AROA" : "AIDA";
    if (!new RegExp(`^${prefix}[A-Z0-9]{12,124}$`).test(pins[key]!)) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `must be the ${kind}'s unique ID, ${prefix} followed by upper-case letters and digits (aws iam get-${kind} --${kind}-name <name> --query ${kind === "role" ? "Role.RoleId" : "User.UserId"})`,
      });
    }
  }
}));

export const PolicySchema = z
  .strictObject({
    /** Shorthand for `rules: [{ name: "allow", allow: [...] }]`. */
    allow: z.optional(list(PrincipalEntrySchema, MAX_ENTRIES)),
    rules: z.optional(
      list(Rule, MAX_ENTRIES).check(
        z.superRefine((rules, ctx) => {
          const seen = new Map<string, number>();
          rules.forEach((rule, i) => {
            const earlier = seen.get(rule.name);
            if (earlier !== undefined) {
              ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate rule name ${rule.name} (also rules[${earlier}])` });
            } else seen.set(rule.name, i);
          });
        }),
      ),
    ),
    deny: z.optional(list(PrincipalEntrySchema, MAX_ENTRIES)),
    principalTypes: z.optional(z.array(z.enum(PRINCIPAL_TYPES)).check(z.minLength(1))),
    accounts: z.optional(list(AccountId, MAX_ENTRIES, "must not be empty: omit accounts to allow any account the rules name")),
    pin: z.optional(Pin),
    /** Who may use the revocation API (/.well-known/sts-gate/revocations); absent: the API is off. */
    admins: z.optional(list(PrincipalEntrySchema, MAX_ENTRIES, "must not be empty: omit admins to turn the revocation API off")),
  })
  .check(z.superRefine((doc, ctx) => {
    if (doc.allow !== undefined && doc.rules !== undefined) {
      ctx.addIssue({ code: "custom", path: ["allow"], message: "use either rules or the shorthand allow, not both" });
    } else if (doc.allow === undefined && doc.rules === undefined) {
      ctx.addIssue({ code: "custom", message: "needs rules (or the shorthand allow: [<ARN pattern>, …])" });
    }
  }));

export type PolicyDocument = z.infer<typeof PolicySchema>;

