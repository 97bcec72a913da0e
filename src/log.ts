import type { ProblemCode } from "./problem.ts";

export type CacheSource = "memory" | "kv" | "miss";

/**
 * One line per decision, as JSON so log search can filter on any field. Built from named
 * fields only, never from a request or a token, so nothing secret can slip in.
 */
export interface DecisionLog {
  event: "decision";
  outcome: "allow" | "deny" | "error";
  status: number;
  code?: ProblemCode;
  detail?: string;
  /** Why the policy denied, in full (rule names, patterns): for the operator, never the client. */
  reason?: string;
  /** The name of the policy rule that allowed. */
  rule?: string;
  /** The principal pattern in that rule that matched. */
  pattern?: string;
  accessKeyId?: string;
  principal?: string;
  arn?: string;
  type?: string;
  account?: string;
  cache?: CacheSource;
  stsMs?: number;
  method: string;
  path: string;
}

export interface EventLog {
  event: "config" | "kv" | "forward" | "internal";
  level: "warn" | "error";
  message: string;
  code?: ProblemCode;
  [field: string]: unknown;
}

export function log(entry: DecisionLog | EventLog): void {
  console.log(JSON.stringify(entry));
}
