import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bearer, mintToken } from "./support/tokens";

describe("the gate, end to end through workerd, KV and the STS emulator", () => {
  it("forwards an allowed caller with identity headers", async () => {
    const token = await mintToken("alice");
    const res = await exports.default.fetch("https://gate.test/hello?x=1", { headers: bearer(token) });
    expect(res.status).toBe(200);
    const echoed = (await res.json()) as { url: string; headers: Record<string, string> };
    expect(echoed.url).toBe("http://echo-origin.local/base/hello?x=1");
    expect(echoed.headers["x-caller-arn"]).toBe("arn:aws:iam::111122223333:user/alice");
  });
});
