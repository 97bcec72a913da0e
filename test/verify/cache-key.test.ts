import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/digest";
import { cacheKey } from "../../src/verify/cache-key";

describe("rule cacheKeyHasAudience", () => {
  it("is id:v1: and the SHA-256 of the audience and the token, never the token", async () => {
    const token = "k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8";
    const key = await cacheKey("gate-a", token);
    expect(key).toBe(`id:v1:${await sha256Hex(`sts-gate/v1\ngate-a\n${token}`)}`);
    expect(key).toMatch(/^id:v1:[0-9a-f]{64}$/);
    expect(key).not.toContain(token.slice(11));
  });

  it("differs between audiences for one token, and between tokens for one audience", async () => {
    const a = await cacheKey("gate-a", "token-1");
    expect(await cacheKey("gate-a", "token-1")).toBe(a);
    expect(await cacheKey("gate-b", "token-1")).not.toBe(a);
    expect(await cacheKey("gate-a", "token-2")).not.toBe(a);
  });

  it("cannot be made equal by moving the boundary between audience and token", async () => {
    expect(await cacheKey("gate-a", "bc")).not.toBe(await cacheKey("gate-ab", "c"));
  });
});
