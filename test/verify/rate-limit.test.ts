import { describe, expect, it } from "vitest";
import { GateError } from "../../src/errors";
import { admitUpstream } from "../../src/verify/rate-limit";

function limiter(limit: (options: { key: string }) => Promise<RateLimitOutcome>) {
  const keys: string[] = [];
  return {
    keys,
    binding: { limit: (options: { key: string }) => (keys.push(options.key), limit(options)) } as RateLimit,
  };
}

describe("admitUpstream", () => {
  it("asks the limiter under the client's key and admits a client within its budget", async () => {
    const l = limiter(async () => ({ success: true }));
    await expect(admitUpstream(l.binding, "203.0.113.9")).resolves.toBeUndefined();
    expect(l.keys).toEqual(["203.0.113.9"]);
  });

  it("refuses a client over its budget: 429 rate_limited", async () => {
    const l = limiter(async () => ({ success: false }));
    const error = await admitUpstream(l.binding, "2001:db8:1:2::/64").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GateError);
    expect((error as GateError).code).toBe("rate_limited");
    expect((error as GateError).status).toBe(429);
  });

  it("lets the request through when the limiter itself fails (it guards STS, it does not authenticate)", async () => {
    const l = limiter(() => Promise.reject(new Error("limiter unavailable")));
    await expect(admitUpstream(l.binding, "203.0.113.9")).resolves.toBeUndefined();
    expect(l.keys).toHaveLength(1);
  });
});
