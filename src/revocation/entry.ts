import * as z from "zod/mini";

/**
 * A revocation entry: exactly one selector, a reason, an optional expiry, and what the gate
 * sets itself (id, createdAt, createdBy). Entries hold identifiers only (an access key ID, an
 * ARN, an account), never token material.
 */
export const SELECTORS = ["accessKeyId", "principal", "account"] as const;
export type SelectorKind = (typeof SELECTORS)[number];

export const MAX_REASON_CHARS = 500;
/** An ARN longer than any IAM principal can be (a 512-character path, a 64-character name). */
export const MAX_PRINCIPAL_CHARS = 700;

/** As CloudTrail's userIdentity.accessKeyId shows it: a long-term (AKIA) or session (ASIA) key. */
export const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{12,124}$/;
export const ACCOUNT_ID = /^\d{12}$/;

// IAM's own character sets, as in identity.ts: none admits ':' or '*', so a selector is exact.
const NAME = "[\\w+=,.@-]";
/**
 * The principals a selector may name, exactly: a canonical principal (a user with its path, a
 * role without one, a federated user, root) or an exact assumed-role session ARN.
 */
const PRINCIPAL = new RegExp(
  "^arn:(?:aws|aws-cn|aws-us-gov):(?:" +
    `iam::\\d{12}:user(?:/${NAME}+)*/${NAME}{1,64}` +
    `|iam::\\d{12}:role/${NAME}{1,64}` +
    `|iam::\\d{12}:root` +
    `|sts::\\d{12}:assumed-role/${NAME}{1,64}/${NAME}{2,64}` +
    `|sts::\\d{12}:federated-user/${NAME}{2,32}` +
    ")$",
);
const PATHED_ROLE = new RegExp(`^arn:(?:aws|aws-cn|aws-us-gov):iam::\\d{12}:role(?:/${NAME}+)+/${NAME}{1,64}$`);

/** Why a principal selector is refused, or undefined. */
export function principalProblem(arn: string): string | undefined {
  if (arn.length > MAX_PRINCIPAL_CHARS) return `principal: at most ${MAX_PRINCIPAL_CHARS} characters`;
  if (PRINCIPAL.test(arn)) return undefined;
  if (PATHED_ROLE.test(arn)) {
    return "principal: a role session's canonical principal has no IAM path (arn:aws:iam::<account>:role/<name>), so this would revoke nothing";
  }
  return "principal: must be a principal ARN without wildcards: arn:aws:iam::<account>:role/<name>, …:user/<name>, …:root, arn:aws:sts::<account>:assumed-role/<role>/<session> or …:federated-user/<name>";
}

const Instant = z.iso.datetime({ offset: true });

export const RevocationEntrySchema = z
  .strictObject({
    id: z.uuid(),
    accessKeyId: z.optional(z.string().check(z.regex(ACCESS_KEY_ID))),
    principal: z.optional(z.string().check(z.refine((p) => principalProblem(p) === undefined))),
    account: z.optional(z.string().check(z.regex(ACCOUNT_ID))),
    reason: z.string().check(z.minLength(1), z.maxLength(MAX_REASON_CHARS)),
    expiresAt: z.optional(Instant),
    createdAt: Instant,
    createdBy: z.string().check(z.minLength(1), z.maxLength(2048)),
  })
  .check(z.refine((e) => SELECTORS.filter((s) => e[s] !== undefined).length === 1, { error: "exactly one selector" }));

export type RevocationEntry = z.infer<typeof RevocationEntrySchema>;

/** What an operator sends: one selector, a reason and an optional expiry. */
export interface RevocationRequest {
  accessKeyId?: string;
  principal?: string;
  account?: string;
  reason: string;
  expiresAt?: string;
}

export type RevocationInputCode =
  | "body_not_json"
  | "body_invalid"
  | "unknown_field"
  | "selector_missing"
  | "selector_multiple"
  | "access_key_malformed"
  | "principal_malformed"
  | "account_malformed"
  | "reason_invalid"
  | "expires_at_malformed"
  | "expires_at_past";

export type ParsedRequest = { ok: true; request: RevocationRequest } | { ok: false; code: RevocationInputCode; detail: string };

