import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import fixtures from "../fixtures/aws-cli-tokens.json";
import { through, type Echo } from "../support/gate";
import { emulatorAt, stsCallsFor } from "../support/emulator";
import { mintSmithyToken } from "../support/smithy";
import { bearer, mintToken } from "../support/tokens";

async function call(token: string, path = "/whoami"): Promise<Response> {
  return exports.default.fetch(`https://localhost${path}`, { headers: bearer(token) });
}

describe("tokens the gate accepts", () => {
  it("admits a token from aws4fetch and forwards the caller's identity", async () => {
    const token = await mintToken("alice");
    const res = await call(token);
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.headers).toMatchObject({
      "x-caller-arn": "arn:aws:iam::111122223333:user/alice",
      "x-caller-principal": "arn:aws:iam::111122223333:user/alice",
      "x-caller-account": "111122223333",
      "x-caller-user-id": "AIDAEMULATORALICE0001",
      "x-caller-type": "user",
    });
    expect(await stsCallsFor(token)).toBe(1);
  });

  it("admits an assumed-role session with a session token, as its role", async () => {
    const res = await call(await mintToken("deployer", { region: "eu-west-1" }));
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.headers["x-caller-arn"]).toBe("arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42");
    expect(echo.headers["x-caller-principal"]).toBe("arn:aws:iam::111122223333:role/deployer");
    expect(echo.headers["x-caller-type"]).toBe("assumed-role");
  });

  it("admits tokens for the global endpoint, signed for us-east-1", async () => {
    const res = await call(await mintToken("deployer", { host: "sts.amazonaws.com", region: "us-east-1" }));
    expect(res.status).toBe(200);
  });

  it("admits a token from the AWS SDK's own signer (@smithy/signature-v4)", async () => {
    const token = await mintSmithyToken("alice", { region: "us-west-2", at: Date.now() - 2000 });
    const res = await call(token);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Echo).headers["x-caller-arn"]).toBe("arn:aws:iam::111122223333:user/alice");
  });

  it("admits a session-token identity signed by the AWS SDK's signer", async () => {
    const res = await call(await mintSmithyToken("deployer", { region: "ap-southeast-2", at: Date.now() - 3000 }));
    expect(res.status).toBe(200);
  });

  describe.each(fixtures.tokens)("aws eks get-token ($name, recorded)", (fixture) => {
    const signedAt = Date.parse(fixture.signedAt);

    /** The gate and an emulator whose clocks both read `now`, as if it were that moment. */
    async function presentAt(now: number) {
      const sts = emulatorAt(now);
      const res = await through(createGateApp({ now: () => now }), { ...env, STS: sts.binding }, new Request("https://localhost/kube", { headers: bearer(fixture.token) }));
      return { res, sts };
    }

    it("is accepted while fresh, with the recorded clock", async () => {
      const { res, sts } = await presentAt(signedAt + 5 * 60 * 1000);
      expect(res.status).toBe(200);
      expect(sts.calls).toHaveLength(1);
    });

    it("is refused once 15 minutes have passed, without calling STS", async () => {
      const { res, sts } = await presentAt(signedAt + 15 * 60 * 1000);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe("token_expired");
      expect(sts.calls).toHaveLength(0);
    });
  });

  it("refuses a token minted for another audience: STS rejects the signature (ATTACKS #9)", async () => {
    const token = await mintToken("alice", { audience: "some-other-service" });
    const res = await call(token);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe("sts_refused");
    expect(body.detail).toContain("SignatureDoesNotMatch");
    expect(await stsCallsFor(token)).toBe(1);
  });
});
