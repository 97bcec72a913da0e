import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { cacheKey, IdentityCache, type Resolved } from "./cache.ts";
import { denialDetail } from "./denial.ts";
import { identityFromSts, type CallerIdentity } from "./identity.ts";
import { log } from "./log.ts";
import { decisionFor } from "./observe/decision.ts";
import { compilePolicy, PolicySchema, type Grants, type Policy, type PolicyDecision, type PolicyDocument } from "./policy.ts";
import { GateProblem } from "./problem.ts";
import type { RevocationFacts } from "./revocation/match.ts";
import { DEFAULT_STS_TIMEOUT_MS, exchangeWithSts } from "./sts/exchange.ts";
import { rateLimitKey } from "./rate-limit-key.ts";
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
   * Limits upstream-bound verifications per client (a Workers rate-limiting binding). Only a
   * token not in this isolate's memory is counted, before its KV read: isolate-cache hits and
   * local rejections are free.
   */
  rateLimiter?: RateLimit;
  /** The rate limiter's key for a request; default the client IP (`CF-Connecting-IP`), an IPv6 client's /64. */
  clientKey?: (c: Context) => string;
  /**
   * Revocations, checked on every request (src/revocation/): the token's access key before any
   * KV read or STS call, then the resolved identity, from memory, KV or STS alike.
   */
  revocations?: { check(facts: RevocationFacts): Promise<void> };
  /** What grants access after the guards: the policy's rules (default) or its `admins`. */
  grants?: Grants;
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
    const resolve = async (tokenText: string, key: string): Promise<Resolved> => {
      const token = validateToken(tokenText, now());
      // Rule `revocationBeforeSts`: the key is in the token's credential scope, so a revoked key
      // costs no KV read and no STS call.
      record.keyed(token.accessKeyId);
      await o.revocations?.check({ accessKeyId: token.accessKeyId });
      const sts = o.sts;
      return cache.resolve({
        key,
        token,
        audience: o.audience,
        kv: o.kv,
        now: now(),
        clock: now,
        waitUntil: (p) => waitUntil(c, p),
        beforeUpstream: o.rateLimiter ? () => admitUpstream(o.rateLimiter!, (o.clientKey ?? clientKey)(c)) : undefined,
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
      // Rule `revocationEveryRequest`: a memory or KV hit is checked like a fresh answer.
      await o.revocations?.check({ accessKeyId: resolved.accessKeyId, identity });
      const decision = o.grants === "admins" ? decideAdmin(policy, identity) : policy.decide(identity, { method: c.req.method, path });
      if (!decision.allowed) {
        record.reason(decision.reason);
        throw new GateProblem(decision.code, denialDetail(identity, { method: c.req.method, path }));
      }
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
 * callers out; a client over its budget is refused before its token costs a KV read or an STS call.
 */
async function admitUpstream(limiter: RateLimit, key: string): Promise<void> {
  let outcome: RateLimitOutcome;
  try {
    outcome = await limiter.limit({ key });
  } catch {
    // The limiter is a guard for STS, not a dependency: if it fails, the request proceeds.
    return;
  }
  if (!outcome.success) throw new GateProblem("rate_limited", "Too many token verifications from this client; retry later.");
}

function clientKey(c: Context): string {
  return rateLimitKey(c.req.header("cf-connecting-ip"));
}

/** A compiled policy of this package knows its admins; any other policy has none. */
function decideAdmin(policy: Policy, identity: CallerIdentity): PolicyDecision {
  const p = policy as Policy & { decideAdmin?: (identity: CallerIdentity) => PolicyDecision };
  return typeof p.decideAdmin === "function" ? p.decideAdmin(identity) : { allowed: false, code: "not_admin", reason: "the policy has no admins" };
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
