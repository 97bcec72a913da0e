import { GateError } from "../errors.ts";

/**
 * STS throttles per account, so a flood of junk that each cost an STS call could lock real
 * callers out: a client over its budget is refused before its token costs a KV read or an STS
 * call. The limiter guards STS; it is not a dependency of authentication, so if it fails the
 * request proceeds.
 */
export async function admitUpstream(limiter: RateLimit, key: string): Promise<void> {
  let outcome: RateLimitOutcome;
  try {
    outcome = await limiter.limit({ key });
  } catch {
    return;
  }
  if (!outcome.success) throw new GateError("rate_limited", "Too many token verifications from this client; retry later.");
}
