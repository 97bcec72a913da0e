import { HTTPException } from "hono/http-exception";

import { GateError, PROBLEMS, type ProblemCode } from "./errors.ts";
import { errorName, log } from "./log.ts";
import { PROBLEM_CONTENT_TYPE, problemType } from "./protocol.ts";

export { GateError, PROBLEMS, type ProblemCode };

/** How long a client should wait before retrying a 503, in seconds. */
const RETRY_AFTER_SECONDS: Partial<Record<ProblemCode, number>> = {
  rate_limited: 10,
  sts_throttled: 5,
  sts_unavailable: 2,
  sts_unreachable: 2,
  sts_timeout: 2,
  sts_redirect: 30,
  sts_bad_response: 30,
  sts_inconsistent_identity: 30,
  revocations_unavailable: 5,
};

export { PROBLEM_CONTENT_TYPE, problemType };

/**
 * A refusal, as an HTTPException so Hono apps that mount the gate's middleware
 * can handle it like any other. `detail` is written for a human and must never
 * contain token material or a secret: callers pass fixed strings or values the
 * gate has already validated.
 */
export class GateProblem extends HTTPException {
  readonly code: ProblemCode;
  readonly detail: string;

  constructor(code: ProblemCode, detail?: string, options?: { cause?: unknown }) {
    const { status, title } = PROBLEMS[code];
    super(status, { message: detail ?? title, cause: options?.cause });
    this.name = "GateProblem";
    this.code = code;
    this.detail = detail ?? title;
  }

  override getResponse(): Response {
    return problemResponse(this.code, this.detail);
  }

  /** The HTTP edge's form of a rule's refusal. */
  static from(error: GateError): GateProblem {
    return new GateProblem(error.code, error.detail, { cause: error.cause });
  }
}

/** A refusal of either form (a rule's GateError, the edge's GateProblem), or undefined. */
export function refusalOf(error: unknown): GateError | GateProblem | undefined {
  return error instanceof GateError || error instanceof GateProblem ? error : undefined;
}

/**
 * The answer to an error thrown while serving a request: a refusal's own problem+json, anything
 * else `internal_error`, logged by name under the request's id (its message could carry input).
 */
export function errorResponse(error: unknown, requestId: string): Response {
  const refusal = refusalOf(error);
  if (refusal) return problemResponse(refusal.code, refusal.detail);
  log({ event: "internal", level: "error", message: "unexpected error", error: errorName(error), requestId });
  return problemResponse("internal_error");
}

export function problemResponse(code: ProblemCode, detail?: string): Response {
  const { status, title } = PROBLEMS[code];
  const headers = new Headers({ "content-type": PROBLEM_CONTENT_TYPE, "cache-control": "no-store" });
  if (status === 401 || status === 403) headers.set("www-authenticate", wwwAuthenticate(code, status));
  const retryAfter = RETRY_AFTER_SECONDS[code];
  if (retryAfter !== undefined) headers.set("retry-after", String(retryAfter));
  const body = { type: problemType(code), title, status, detail: detail ?? title, code };
  return new Response(JSON.stringify(body), { status, headers });
}

function wwwAuthenticate(code: ProblemCode, status: 401 | 403): string {
  // RFC 6750 §3: a request with no credentials at all gets the bare challenge.
  if (code === "authorization_missing") return `Bearer realm="sts-gate"`;
  // §3.1: a valid token whose caller may not do this is `insufficient_scope`, so a fronting
  // proxy (forward-auth) or a client tells "who you are is refused" from "the token is bad".
  if (status === 403) return `Bearer error="insufficient_scope", error_description="${code}"`;
  return `Bearer error="invalid_token", error_description="${code}"`;
}
