import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Problem } from "../support/gate";
import { stsCallsFor } from "../support/emulator";
import { mintToken, TEST_AUDIENCE } from "../support/tokens";

/** The README's "Common mistakes", each through the Worker: the answer says what went wrong. */
async function send(authorization: string | undefined) {
  const headers: HeadersInit = authorization === undefined ? {} : { authorization };
  const res = await exports.default.fetch("https://localhost/mistakes", { headers });
  return { res, body: (await res.json()) as Problem & { caller?: { arn: string } } };
}

describe("callers' mistakes, explained by the answer", () => {
  it.each(["bearer", "BEARER"])("accepts the scheme written %s (RFC 9110: it is case-insensitive)", async (scheme) => {
    const { res, body } = await send(`${scheme} ${await mintToken("alice")}`);
    expect(res.status).toBe(200);
    expect(body.caller?.arn).toBe("arn:aws:iam::111122223333:user/alice");
  });

  it.each([
    ["Bearer and nothing else", "Bearer"],
    ["Bearer and a space (an empty $TOKEN)", "Bearer "],
    ["lower-case bearer and spaces", "bearer   "],
  ])("refuses %s as 401 token_missing, not a malformed scheme", async (_why, header) => {
    const { res, body } = await send(header);
    expect(res.status).toBe(401);
    expect(body.code).toBe("token_missing");
    expect(body.detail).toMatch(/no token/);
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token", error_description="token_missing"');
  });

  it("still refuses another scheme as authorization_malformed", async () => {
    const { res, body } = await send(`Basic ${btoa("alice:pw")}`);
    expect(res.status).toBe(401);
    expect(body.code).toBe("authorization_malformed");
  });

  it("a token minted for another audience: sts_refused names the likely cause and this gate's audience", async () => {
    const token = await mintToken("alice", { audience: "payments-api-prod" });
    const { res, body } = await send(`Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(body.code).toBe("sts_refused");
    expect(body.detail).toContain("SignatureDoesNotMatch");
    expect(body.detail).toContain("most common cause is a token minted for another audience");
    expect(body.detail).toContain(`this gate's audience is ${TEST_AUDIENCE}`);
    // The remembered refusal says the same, without asking STS again.
    expect((await send(`Bearer ${token}`)).body.detail).toBe(body.detail);
    expect(await stsCallsFor(token)).toBe(1);
  });

  it("other STS refusals do not blame the audience", async () => {
    // An unknown key: InvalidClientTokenId, whatever the audience.
    const { encodeToken, presignWith } = await import("../support/tokens");
    const url = await presignWith({ accessKeyId: "AKIAUNKNOWNKEY000002", secretAccessKey: "not-a-real-secret" }, { audience: TEST_AUDIENCE, at: Date.now() });
    const { body } = await send(`Bearer ${encodeToken(url)}`);
    expect(body.code).toBe("sts_refused");
    expect(body.detail).toBe("STS refused the token (InvalidClientTokenId).");
  });
});
