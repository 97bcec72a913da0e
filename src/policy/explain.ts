import { GateError } from "../errors.ts";
import { identityFromSts, type CallerIdentity } from "../identity.ts";
import { formatIssuePath } from "../issue-path.ts";
import { ENGLISH } from "../zod-english.ts";
import type { PrincipalType } from "../protocol.ts";
import type { StsPartition } from "../sts-endpoints.ts";
import { compilePolicy, type PolicyDecision, type RequestFacts } from "./evaluate.ts";
import { isGatePath } from "../revocation/paths.ts";
import { whyAdmitsNoOne } from "./reach.ts";
import {
  ARN_FIELDS,
  DEFAULT_PRINCIPAL_TYPES,
  formatEntry,
  isSelector,
  PARTITIONS,
  PolicySchema,
  SHORTHAND_RULE,
  type PolicyDocument,
  type PolicyRule,
  type PrincipalEntry,
} from "./schema.ts";

// ---------------------------------------------------------------------------------------------
// Tooling: the pure half of `npm run policy` (src/cli/policy.ts reads files and prints).

/** `rules[1].paths[0]`, `pin["arn:aws:iam::…"]`: where an issue is, as an operator writes it. */
export function formatPolicyPath(path: ReadonlyArray<PropertyKey>, root = "POLICY"): string {
  return formatIssuePath(path, root);
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
  const parsed = PolicySchema.safeParse(json, ENGLISH);
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
  const allowLists: Array<[ReadonlyArray<PropertyKey>, readonly PrincipalEntry[]]> =
    doc.rules?.map((r, i) => [["rules", i, "allow"], r.allow]) ?? (doc.allow === undefined ? [] : [[["allow"], doc.allow]]);
  if (doc.admins !== undefined) allowLists.push([["admins"], doc.admins]);
  for (const [where, entries] of [...allowLists, [["deny"], doc.deny ?? []] as const]) {
    entries.forEach((entry, j) => {
      const selector = isSelector(entry) ? undefined : selectorFor(entry);
      if (selector !== undefined) warnings.push(`${formatPolicyPath([...where, j])}: ${SSO_GLOB_NOTE}; write the Identity Center selector ${formatEntry(selector)} instead`);
    });
  }
  const resourceOf = (arn: string) => arn.split(":").slice(5).join(":");
  const pathed = (resource: string) => resource.startsWith("role/") && resource.slice("role/".length).includes("/");
  const SESSION_NOTE = "has an IAM path, but an assumed-role session's canonical principal is role/<name> without its path";
  for (const [where, patterns] of allowLists) {
    patterns.forEach((entry, j) => {
      const at = formatPolicyPath([...where, j]);
      const pattern = isSelector(entry) ? `arn:${entry.partition ?? "aws"}:iam::${entry.account}:role/AWSReservedSSO_` : entry;
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
    if (!isSelector(pattern) && pathed(resourceOf(pattern))) warnings.push(`${formatPolicyPath(["deny", j])}: ${SESSION_NOTE}, so this pattern denies no session`);
  });
  for (const key of Object.keys(doc.pin ?? {})) {
    if (pathed(resourceOf(key))) warnings.push(`${formatPolicyPath(["pin", key])}: ${SESSION_NOTE}, so this pin applies to no session`);
  }
  const noOne = whyAdmitsNoOne(doc);
  if (noOne !== undefined) warnings.push(`POLICY admits no one: ${noOne}`);
  return warnings;
}

const SSO_GLOB_NOTE =
  "an ARN pattern over role/AWSReservedSSO_…* also matches every permission set whose name starts the same way " +
  "(AWSReservedSSO_AdministratorAccess_* matches AdministratorAccess_ReadOnly's roles too)";

/**
 * The Identity Center selector an ARN pattern over `role/AWSReservedSSO_…*` stands for, or
 * undefined when the pattern is not one (no `*`, or not that role-name prefix).
 */
export function selectorFor(pattern: string): { permissionSet: string; account: string; partition?: "aws" | "aws-cn" | "aws-us-gov" } | undefined {
  const fields = pattern.split(":");
  const resource = fields.slice(5).join(":");
  const m = /^role\/AWSReservedSSO_(.*)$/i.exec(resource);
  if (m === null || !resource.includes("*")) return undefined;
  const permissionSet = m[1]!.replace(/_?\*$/, "") || "*";
  const partition = fields[1] as "aws" | "aws-cn" | "aws-us-gov";
  return { permissionSet, account: fields[4] ?? "", ...(partition !== "aws" && { partition }) };
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

export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, " ").trim();
}

