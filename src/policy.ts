import * as z from "zod";
import { identityFromSts, PRINCIPAL_TYPES, type CallerIdentity, type PrincipalType } from "./identity.ts";
import { GateError } from "./errors.ts";
import { isGatePath } from "./revocation/paths.ts";
import type { StsPartition } from "./sts-endpoints.ts";
import { compileSequence, compileWildcard, STAR, wildcardMatch } from "./wildcard.ts";

export { wildcardMatch };
import { whyAdmitsNoOne } from "./policy-reach.ts";

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

const ARN_FIELDS = 6;
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

const ArnPattern = z
  .string()
  .max(2048)
  .superRefine((p, ctx) => {
    const problem = arnPatternProblem(p);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  });

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

const PathGlob = z
  .string()
  .max(1024)
  .superRefine((g, ctx) => {
    const problem = pathGlobProblem(g);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  });

const Method = z.string().superRefine((m, ctx) => {
  if ((HTTP_METHODS as readonly string[]).includes(m)) return;
  const upper = m.toUpperCase();
  ctx.addIssue({
    code: "custom",
    message: (HTTP_METHODS as readonly string[]).includes(upper)
      ? `methods are upper-case: ${upper}`
      : `must be one of ${HTTP_METHODS.join(", ")} (omit methods for any method)`,
  });
});

const AccountId = z.string({ error: "must be a 12-digit account ID, as a string" }).regex(/^\d{12}$/, {
  error: "must be a 12-digit account ID, as a string",
});

const RuleName = z.string().regex(/^[A-Za-z0-9][\w.-]{0,63}$/, {
  error: "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
});

const Rule = z.strictObject({
  name: RuleName,
  methods: z.array(Method).min(1, { error: "must not be empty: omit methods for any method" }).max(HTTP_METHODS.length * 2).optional(),
  paths: z.array(PathGlob).min(1, { error: "must not be empty: omit paths for any path" }).max(100).optional(),
  allow: z.array(ArnPattern).min(1, { error: "must name at least one principal pattern" }).max(MAX_ENTRIES),
});

export type PolicyRule = z.infer<typeof Rule>;

/** Canonical principals that can be pinned: roles (AROA…) and users (AIDA…), literally. */
const PINNABLE = /^arn:(?:aws|aws-cn|aws-us-gov):iam::\d{12}:(role|user)(?:\/[\w+=,.@-]+)*\/[\w+=,.@-]{1,64}$/;

const Pin = z.record(z.string(), z.string()).superRefine((pins, ctx) => {
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
});

