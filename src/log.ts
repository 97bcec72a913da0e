import type { ProblemCode } from "./errors.ts";

export type CacheSource = "memory" | "kv" | "miss";

/**
 * One line per decision, as JSON so log search can filter on any field. Built from named
 * fields only, never from a request or a token, so nothing secret can slip in.
 */
export interface DecisionLog {
  event: "decision";
  /** `warn` for a federated-user or root caller, allowed or not; `error` for outcome `error`. */
  level: "info" | "warn" | "error";
  /** `cf-ray`, or one the gate made; also the `X-Request-Id` the origin and the client get. */
  requestId: string;
  /** `public`: a public path of the app, forwarded without verification. */
  outcome: "allow" | "deny" | "error" | "public";
  /** The app that served the request (`default` for a gate without APPS); null when none did. */
  app: string | null;
  /** What the client got: the origin's status for a forwarded request. */
  status: number;
  code?: ProblemCode;
  /** Forwarded requests: the origin's status, and the time until its response headers. */
  originStatus?: number;
  originMs?: number;
  detail?: string;
  /** Why the policy denied, in full (rule names, patterns): for the operator, never the client. */
  reason?: string;
  /** Answered by one of the gate's own routes, which need no token. */
  route?: "health" | "jwks" | "preflight" | "whoami";
  /**
   * How the decision was asked for, when not by a request to be forwarded: `forward-auth` (a
   * fronting proxy's /.well-known/sts-gate/verify) or `rpc` (another Worker's `StsGate.verify`).
   */
  mode?: "forward-auth" | "rpc";
  /** The name of the policy rule that allowed. */
  rule?: string;
  /** The principal pattern in that rule that matched. */
  pattern?: string;
  accessKeyId?: string;
  principal?: string;
  arn?: string;
  type?: string;
  account?: string;
  /** An assumed-role session's role and session name; an Identity Center session's permission set and user. */
  role?: string;
  session?: string;
  permissionSet?: string;
  user?: string;
  cache?: CacheSource;
  stsMs?: number;
  /** From the gate's first sight of the request until this line. */
  totalMs: number;
  method: string;
  path: string;
  /** Misconfigured: the offending settings, by name (never their values). */
  settings?: string[];
}

export interface EventLog {
  event: "config" | "kv" | "forward" | "internal" | "metrics";
  level: "warn" | "error";
  message: string;
  code?: ProblemCode;
  [field: string]: unknown;
}

/** One line per action on the gate's admin API (src/revocation/admin-api.ts). */
export interface AdminLog {
  event: "admin";
  level: "info";
  action: "revoke" | "list" | "unrevoke";
  /** The admin's ARN, exactly as STS returned it, and the key that signed the admin's token. */
  actor: string;
  actorAccessKeyId: string;
  /** The request's id, as in its decision line and the X-Request-Id the admin got. */
  requestId?: string;
  /** The entry created or deleted (identifiers and the reason; never token material). */
  entry?: unknown;
  count?: number;
}

export function log(entry: DecisionLog | EventLog | AdminLog): void {
  console.log(JSON.stringify(entry));
}

/** What a log line may say of an unexpected error: its name only, never a message that could carry input. */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
