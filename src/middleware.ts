import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { authorize, type Caller } from "./authorize.ts";
import { log } from "./log.ts";
import { ENGLISH } from "./zod-english.ts";
import { decisionFor } from "./observe/decision.ts";
import { compilePolicy, PolicySchema, type Grants, type Policy, type PolicyDocument } from "./policy/index.ts";
import { GateError } from "./errors.ts";
import { GateProblem } from "./problem.ts";
import { IdentityCache } from "./verify/isolate-cache.ts";
import { rateLimitKey } from "./verify/rate-limit-key.ts";
import { createVerifier, type Verifier, type VerifierOptions } from "./verify/verifier.ts";

export type { Caller };

export type StsAuthVariables = { caller: Caller };

/** The verifier's options (src/verify/verifier.ts), and what the middleware adds around it. */
export interface StsAuthOptions extends VerifierOptions {
  /** A policy document (`{ allow: [...] }`) or a compiled policy. */
  policy: PolicyDocument | Policy;
  /** The rate limiter's key for a request; default the client IP (`CF-Connecting-IP`), an IPv6 client's /64. */
  clientKey?: (c: Context) => string;
  /** What grants access after the guards: the policy's rules (default) or its `admins`. */
  grants?: Grants;
  /** A Workers Analytics Engine dataset: one data point per decision (docs/operations.md, "Metrics"). */
  metrics?: AnalyticsEngineDataset;
}

/** Programming errors in object options fail at construction, as Hono's own `jwt` does. */
function checkOptions(o: StsAuthOptions): void {
  if (typeof o !== "object" || o === null) throw new TypeError("stsAuth: options must be an object or a function of the context");
  if (typeof o.audience !== "string" || o.audience === "") throw new TypeError("stsAuth: audience must be a non-empty string");
  if (typeof o.policy !== "object" || o.policy === null) throw new TypeError("stsAuth: policy must be a policy document or a compiled policy");
  if (o.timeoutMs !== undefined && !(Number.isInteger(o.timeoutMs) && o.timeoutMs > 0)) throw new TypeError("stsAuth: timeoutMs must be a positive integer");
}

/**
 * The Hono adapter of the one verifier (src/verify/verifier.ts): verifies the bearer token,
 * applies the policy to the request, logs the decision and sets `c.var.caller`. Refusals are
 * thrown as GateProblem, an HTTPException whose response is the problem+json body. Writes one
 * decision line per request (and a data point to `metrics`): for a refusal before throwing it,
 * otherwise when the rest of the app has answered, with the status the client got.
 *
 * `options` may be a function of the context, for values that come from bindings.
 */
export function stsAuth(options: StsAuthOptions | ((c: Context) => StsAuthOptions)) {
  if (typeof options !== "function") checkOptions(options);
  const fallbackCache = (typeof options === "object" ? options.cache : undefined) ?? new IdentityCache();
  const fixed = typeof options === "object" ? verifierFor(options, fallbackCache) : undefined;
  const verify = createMiddleware<{ Variables: StsAuthVariables }>(async (c, next) => {
    const o = typeof options === "function" ? options(c) : options;
    const record = decisionFor(c);
    record.sink = { metrics: o.metrics, audience: o.audience };
    const policy = toPolicy(o.policy);
    try {
      const caller = await authorize(
        fixed ?? verifierFor(o, fallbackCache),
        policy,
        {
          authorization: c.req.header("authorization"),
          method: c.req.method,
          path: new URL(c.req.url).pathname,
          grants: o.grants,
          clientKey: o.rateLimiter ? (o.clientKey ?? clientKey)(c) : undefined,
          waitUntil: (p) => waitUntil(c, p),
        },
        record,
      );
      c.set("caller", caller);
    } catch (error) {
      throw record.refused(asProblem(error));
    }
    await next();
    record.answered(c);
  });
  return createMiddleware<{ Variables: StsAuthVariables }>(async (c, next) => {
    try {
      await verify(c, next);
    } catch (error) {
      // Thrown before the line was written (the options or the policy): still one line.
      throw decisionFor(c).refused(asProblem(error));
    }
  });
}

function verifierFor(o: StsAuthOptions, fallbackCache: IdentityCache): Verifier {
  return createVerifier({
    audience: o.audience,
    kv: o.kv,
    sts: o.sts,
    timeoutMs: o.timeoutMs,
    now: o.now,
    cache: o.cache ?? fallbackCache,
    rateLimiter: o.rateLimiter,
    revocations: o.revocations,
  });
}

/** The HTTP edge: a rule's plain GateError becomes the problem+json HTTPException. */
function asProblem(error: unknown): unknown {
  return error instanceof GateError ? GateProblem.from(error) : error;
}

function clientKey(c: Context): string {
  return rateLimitKey(c.req.header("cf-connecting-ip"));
}

const compiled = new WeakMap<object, Policy>();

function toPolicy(policy: PolicyDocument | Policy): Policy {
  if ("decide" in policy && typeof policy.decide === "function") return policy;
  let p = compiled.get(policy);
  if (p === undefined) {
    const parsed = PolicySchema.safeParse(policy, ENGLISH);
    if (!parsed.success) {
      // An app's own policy document: fail closed, and say where it is wrong in the log.
      for (const issue of parsed.error.issues) {
        log({ event: "config", level: "error", message: `policy.${issue.path.join(".")}: ${issue.message}`, code: "misconfigured" });
      }
      throw new GateProblem("misconfigured", "The policy passed to stsAuth is invalid; the logs name the field.");
    }
    p = compilePolicy(parsed.data);
    compiled.set(policy, p);
  }
  return p;
}

function waitUntil(c: Context, promise: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(promise);
  } catch {
    // No execution context (e.g. app.request() in a test): the promise runs on its own.
  }
}