export const PolicySchema = z
  .strictObject({
    /** Shorthand for `rules: [{ name: "allow", allow: [...] }]`. */
    allow: z.array(ArnPattern).max(MAX_ENTRIES).optional(),
    rules: z
      .array(Rule)
      .max(MAX_ENTRIES)
      .superRefine((rules, ctx) => {
        const seen = new Map<string, number>();
        rules.forEach((rule, i) => {
          const earlier = seen.get(rule.name);
          if (earlier !== undefined) {
            ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate rule name ${rule.name} (also rules[${earlier}])` });
          } else seen.set(rule.name, i);
        });
      })
      .optional(),
    deny: z.array(ArnPattern).max(MAX_ENTRIES).optional(),
    principalTypes: z.array(z.enum(PRINCIPAL_TYPES)).min(1).optional(),
    accounts: z.array(AccountId).min(1, { error: "must not be empty: omit accounts to allow any account the rules name" }).max(MAX_ENTRIES).optional(),
    pin: Pin.optional(),
    /** Who may use the revocation API (/.well-known/sts-gate/revocations); absent: the API is off. */
    admins: z.array(ArnPattern).min(1, { error: "must not be empty: omit admins to turn the revocation API off" }).max(MAX_ENTRIES).optional(),
  })
  .superRefine((doc, ctx) => {
    if (doc.allow !== undefined && doc.rules !== undefined) {
      ctx.addIssue({ code: "custom", path: ["allow"], message: "use either rules or the shorthand allow, not both" });
    } else if (doc.allow === undefined && doc.rules === undefined) {
      ctx.addIssue({ code: "custom", message: "needs rules (or the shorthand allow: [<ARN pattern>, …])" });
    }
  });

export type PolicyDocument = z.infer<typeof PolicySchema>;

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

interface CompiledPattern {
  pattern: string;
  match: (arn: string) => boolean;
}

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
  const deny = (doc.deny ?? []).map((pattern) => ({ pattern, match: compileArnPattern(pattern, { ignoreCase: true }) }));
  const pins = new Map(Object.entries(doc.pin ?? {}).map(([arn, id]) => [arn.toLowerCase(), id]));
  const rules: CompiledRule[] = (doc.rules ?? (doc.allow === undefined ? [] : [{ name: SHORTHAND_RULE, allow: doc.allow }])).map((r) => ({
    name: r.name,
    methods: r.methods === undefined ? undefined : new Set(r.methods),
    paths: r.paths?.map((glob) => ({ glob, match: compilePathGlob(glob) })),
    allow: r.allow.map((pattern) => ({ pattern, match: compileArnPattern(pattern) })),
  }));
  // Matched like allow: case-sensitive, field by field.
  const admins = (doc.admins ?? []).map((pattern) => ({ pattern, match: compileArnPattern(pattern) }));

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
      if (d.match(identity.principal)) return denied(`denied by deny pattern ${d.pattern}`);
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
      const hit = admins.find((a) => a.match(identity.principal));
      if (hit !== undefined) return { allowed: true, rule: ADMINS_RULE, pattern: hit.pattern };
      return {
        allowed: false,
        code: "not_admin",
        reason: admins.length === 0 ? "the policy has no admins" : `no admins pattern matches ${identity.principal}`,
      };
    }
    const path = policyPath(request.path);
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
      const hit = rule.allow.find((a) => a.match(identity.principal));
      if (hit !== undefined) return { allowed: true, rule: rule.name, pattern: hit.pattern };
      steps?.push(`${label}: no allow pattern matches ${identity.principal}`);
    }
    const ambiguous =
      path === null && rules.some((r) => r.paths !== undefined)
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

// ---------------------------------------------------------------------------------------------
// Matching.

/**
 * Rule `arnPatternFieldByField`: both sides are split on `:` and matched field by field with the
 * linear wildcard matcher, so a `*` can never swallow a field boundary, an ARN with a different
 * number of fields never matches, and no pattern can make matching slow (ATTACKS #21).
 */
export function compileArnPattern(pattern: string, options: { ignoreCase?: boolean } = {}): (arn: string) => boolean {
  const ignoreCase = options.ignoreCase === true;
  const fields = (ignoreCase ? pattern.toLowerCase() : pattern).split(":").map(compileWildcard);
  return (arn) => {
    const parts = (ignoreCase ? arn.toLowerCase() : arn).split(":");
    if (parts.length !== fields.length) return false;
    return fields.every((match, i) => match(parts[i]!));
  };
}

/**
 * Rule `pathGlob`: a glob on the decoded request path. `*` matches any run of characters
 * inside one segment (never `/`); a `**` segment matches zero or more whole segments, so
 * `/deploy/**` matches `/deploy`, `/deploy/` and `/deploy/a/b` but not `/deployer`. Everything
 * else is literal and case-sensitive. Matching is segment by segment with no regular
 * expression, in time proportional to glob × path even for hostile paths.
 */
export function compilePathGlob(glob: string): (path: string) => boolean {
  const match = compileSequence<string>(glob.split("/").slice(1).map((g) => (g === "**" ? STAR : compileWildcard(g))));
  return (path) => {
    if (!path.startsWith("/")) return false;
    return match(path.split("/").slice(1));
  };
}

/**
 * The request path as path globs see it: percent-decoded, or null when an origin could take
 * it for a different path than the gate does. The URL parser has already resolved `.` and `..`
 * segments (including `%2e` forms); what is left is what origins disagree on: an encoded `/` or
 * `\` (one origin routes `/a%2Fb` as one segment, another as two), a `..;` segment (Java
 * servlet containers treat it as `..`), an escape that is still an escape after decoding (a
 * double-decoding origin), control characters and malformed escapes; and a path of more than
 * MAX_PATH_SEGMENTS segments, so that matching stays cheap. A null path matches no `paths`
 * glob; rules without `paths` do not look at the path.
 */
export function policyPath(pathname: string): string | null {
  if (/%(2f|5c)/i.test(pathname)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (!decoded.startsWith("/") || /[\\%\x00-\x1f\x7f]/.test(decoded)) return null;
  if (decoded.split("/").length - 1 > MAX_PATH_SEGMENTS) return null;
  for (const segment of decoded.split("/")) {
    const bare = segment.split(";")[0];
    if (bare === "." || bare === "..") return null;
  }
  return decoded;
}

// ---------------------------------------------------------------------------------------------
// Tooling: the pure half of `npm run policy` (src/cli/policy.ts reads files and prints).

/** `rules[1].paths[0]`, `pin["arn:aws:iam::…"]`: where an issue is, as an operator writes it. */
export function formatPolicyPath(path: ReadonlyArray<PropertyKey>, root = "POLICY"): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    const name = String(key);
    return /^[A-Za-z_]\w*$/.test(name) ? `${out}.${name}` : `${out}[${JSON.stringify(name)}]`;
  }, root);
}

export type PolicyCheck =
  | { ok: true; doc: PolicyDocument; summary: string[]; warnings: string[] }
  | { ok: false; issues: string[] };

/** Parses and validates policy JSON text: a summary and warnings, or every issue with its path. */
export function checkPolicyText(text: string): PolicyCheck {
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (error) {
    return { ok: false, issues: [`POLICY: is not valid JSON (${oneLine(error)})`] };
  }
  const parsed = PolicySchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.map((i) => `${formatPolicyPath(i.path)}: ${i.message}`) };
  }
  return { ok: true, doc: parsed.data, summary: summarize(parsed.data), warnings: policyWarnings(parsed.data) };
}

function summarize(doc: PolicyDocument): string[] {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  const rules = doc.rules ?? [{ name: SHORTHAND_RULE, allow: doc.allow ?? [] }];
  const lines = [doc.rules === undefined ? "shorthand form (allow): one rule named allow" : `${count(rules.length, "rule")}, in order:`];
  for (const r of rules as PolicyRule[]) {
    const methods = r.methods?.join(", ") ?? "any method";
    const paths = r.paths?.join(", ") ?? "any path";
    lines.push(`  ${r.name}: ${methods} on ${paths}, for ${count(r.allow.length, "principal pattern")}`);
  }
  lines.push(`deny: ${doc.deny?.length ? count(doc.deny.length, "pattern") : "none"}`);
  lines.push(`accounts: ${doc.accounts?.join(", ") ?? "any account the rules name"}`);
  lines.push(`principal types: ${(doc.principalTypes ?? DEFAULT_PRINCIPAL_TYPES).join(", ")}`);
  const pins = Object.keys(doc.pin ?? {}).length;
  lines.push(`pinned: ${pins === 0 ? "none" : count(pins, "principal")}`);
  if (doc.admins !== undefined) lines.push(`admins: ${count(doc.admins.length, "pattern")} (the revocation API is on)`);
  return lines;
}

/** Valid but probably not what was meant: patterns and pins that can never apply. */
export function policyWarnings(doc: PolicyDocument): string[] {
  const warnings: string[] = [];
  const types = new Set<PrincipalType>(doc.principalTypes ?? DEFAULT_PRINCIPAL_TYPES);
  const allowLists: Array<[ReadonlyArray<PropertyKey>, readonly string[]]> =
    doc.rules?.map((r, i) => [["rules", i, "allow"], r.allow]) ?? (doc.allow === undefined ? [] : [[["allow"], doc.allow]]);
  if (doc.admins !== undefined) allowLists.push([["admins"], doc.admins]);
  const resourceOf = (arn: string) => arn.split(":").slice(5).join(":");
  const pathed = (resource: string) => resource.startsWith("role/") && resource.slice("role/".length).includes("/");
  const SESSION_NOTE = "has an IAM path, but an assumed-role session's canonical principal is role/<name> without its path";
  for (const [where, patterns] of allowLists) {
    patterns.forEach((pattern, j) => {
      const at = formatPolicyPath([...where, j]);
      const resource = resourceOf(pattern);
      const account = pattern.split(":")[4] ?? "";
      if (pathed(resource)) warnings.push(`${at}: ${SESSION_NOTE}, so this pattern allows no session`);
      if (doc.accounts !== undefined && !doc.accounts.includes(account)) {
        warnings.push(`${at}: account ${account} is not in accounts, so this pattern allows no one`);
      }
      for (const [prefix, type] of [["federated-user/", "federated-user"], ["root", "root"]] as const) {
        if (resource.startsWith(prefix) && !types.has(type)) {
          warnings.push(`${at}: ${type} is not in principalTypes, so this pattern allows no one`);
        }
      }
    });
  }
  doc.deny?.forEach((pattern, j) => {
    if (pathed(resourceOf(pattern))) warnings.push(`${formatPolicyPath(["deny", j])}: ${SESSION_NOTE}, so this pattern denies no session`);
  });
  for (const key of Object.keys(doc.pin ?? {})) {
    if (pathed(resourceOf(key))) warnings.push(`${formatPolicyPath(["pin", key])}: ${SESSION_NOTE}, so this pin applies to no session`);
  }
  const noOne = whyAdmitsNoOne(doc);
  if (noOne !== undefined) warnings.push(`POLICY admits no one: ${noOne}`);
  return warnings;
}

export interface ExplainRequest {
  arn: string;
  /** STS's UserId; synthesized when absent (pinning then cannot be checked). */
  userId?: string;
  method: string;
  path: string;
}

export interface Explanation {
  identity: CallerIdentity;
  request: RequestFacts;
  decision: PolicyDecision;
  steps: string[];
  notes: string[];
}

const SYNTHETIC_ID = "SYNTHESIZEDBYEXPLAIN";

/**
 * What the gate would decide for a caller with this ARN making this request. The identity is
 * derived exactly as the gate derives it (identityFromSts); the account comes from the ARN.
 * Throws an Error with a one-line message for an ARN the gate would not accept from STS.
 */
export function explainPolicy(doc: PolicyDocument, input: ExplainRequest): Explanation {
  const fields = input.arn.split(":");
  const partition = fields[1] ?? "";
  const account = fields[4] ?? "";
  if (fields.length !== ARN_FIELDS || !(PARTITIONS as readonly string[]).includes(partition)) {
    throw new Error(`--arn: not a principal ARN (arn:aws|aws-cn|aws-us-gov:iam|sts::<account>:<resource>): ${input.arn}`);
  }
  const policy = compilePolicy(doc);
  const notes: string[] = [];
  const identify = (userId: string) => {
    try {
      return identityFromSts({ arn: input.arn, account, userId }, partition as StsPartition);
    } catch (error) {
      const detail = error instanceof GateError ? error.detail : oneLine(error);
      throw new Error(`${input.userId === undefined ? "--arn" : "--arn/--user-id"}: the gate would refuse this identity from STS: ${detail}`);
    }
  };
  let identity: CallerIdentity;
  if (input.userId !== undefined) {
    identity = identify(input.userId);
  } else {
    identity = identify(syntheticUserId(input.arn, account, undefined));
    const pinned = Object.entries(doc.pin ?? {}).find(([arn]) => arn.toLowerCase() === identity.principal.toLowerCase())?.[1];
    if (pinned !== undefined) {
      identity = identify(syntheticUserId(input.arn, account, pinned));
      notes.push(`pin: ${identity.principal} is pinned to ${pinned}; that cannot be checked without --user-id, so this assumes the UserId carries it`);
    } else {
      notes.push(`UserId synthesized as ${identity.userId} (pass --user-id to use STS's)`);
    }
  }
  if (!input.path.startsWith("/")) throw new Error(`--path: must start with '/': ${input.path}`);
  let pathname: string;
  try {
    // As the Worker sees it: the URL parser resolves dot segments and escapes what it must.
    pathname = new URL(`https://gate.invalid${input.path}`).pathname;
  } catch {
    throw new Error(`--path: not a URL path: ${input.path}`);
  }
  if (pathname !== input.path.split(/[?#]/)[0]) notes.push(`path: the gate sees ${input.path} as ${pathname}`);
  const request = { method: input.method, path: pathname };
  // The gate's own API is granted by admins, not by the rules.
  const gateApi = isGatePath(pathname);
  const { decision, steps } = policy.trace(identity, request, gateApi ? "admins" : "rules");
  if (gateApi) notes.push(`${pathname} is the gate's own API: admins decide, not the rules`);
  else if (doc.admins !== undefined) {
    const admin = policy.decideAdmin(identity);
    notes.push(admin.allowed ? `admins: ${identity.principal} is an admin (pattern ${admin.pattern})` : `admins: ${identity.principal} is not an admin (${admin.reason})`);
  }
  const unchecked = input.userId === undefined;
  return {
    identity,
    request,
    decision,
    steps: steps.map((s) => (unchecked && s.startsWith("pin: UserId carries") ? "pin: not checked (no --user-id; see the note)" : s)),
    notes,
  };
}

function syntheticUserId(arn: string, account: string, uniqueId: string | undefined): string {
  const resource = arn.split(":").slice(5).join(":");
  const session = /^assumed-role\/[^/]+\/(.+)$/.exec(resource);
  if (session) return `${uniqueId ?? `AROA${SYNTHETIC_ID}`}:${session[1]}`;
  if (resource.startsWith("role/")) return uniqueId ?? `AROA${SYNTHETIC_ID}`;
  if (resource.startsWith("user/")) return uniqueId ?? `AIDA${SYNTHETIC_ID}`;
  const federated = /^federated-user\/(.+)$/.exec(resource);
  if (federated) return `${account}:${federated[1]}`;
  return account;
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, " ").trim();
}

/** What one run of the CLI prints and exits with. */
export interface CliOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const POLICY_CLI_USAGE = `usage:
  npm run policy -- check <file> [--env NAME]
      Validate a policy file (JSON), or the [vars.POLICY] of a wrangler.toml (of [env.NAME]
      with --env). Exit 0 and a summary (warnings, e.g. a policy that admits no one, on
      stderr), or each issue with its path and exit 1.
  npm run policy -- explain <file> [--env NAME] --arn <arn> [--user-id <id>] [--method GET] [--path /]
      What the gate would decide for that caller and request, and which rule or reason decided.
      Exit 0 if allowed, 1 if denied. Without --user-id a UserId is synthesized, and a pin on
      the principal cannot be checked. A path under /.well-known/sts-gate/ is decided by admins.
Errors (bad arguments, unreadable file, invalid policy for explain) exit 2.
`;

/**
 * The whole policy CLI as a pure function of its arguments and a file reader, so it is tested
 * in workerd; src/cli/policy.ts only supplies argv, the file system and the exit code.
 */
export function runPolicyCli(argv: readonly string[], readText: (file: string) => string): CliOutcome {
  const out = (exitCode: number, stdout: string[], stderr: string[] = []): CliOutcome => ({
    exitCode,
    stdout: stdout.map((l) => `${l}\n`).join(""),
    stderr: stderr.map((l) => `${l}\n`).join(""),
  });
  const usageError = (message: string) => out(2, [], [`policy: ${message} (npm run policy -- --help)`]);

  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    return { exitCode: command === undefined ? 2 : 0, stdout: command === undefined ? "" : POLICY_CLI_USAGE, stderr: command === undefined ? POLICY_CLI_USAGE : "" };
  }
  if (command !== "check" && command !== "explain") return usageError(`unknown command ${command}; use check or explain`);

  const options: Record<string, string> = {};
  const positionals: string[] = [];
  const known = command === "check" ? [] : ["--arn", "--user-id", "--method", "--path"];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!known.includes(name)) return usageError(`unknown option ${name} for ${command}`);
    const value = eq === -1 ? rest[++i] : arg.slice(eq + 1);
    if (value === undefined) return usageError(`${name} needs a value`);
    if (options[name] !== undefined) return usageError(`${name} given twice`);
    options[name] = value;
  }
  if (positionals.length !== 1) return usageError(`${command} takes exactly one policy file`);
  const file = positionals[0]!;

  let text: string;
  try {
    text = readText(file);
  } catch (error) {
    return out(command === "check" ? 1 : 2, [], [`policy: cannot read ${file}: ${oneLine(error)}`]);
  }
  const checked = checkPolicyText(text);

  if (command === "check") {
    if (!checked.ok) return out(1, [], [`${file}: invalid policy (${checked.issues.length} issue${checked.issues.length === 1 ? "" : "s"})`, ...checked.issues]);
    return out(0, [`${file}: valid`, ...checked.summary], checked.warnings.map((w) => `warning: ${w}`));
  }

  if (!checked.ok) return out(2, [], [`${file}: invalid policy; run npm run policy -- check ${file}`, ...checked.issues]);
  const arn = options["--arn"];
  if (arn === undefined) return usageError("explain needs --arn <arn>");
  const method = options["--method"] ?? "GET";
  if (!/^[A-Za-z]{1,16}$/.test(method)) return usageError(`--method: not an HTTP method: ${method}`);
  try {
    const e = explainPolicy(checked.doc, {
      arn,
      userId: options["--user-id"],
      method: method.toUpperCase(),
      path: options["--path"] ?? "/",
    });
    const d = e.decision;
    const lines = [
      `caller:    ${e.identity.arn}`,
      `principal: ${e.identity.principal} (${e.identity.type}, account ${e.identity.account}, UserId ${e.identity.userId})`,
      `request:   ${e.request.method} ${e.request.path}`,
      ...e.steps.map((s) => `  ${s}`),
      d.allowed ? `ALLOW by rule ${d.rule}${d.pattern === undefined ? "" : ` (pattern ${d.pattern})`}` : `DENY ${d.code}: ${d.reason}`,
      ...e.notes.map((n) => `note: ${n}`),
    ];
    return out(d.allowed ? 0 : 1, lines, checked.warnings.map((w) => `warning: ${w}`));
  } catch (error) {
    return out(2, [], [`policy: ${oneLine(error)}`]);
  }
}
