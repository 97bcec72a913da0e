import { describe, expect, it } from "vitest";
import { validateToken } from "../../src/token/validate";
import { readIdentity } from "../../src/verify/kv-store";
import { encodeToken, presignUrl } from "../support/tokens";

/**
 * The KV entry is another isolate's word, read back from storage anyone with the namespace can
 * write: it is re-checked like a fresh STS answer, and it counts only for the very token it was
 * stored for, never past that token's own expiry.
 */
const SIGNED_AT = Date.UTC(2026, 10, 22, 12, 0, 0);
const NOW = SIGNED_AT + 60_000;

async function aliceToken() {
  return validateToken(encodeToken(await presignUrl("alice", { at: SIGNED_AT })), NOW);
}

const ALICE = { arn: "arn:aws:iam::111122223333:user/alice", account: "111122223333", userId: "AIDAEMULATORALICE0001" };

/** A KV namespace holding one entry under every key. */
const holding = (entry: unknown) => ({ get: async () => entry }) as unknown as KVNamespace;

describe("readIdentity (the KV entry)", () => {
  it("returns the stored identity for the token it was stored for", async () => {
    const token = await aliceToken();
    const identity = await readIdentity(holding({ ...ALICE, expiresAt: token.expiresAt }), "k", token, NOW);
    expect(identity).toMatchObject({ arn: ALICE.arn, account: ALICE.account, principal: ALICE.arn, type: "user" });
  });

  it("re-checks the entry as it would STS's answer: an account that is not the ARN's is a miss", async () => {
    const token = await aliceToken();
    expect(await readIdentity(holding({ ...ALICE, account: "999999999999", expiresAt: token.expiresAt }), "k", token, NOW)).toBeUndefined();
  });

  it("ignores an entry stored with another expiry than the token's own", async () => {
    const token = await aliceToken();
    expect(await readIdentity(holding({ ...ALICE, expiresAt: token.expiresAt + 3_600_000 }), "k", token, NOW)).toBeUndefined();
  });

  it("ignores the entry once the token has expired, whatever KV still holds", async () => {
    const token = await aliceToken();
    const entry = holding({ ...ALICE, expiresAt: token.expiresAt });
    expect(await readIdentity(entry, "k", token, token.expiresAt - 1)).toBeDefined();
    expect(await readIdentity(entry, "k", token, token.expiresAt)).toBeUndefined();
  });
});
