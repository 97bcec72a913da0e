import type { Context } from "hono";
import type { Resolved } from "../verify/isolate-cache.ts";
import { log, type DecisionLog } from "../log.ts";
import { ADMINS_RULE } from "../policy/evaluate.ts";
import { refusalOf } from "../problem.ts";
import { writeDecisionPoint, type MetricsSink } from "./metrics.ts";

/** Joins the gate's line, the origin's logs and the client's report of one request. */
export const REQUEST_ID_HEADER = "X-Request-Id";

// cf-ray is set by Cloudflare's edge; anything else in that header (only possible off the edge,
// e.g. `wrangler dev`) is replaced rather than echoed into logs and headers.
const CF_RAY = /^[0-9A-Za-z-]{1,64}$/;

/** The request's id: Cloudflare's `cf-ray` when present, else a fresh UUID. */
export function requestIdFrom(headers: Headers): string {
  const ray = headers.get("cf-ray");
  return ray !== null && CF_RAY.test(ray) ? ray : crypto.randomUUID();
}

/** Principal types whose every appearance an operator wants to see (SECURITY.md, detection). */
const WATCHED_TYPES = new Set(["federated-user", "root"]);

/** What the client got, from which the outcome and code follow. */
export interface Ending {
  status: number;
  /** The refusal or failure, if the request ended in one. */
  error?: unknown;
  /** Misconfigured: the offending settings, by name. */
  settings?: string[];
}

type Identified = Pick<
  DecisionLog,
  "accessKeyId" | "principal" | "arn" | "type" | "account" | "role" | "session" | "permissionSet" | "user" | "cache" | "stsMs"
>;

/**
 * One request's decision, filled in as the request goes and written exactly once: when the
 * outcome is known (a refusal, or the origin's response headers), as a log line and a data point.
 */
export class Decision {
  readonly requestId: string;
  private readonly started = Date.now();
  private identity: Identified = {};
  private allowed: Pick<DecisionLog, "rule" | "pattern"> | undefined;
  private origin: Pick<DecisionLog, "originStatus" | "originMs"> = {};
  /** Why the policy denied, in full: for the operator's log, never for the client. */
  private denialReason: string | undefined;
  /** One of the gate's own routes that needs no token (health, the JWKS, a preflight). */
  private ownRoute: DecisionLog["route"];
  /** A public path, forwarded without verification. */
  private isPublic = false;
  /** The app that serves the request, once known; null when none does. */
  app: string | null = null;
  /** Forward-auth or RPC: decided for another party, nothing forwarded. */
  mode: DecisionLog["mode"];
  private written = false;
  /** Where the data point goes, once known; none before (or without) a dataset. */
  sink: MetricsSink | undefined;
  /** LOG_ALLOWED: false drops the line (never the data point) of an allowed or public request at `info`. */
  logAllowed = true;

  constructor(
    requestId: string,
    private method: string,
    private path: string,
  ) {
    this.requestId = requestId;
  }

  /** Forward-auth: the line names the request decided on (the fronting proxy's), not the gate's own path. */
  decidedOn(method: string, path: string): void {
    this.method = method;
    this.path = path;
  }

  identified(resolved: Resolved): void {
    const { identity } = resolved;
    this.identity = {
      accessKeyId: resolved.accessKeyId,
      principal: identity.principal,
      arn: identity.arn,
      type: identity.type,
      account: identity.account,
      // Present only when the fact exists, as at the origin.
      ...(identity.role !== undefined && { role: identity.role }),
      ...(identity.session !== undefined && { session: identity.session }),
      ...(identity.permissionSet !== undefined && { permissionSet: identity.permissionSet }),
      ...(identity.user !== undefined && { user: identity.user }),
      cache: resolved.cache,
      stsMs: resolved.stsMs,
    };
  }

  /** The token's access key, known once the local rules passed: even a refusal after that names it. */
  keyed(accessKeyId: string): void {
    this.identity = { ...this.identity, accessKeyId };
  }

  reason(reason: string): void {
    this.denialReason = reason;
  }

  /** Served by one of the gate's own routes rather than decided by the policy. */
  served(route: NonNullable<DecisionLog["route"]>): void {
    this.ownRoute = route;
  }

  /** Forwarded without verification: a public path of the app. */
  public(): void {
    this.isPublic = true;
  }

  allow(rule: string, pattern: string | undefined): void {
    this.allowed = { rule, pattern };
  }

