import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { cacheKey, IdentityCache, type Resolved } from "./cache.ts";
import { identityFromSts, type CallerIdentity } from "./identity.ts";
import { log } from "./log.ts";
import { decisionFor } from "./observe/decision.ts";
import { compilePolicy, PolicySchema, type Policy, type PolicyDocument } from "./policy.ts";
import { GateProblem } from "./problem.ts";
import { DEFAULT_STS_TIMEOUT_MS, exchangeWithSts } from "./sts/exchange.ts";
import { bearerToken } from "./token/bearer.ts";
import { validateToken } from "./token/validate.ts";

export interface Caller extends CallerIdentity {
  /** The policy rule that let the caller in. */
  rule: string;
  cache: Resolved["cache"];
  /** The access key that signed the token, as CloudTrail's userIdentity.accessKeyId shows it. */
  accessKeyId: string;
}

export type StsAuthVariables = { caller: Caller };

export interface StsAuthOptions {
  /** This service's audience: the `x-k8s-aws-id` value tokens must be signed for. */
  audience: string;
  /** A policy document (`{ allow: [...] }`) or a compiled policy. */
  policy: PolicyDocument | Policy;
  /** Shares verified identities across isolates; omit for memory only. */
  kv?: KVNamespace;
  /** How to reach STS; defaults to the network. Tests and `wrangler dev` pass the emulator. */
  sts?: Fetcher | ((request: Request) => Promise<Response>);
  /** Deadline for the STS exchange; default 5000 ms. */
  timeoutMs?: number;
  /** Epoch milliseconds; injectable so recorded tokens can be replayed in tests. */
  now?: () => number;
  /** The in-isolate cache; by default one per middleware instance. */
  cache?: IdentityCache;
  /**
   * Limits STS-bound verifications per client (a Workers rate-limiting binding). Only a token
   * that would cost an STS call is counted: cache hits and local rejections are free.
   */
  rateLimiter?: RateLimit;
  /** The rate limiter's key for a request; default the client IP (`CF-Connecting-IP`). */
  clientKey?: (c: Context) => string;
  /** A Workers Analytics Engine dataset: one data point per decision (README, "Metrics"). */
  metrics?: AnalyticsEngineDataset;
}

/**
 * Verifies the bearer token (local rules, then STS through the cache), applies the policy
 * to the request, and sets `c.var.caller`. Refusals are thrown as GateProblem, an
 * HTTPException whose response is the problem+json body. Writes one decision line per request
 * (and a data point to `metrics`): for a refusal before throwing it, otherwise when the rest
 * of the app has answered, with the status the client got.
 *
 * `options` may be a function of the context, for values that come from bindings.
 */
export function stsAuth(options: StsAuthOptions | ((c: Context) => StsAuthOptions)) {
  const fallbackCache = (typeof options === "object" ? options.cache : undefined) ?? new IdentityCache();
  const verify = createMiddleware<{ Variables: StsAuthVariables }>(async (c, next) => {
    const o = typeof options === "function" ? options(c) : options;
    const record = decisionFor(c);
    record.sink = { metrics: o.metrics, audience: o.audience };
    const now = o.now ?? Date.now;
    const cache = o.cache ?? fallbackCache;
    const policy = toPolicy(o.policy);
    const path = new URL(c.req.url).pathname;
    // Everything a token not in this isolate's memory goes through: the local rules, then KV,
    // then STS (once per token, however many requests carry it).
    const resolve = (tokenText: string, key: string): Promise<Resolved> => {
      const token = validateToken(tokenText, now());
      const sts = o.sts;
      return cache.resolve({
        key,
        token,
        audience: o.audience,
        kv: o.kv,
        now: now(),
        clock: now,
        waitUntil: (p) => waitUntil(c, p),
        beforeSts: o.rateLimiter ? () => admitStsCall(o.rateLimiter!, (o.clientKey ?? clientIp)(c)) : undefined,
        verify: async () =>
          identityFromSts(
            await exchangeWithSts(token, {
              audience: o.audience,
              timeoutMs: o.timeoutMs ?? DEFAULT_STS_TIMEOUT_MS,
              fetch: sts === undefined ? (req) => fetch(req) : typeof sts === "function" ? sts : (req) => sts.fetch(req),
            }),
            token.endpoint.partition,
          ),
      });
    };
    try {
      const tokenText = bearerToken(c.req.header("authorization"));
      const key = await cacheKey(o.audience, tokenText);
      const remembered = cache.remembered(key, now());
      const resolved: Resolved = remembered ? { ...remembered, cache: "memory" } : await resolve(tokenText, key);
      const { identity } = resolved;
      record.identified(resolved);
      const decision = policy.decide(identity, { method: c.req.method, path });
      if (!decision.allowed) throw new GateProblem(decision.code, `Denied: ${decision.reason}.`);
      record.allow(decision.rule, decision.pattern);
      c.set("caller", { ...identity, rule: decision.rule, cache: resolved.cache, accessKeyId: resolved.accessKeyId });
    } catch (error) {
      throw record.refused(error);
    }
    await next();
    record.answered(c);
  });
  return createMiddleware<{ Variables: StsAuthVariables }>(async (c, next) => {
    try {
      await verify(c, next);
    } catch (error) {
      // Thrown before the line was written (the options or the policy): still one line.
      throw decisionFor(c).refused(error);
    }
  });
}

/**
 * STS throttles per account, so a flood of junk that each cost an STS call could lock real
 * callers out; a client over its budget is refused before the call.
 */
async function admitStsCall(limiter: RateLimit, key: string): Promise<void> {
  let outcome: RateLimitOutcome;
  try {
    outcome = await limiter.limit({ key });
  } catch {
    // The limiter is a guard for STS, not a dependency: if it fails, the request proceeds.
    return;
  }
  if (!outcome.success) throw new GateProblem("rate_limited", "Too many token verifications from this client; retry later.");
}

function clientIp(c: Context): string {
  return c.req.header("cf-connecting-ip") ?? "unknown";
}

const compiled = new WeakMap<object, Policy>();

function toPolicy(policy: PolicyDocument | Policy): Policy {
  if ("decide" in policy && typeof policy.decide === "function") return policy;
  let p = compiled.get(policy);
  if (p === undefined) {
    const parsed = PolicySchema.safeParse(policy);
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
