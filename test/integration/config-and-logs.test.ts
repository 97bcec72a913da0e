import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { logLines, through } from "../support/gate";
import { bearer, decodeToken, identity, mintToken } from "../support/tokens";

function throughCfg(testEnv: object, token?: string) {
  return through(createGateApp(), testEnv, "https://localhost/cfg", { headers: token ? bearer(token) : {} });
}

afterEach(() => vi.restoreAllMocks());

describe("configuration", () => {
  it("accepts POLICY as a JSON string as well as a table", async () => {
    const res = await throughCfg({ ...env, POLICY: JSON.stringify({ allow: ["arn:aws:iam::111122223333:user/alice"] }) }, await mintToken("alice"));
    expect(res.status).toBe(200);
  });

  it.each([
    ["a missing AUDIENCE", { AUDIENCE: undefined }, "AUDIENCE"],
    ["an ORIGIN_URL that is not a URL", { ORIGIN_URL: "origin.example.com" }, "ORIGIN_URL"],
    ["a POLICY that is not JSON", { POLICY: "{allow:" }, "POLICY"],
    ["a POLICY with a typo'd key", { POLICY: { alow: ["arn:aws:iam::111122223333:user/alice"] } }, "POLICY"],
    ["a wildcard account", { POLICY: { allow: ["arn:aws:iam::*:role/deployer"] } }, "POLICY.allow[0]"],
    ["a non-numeric STS_TIMEOUT_MS", { STS_TIMEOUT_MS: "soon" }, "STS_TIMEOUT_MS"],
    ["no KV namespace", { IDENTITY_CACHE: undefined }, "IDENTITY_CACHE"],
  ])("fails closed on %s: 500 misconfigured, and a log line naming the field", async (_name, override, field) => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const res = await throughCfg({ ...env, ...override }, await mintToken("alice"));
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as { code: string }).code).toBe("misconfigured");
    const lines = logLines<{ event: string; message: string }>(log);
    expect(lines.some((l) => l.event === "config" && l.message.startsWith(`${field}:`))).toBe(true);
  });
});

describe("decision logs", () => {
  it("writes one JSON line per decision, with identity, cache and STS time", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await throughCfg(env, await mintToken("deployer"));
    const lines = logLines<Record<string, unknown>>(log);
    const decisions = lines.filter((l) => l.event === "decision");
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      outcome: "allow",
      principal: "arn:aws:iam::111122223333:role/deployer",
      type: "assumed-role",
      account: "111122223333",
      cache: "miss",
      rule: "allow",
      pattern: "arn:aws:iam::111122223333:role/deployer",
    });
    expect(typeof decisions[0]!.stsMs).toBe("number");
  });

  it("never writes the token, its signature or a session token, allowed or refused", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const tokens = [
      await mintToken("deployer"),
      await mintToken("deployer", { audience: "elsewhere" }),
      await mintToken("fault-throttle"),
      await mintToken("federated-bob"),
    ];
    const bodies: string[] = [];
    for (const token of tokens) bodies.push(await (await throughCfg(env, token)).text());
    const output = log.mock.calls.map((c) => String(c[0])).join("\n") + bodies.join("\n");
    for (const token of tokens) {
      const url = decodeToken(token);
      expect(output).not.toContain(token.slice(11, 51));
      expect(output).not.toContain(/X-Amz-Signature=([0-9a-f]{64})/.exec(url)![1]);
    }
    expect(output).not.toContain(encodeURIComponent(identity("deployer").sessionToken!));
    expect(output).not.toContain(identity("deployer").sessionToken!);
    expect(output).not.toContain(identity("deployer").secretAccessKey);
  });
});