  /** Times the call to the origin and keeps its status; a failure keeps the time only. */
  async forward(send: () => Promise<Response>): Promise<Response> {
    const started = Date.now();
    try {
      const response = await send();
      this.origin = { originStatus: response.status, originMs: Date.now() - started };
      return response;
    } catch (error) {
      this.origin = { originMs: Date.now() - started };
      throw error;
    }
  }

  /** A refusal or failure thrown before the app answered; returns it, to be rethrown. */
  refused(error: unknown): unknown {
    this.finish({ status: refusalOf(error)?.status ?? 500, error });
    return error;
  }

  /** The app answered (or its onError did): the status and error the client's answer came from. */
  answered(c: Context): void {
    this.finish({ status: c.res.status, error: c.error });
  }

  /** Writes the line and the data point; later calls do nothing, so each request has one. */
  finish(ending: Ending): void {
    if (this.written) return;
    this.written = true;
    const verdict = this.verdict(ending);
    const logged = this.logAllowed || !isQuietable({ ...verdict, status: ending.status, route: this.ownRoute, rule: this.allowed?.rule });
    const counted = this.sink?.metrics !== undefined;
    // A line nobody reads is not built: at high volume, building and writing it is most of a hit.
    if (!logged && !counted) return;
    const line = this.line(ending, verdict);
    if (logged) log(line);
    if (counted) writeDecisionPoint(this.sink!, line);
  }

  private verdict({ status, error }: Ending): Verdict {
    let outcome: DecisionLog["outcome"];
    let code: DecisionLog["code"];
    let detail: string | undefined;
    const refusal = refusalOf(error);
    if (refusal) {
      code = refusal.code;
      detail = refusal.detail;
      outcome = refusal.status >= 500 ? "error" : "deny";
    } else if (error !== undefined && status >= 500) {
      // Not a refusal the gate chose: a bug, reported as what the client got.
      code = "internal_error";
      outcome = "error";
    } else {
      // The gate's own route failing (health's 503) is an error, not a denial of the caller.
      outcome = this.ownRoute !== undefined && status >= 500 ? "error" : this.isPublic ? "public" : this.allowed || this.ownRoute ? "allow" : "deny";
    }
    const level = outcome === "error" ? "error" : WATCHED_TYPES.has(this.identity.type ?? "") ? "warn" : "info";
    return { outcome, level, code, detail };
  }

  private line({ status, settings }: Ending, { outcome, level, code, detail }: Verdict): DecisionLog {
    return {
      event: "decision",
      level,
      requestId: this.requestId,
      app: this.app,
      mode: this.mode,
      outcome,
      code,
      status,
      ...this.origin,
      ...this.identity,
      route: this.ownRoute,
      rule: this.allowed?.rule,
      pattern: this.allowed?.pattern,
      totalMs: Date.now() - this.started,
      method: this.method,
      path: this.path,
      detail,
      reason: this.denialReason,
      settings,
    };
  }
}

type Verdict = Pick<DecisionLog, "outcome" | "level" | "code" | "detail">;

/** What decides whether a line may be dropped. */
export type QuietFacts = Pick<DecisionLog, "outcome" | "level" | "status" | "route" | "rule">;

/**
 * Rule `allowLinesSwitch`: the lines LOG_ALLOWED="false" drops. Only an `info` allow or public
 * line that the client got below 500: a denial, an error, any request of a root or
 * federated-user caller (`warn`), an origin's 5xx, whoami (it answers any valid token, the policy
 * aside, so a leaked key tried there always leaves a line) and an admin's request (part of the
 * revocation API's audit trail, beside its `admin` line) are always written.
 */
export function isQuietable({ outcome, level, status, route, rule }: QuietFacts): boolean {
  if (level !== "info" || status >= 500) return false;
  if (route === "whoami" || rule === ADMINS_RULE) return false;
  return outcome === "allow" || outcome === "public";
}

const decisions = new WeakMap<Context, Decision>();

/**
 * The request's decision, begun by whichever of the gate and stsAuth sees the request first.
 * Sets X-Request-Id on whatever response the app ends with: Hono copies the headers of a
 * response already on the context onto the one a handler or onError returns.
 */
export function decisionFor(c: Context): Decision {
  let decision = decisions.get(c);
  if (decision === undefined) {
    decision = new Decision(requestIdFrom(c.req.raw.headers), c.req.method, new URL(c.req.url).pathname);
    decisions.set(c, decision);
    void c.res;
    c.header(REQUEST_ID_HEADER, decision.requestId);
  }
  return decision;
}
