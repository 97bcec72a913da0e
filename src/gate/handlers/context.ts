import type { AuthorizeRequest } from "../../authorize.ts";
import type { Decision } from "../../observe/decision.ts";
import { rateLimitKey } from "../../verify/rate-limit-key.ts";
import type { Runtime } from "../runtime.ts";

/** One request as every handler sees it: parsed once, with its decision and the gate's runtime. */
export class RequestContext {
  constructor(
    readonly request: Request,
    readonly url: URL,
    readonly runtime: Runtime,
    readonly decision: Decision,
    readonly execution: ExecutionContext | undefined,
  ) {}

  /** What the verifier and the policy are given for this request. */
  authorizeRequest(extra: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
    const { request, runtime, execution } = this;
    return {
      authorization: request.headers.get("authorization"),
      method: request.method,
      path: this.url.pathname,
      clientKey: runtime.config.stsRateLimiter ? rateLimitKey(request.headers.get("cf-connecting-ip") ?? undefined) : undefined,
      waitUntil: execution ? (promise) => execution.waitUntil(promise) : undefined,
      ...extra,
    };
  }
}
