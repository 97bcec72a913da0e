import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { GateError } from "../../src/errors";
import { IdentityCache } from "../../src/verify/isolate-cache";
import { createVerifier } from "../../src/verify/verifier";
import { stsCallsFor } from "../support/emulator";
import { mintToken, TEST_AUDIENCE } from "../support/tokens";

/** The one verifier without any framework: what callers who are not on Hono use. */
describe("createVerifier", () => {
  const verifier = () => createVerifier({ audience: TEST_AUDIENCE, sts: env.STS, cache: new IdentityCache() });

  it("verifies a token at STS once, then from the isolate's memory", async () => {
    const v = verifier();
    const token = await mintToken("alice");
    const first = await v.verify(`Bearer ${token}`);
    expect(first).toMatchObject({ cache: "miss", accessKeyId: "AKIAEMULATORALICE001", identity: { arn: "arn:aws:iam::111122223333:user/alice", type: "user" } });
    const second = await v.verify(`Bearer ${token}`);
    expect(second.cache).toBe("memory");
    expect(await stsCallsFor(token)).toBe(1);
  });

  it("refuses with a plain GateError carrying the first failing rule's code, before any STS call", async () => {
    const v = verifier();
    await expect(v.verify(undefined)).rejects.toMatchObject({ code: "authorization_missing" });
    const refusal = await v.verify("Bearer k8s-aws-v1.!!").catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(GateError);
    expect((refusal as GateError).code).toBe("token_encoding");
  });

  it("reports the access key as soon as the local rules pass, even when a later step refuses", async () => {
    const trace: { accessKeyId?: string } = {};
    const v = createVerifier({ audience: TEST_AUDIENCE, sts: env.STS, revocations: { check: async () => Promise.reject(new GateError("revoked")) } });
    await expect(v.verify(`Bearer ${await mintToken("alice")}`, { trace })).rejects.toMatchObject({ code: "revoked" });
    expect(trace.accessKeyId).toBe("AKIAEMULATORALICE001");
  });

  it("refuses to be built without an audience", () => {
    expect(() => createVerifier({ audience: "" })).toThrow(TypeError);
  });
});