const FIELDS = new Set<string>([...SELECTORS, "reason", "expiresAt"]);

/**
 * Rule `revocationInput`: the body of POST /.well-known/sts-gate/revocations, checked field by
 * field so each mistake has its own stable code. Any future expiresAt is valid, however near
 * (KV's 60 s minimum TTL is the store's concern).
 */
export function parseRevocationRequest(text: string, now: number): ParsedRequest {
  const fail = (code: RevocationInputCode, detail: string): ParsedRequest => ({ ok: false, code, detail });
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    return fail("body_not_json", "The body must be a JSON object.");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return fail("body_invalid", "The body must be a JSON object.");
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) {
    const names = unknown.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 64)));
    return fail("unknown_field", `Unknown field ${names.join(", ")}; the fields are accessKeyId, principal, account, reason and expiresAt.`);
  }
  const given = SELECTORS.filter((s) => fields[s] !== undefined);
  if (given.length === 0) return fail("selector_missing", "Give exactly one of accessKeyId, principal or account.");
  if (given.length > 1) return fail("selector_multiple", `Give exactly one of accessKeyId, principal or account, not ${given.join(" and ")}.`);
  const kind = given[0]!;
  const value = fields[kind];
  if (kind === "accessKeyId" && (typeof value !== "string" || !ACCESS_KEY_ID.test(value))) {
    return fail("access_key_malformed", "accessKeyId: must be an access key ID as CloudTrail shows it, AKIA… or ASIA… in upper-case letters and digits.");
  }
  if (kind === "principal") {
    const problem = typeof value === "string" ? principalProblem(value) : "principal: must be a string";
    if (problem !== undefined) return fail("principal_malformed", `${problem}.`);
  }
  if (kind === "account" && (typeof value !== "string" || !ACCOUNT_ID.test(value))) {
    return fail("account_malformed", "account: must be a 12-digit account ID, as a string.");
  }
  const reason = fields.reason;
  if (typeof reason !== "string" || reason.trim() === "" || [...reason].length > MAX_REASON_CHARS || /[\x00-\x1f\x7f]/.test(reason)) {
    return fail("reason_invalid", `reason: required, 1 to ${MAX_REASON_CHARS} characters on one line.`);
  }
  let expiresAt: string | undefined;
  if (fields.expiresAt !== undefined) {
    // A bare date is midnight UTC; a date and time must say its zone (a local time is ambiguous).
    const raw = typeof fields.expiresAt === "string" && /^\d{4}-\d\d-\d\d$/.test(fields.expiresAt) ? `${fields.expiresAt}T00:00:00Z` : fields.expiresAt;
    const parsed = Instant.safeParse(raw);
    if (!parsed.success || Number.isNaN(Date.parse(parsed.data))) {
      return fail("expires_at_malformed", "expiresAt: must be an ISO 8601 date and time with a zone, e.g. 2026-11-22T18:00:00Z or 2026-11-22.");
    }
    const at = Date.parse(parsed.data);
    if (at <= now) return fail("expires_at_past", "expiresAt: must be in the future.");
    expiresAt = new Date(at).toISOString();
  }
  return { ok: true, request: { [kind]: value as string, reason, ...(expiresAt === undefined ? {} : { expiresAt }) } as RevocationRequest };
}

/** The selector an entry carries: exactly one, by construction. */
export function selectorOf(entry: RevocationRequest): { kind: SelectorKind; value: string } {
  for (const kind of SELECTORS) {
    const value = entry[kind];
    if (value !== undefined) return { kind, value };
  }
  throw new Error("a revocation entry without a selector");
}

/** What the request path needs of an entry: its selector and expiry (epoch ms). */
export interface ActiveRevocation {
  id: string;
  kind: SelectorKind;
  value: string;
  expiresAt?: number;
}

/** What the request path needs of an entry. */
export function activeOf(entry: RevocationEntry): ActiveRevocation {
  const { kind, value } = selectorOf(entry);
  const expiresAt = entry.expiresAt === undefined ? undefined : Date.parse(entry.expiresAt);
  return { id: entry.id, kind, value, ...(expiresAt === undefined ? {} : { expiresAt }) };
}
