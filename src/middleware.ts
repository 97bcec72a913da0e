import { createMiddleware } from "hono/factory";
import { IdentityCache, type Resolved } from "./cache";
import type { GateConfig } from "./config";
import { identityFromSts, type CallerIdentity } from "./identity";
import { log, type DecisionLog } from "./log";
import { GateProblem } from "./problem";
import { exchangeWithSts } from "./sts/exchange";
import { validateAuthorization } from "./token/validate";

export interface Caller extends CallerIdentity {
  /** The policy rule that let the caller in. */
  rule: string;
  cache: Resolved["cache"];
}

export type GateVariables = { caller: Caller };

export interface GateAuthOptions {
  /** Resolves the gate's configuration for this request (usually from the Worker's env). */
  config: (env: unknown) => GateConfig;
  /** Epoch milliseconds; injectable so recorded tokens can be replayed in tests. */
  now?: () => number;
  cache?: IdentityCache;
}

/**
 * Verifies the bearer token (local rules, then STS, through the cache), applies the policy,
 * and sets `c.var.caller`. Refusals are thrown as GateProblem (an HTTPException).
 */
export function gateAuth(options: GateAuthOptions) {
  const now = options.now ?? Date.now;
  const cache = options.cache ?? new IdentityCache();
  return createMiddleware<{ Variables: GateVariables }>(async (c, next) => {
    const config = options.config(c.env);
    const entry: DecisionLog = {
      event: "decision",
      outcome: "deny",
      status: 401,
      method: c.req.method,
      path: new URL(c.req.url).pathname,
    };
    try {
      const token = validateAuthorization(c.req.header("authorization"), now());
      const resolved = await cache.resolve({
        token,
        audience: config.audience,
        kv: config.identityCache,
        now: now(),
        clock: now,
        waitUntil: (p) => waitUntil(c, p),
        verify: async () =>
          identityFromSts(
            await exchangeWithSts(token, {
              audience: config.audience,
              timeoutMs: config.stsTimeoutMs,
              fetch: (req) => (config.sts ? config.sts.fetch(req) : fetch(req)),
            }),
            token.endpoint.partition,
          ),
      });
      const { identity } = resolved;
      Object.assign(entry, {
        principal: identity.principal,
        arn: identity.arn,
        type: identity.type,
        account: identity.account,
        cache: resolved.cache,
        stsMs: resolved.stsMs,
      });
      const decision = config.policy.decide(identity);
      if (!decision.allowed) throw new GateProblem(decision.code, `Denied: ${decision.reason}.`);
      Object.assign(entry, { outcome: "allow", status: 200, rule: decision.rule });
      c.set("caller", { ...identity, rule: decision.rule, cache: resolved.cache });
    } catch (error) {
      if (error instanceof GateProblem) {
        Object.assign(entry, {
          outcome: error.status >= 500 ? "error" : "deny",
          status: error.status,
          code: error.code,
          detail: error.detail,
        });
      }
      log(entry);
      throw error;
    }
    log(entry);
    await next();
  });
}

function waitUntil(c: { executionCtx: { waitUntil(promise: Promise<unknown>): void } }, promise: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(promise);
  } catch {
    // No execution context (e.g. app.request() in a test): the promise runs on its own.
  }
}
