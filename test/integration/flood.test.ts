import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { createStsEmulator, type EmulatorIdentity } from "../emulator/sts";
import { through } from "../support/gate";
import { encodeToken, mintToken, presignWith, TEST_AUDIENCE } from "../support/tokens";

/**
 * 500 concurrent requests through one gate (one isolate's caches): 50 valid tokens of 50
 * different identities, each sent several times, mixed with junk and with tokens STS refuses.
 */

const USERS: EmulatorIdentity[] = Array.from({ length: 50 }, (_, i) => {
  const n = String(i).padStart(2, "0");
  return {
    name: `flood-${n}`,
    accessKeyId: `AKIAFLOODUSER000${n}`,
    secretAccessKey: `flood/secret/${n}/0000000000000000000000000`,
    arn: `arn:aws:iam::111122223333:user/flood-${n}`,
    userId: `AIDAFLOODUSER0000${n}`,
  };
});

async function tokenFor(who: EmulatorIdentity, audience = TEST_AUDIENCE): Promise<string> {
  return encodeToken(await presignWith(who, { audience, at: Date.now() - 5000 }));
}

describe("a flood of mixed tokens", () => {
  it("answers each request with its own identity, one STS call per valid token, none for junk", async () => {
    const calls = new Map<string, number>();
    const emulator = createStsEmulator({
      identities: USERS,
      onCall: ({ signature }) => calls.set(signature, (calls.get(signature) ?? 0) + 1),
    });
    const sts = { fetch: (input: RequestInfo | URL, init?: RequestInit) => emulator.fetch(new Request(input, init)) } as unknown as Fetcher;
    const testEnv = { ...env, STS: sts, POLICY: { allow: ["arn:aws:iam::111122223333:user/flood-*"] } };
    const app = createGateApp();

    const valid = await Promise.all(USERS.map(async (who) => ({ who, token: await tokenFor(who) })));
    const refused = await Promise.all(USERS.slice(0, 10).map((who) => tokenFor(who, "another-audience")));
    const junk = [
      ...Array.from({ length: 20 }, (_, i) => `k8s-aws-v1.${"QUFB".repeat(i + 1)}`),
      ...(await Promise.all(Array.from({ length: 10 }, async () => (await mintToken("alice")).replace("k8s-aws-v1.", "k8s-aws-v2.")))),
    ];

    type Sent = { kind: "valid"; who: EmulatorIdentity } | { kind: "refused" } | { kind: "junk" };
    const plan: Array<{ token: string; expect: Sent }> = [];
    let nextValid = 0;
    let nextJunk = 0;
    let nextRefused = 0;
    for (let i = 0; i < 500; i++) {
      const r = i % 10;
      if (r < 7) {
        // 350 requests: each of the 50 valid tokens seven times, interleaved.
        const v = valid[nextValid++ % valid.length]!;
        plan.push({ token: v.token, expect: { kind: "valid", who: v.who } });
      } else if (r < 9) {
        plan.push({ token: junk[nextJunk++ % junk.length]!, expect: { kind: "junk" } });
      } else {
        plan.push({ token: refused[nextRefused++ % refused.length]!, expect: { kind: "refused" } });
      }
    }

    const results = await Promise.all(
      plan.map(async ({ token }) => {
        const res = await through(app, testEnv, new Request("https://localhost/flood", { headers: { authorization: `Bearer ${token}` } }));
        return { status: res.status, body: (await res.json()) as { headers?: Record<string, string>; code?: string } };
      }),
    );

    results.forEach((result, i) => {
      const expected = plan[i]!.expect;
      if (expected.kind === "valid") {
        expect(result.status).toBe(200);
        expect(result.body.headers?.["x-caller-arn"]).toBe(expected.who.arn);
        expect(result.body.headers?.["x-caller-user-id"]).toBe(expected.who.userId);
      } else if (expected.kind === "refused") {
        expect(result.status).toBe(401);
        expect(result.body.code).toBe("sts_refused");
      } else {
        expect(result.status).toBe(401);
        expect(result.body.code).not.toBe("sts_refused");
      }
    });

    const sig = (token: string) => /X-Amz-Signature=([0-9a-f]{64})/.exec(atob(token.slice(11).replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - ((token.length - 11) % 4)) % 4)))![1]!;
    for (const { token } of valid) expect(calls.get(sig(token))).toBe(1);
    for (const token of refused) expect(calls.get(sig(token))).toBe(1);
    // Junk never reaches STS: every call the emulator saw belongs to a valid or refused token.
    const known = new Set([...valid.map((v) => sig(v.token)), ...refused.map(sig)]);
    for (const signature of calls.keys()) expect(known.has(signature)).toBe(true);
  });
});
