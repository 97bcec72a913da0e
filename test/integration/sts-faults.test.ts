import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { exchangeWithSts } from "../../src/sts/exchange";
import { validateToken } from "../../src/token/validate";
import { through, type Problem } from "../support/gate";
import { stsCallsFor } from "../support/emulator";
import { kvKeyFor } from "../support/kv";
import { bearer, encodeToken, identity, mintToken, presignWith, TEST_AUDIENCE } from "../support/tokens";

async function send(token: string) {
  const res = await exports.default.fetch("https://localhost/resource", { headers: bearer(token) });
  return { res, body: (await res.json()) as Problem };
}

/** Nothing about a failed exchange may be cached: the next request must ask STS again. */
async function expectNotCached(token: string, code: string, arn: string): Promise<void> {
  const before = await stsCallsFor(token);
  const again = await send(token);
  expect(again.body.code).toBe(code);
  expect(await stsCallsFor(token)).toBe(before + 1);
  // Only this token's own key: other tests share the namespace.
  const value = await env.IDENTITY_CACHE.get(await kvKeyFor(token));
  expect(value ?? "").not.toContain(arn);
}

describe("STS failing: fail closed, never forward, never cache", () => {
  it.each([
    ["fault-throttle", "sts_throttled"],
    ["fault-internal", "sts_unavailable"],
    ["fault-unavailable", "sts_unavailable"],
    ["fault-redirect", "sts_redirect"],
    ["fault-html", "sts_bad_response"],
    ["fault-xml", "sts_bad_response"],
    ["fault-extra-field", "sts_bad_response"],
    ["fault-missing-field", "sts_bad_response"],
    ["fault-wrong-type", "sts_bad_response"],
    ["fault-account-mismatch", "sts_inconsistent_identity"],
    ["fault-huge", "sts_bad_response"],
    ["userid-confusion", "sts_inconsistent_identity"],
  ])("%s → 503 %s with Retry-After", async (name, code) => {
    const token = await mintToken(name);
    const { res, body } = await send(token);
    expect(res.status).toBe(503);
    expect(body.code).toBe(code);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await stsCallsFor(token)).toBe(1);
    await expectNotCached(token, code, identity(name).arn);
  });

  it.each([["fault-slow"], ["fault-trickle"]])("%s → 503 sts_timeout after STS_TIMEOUT_MS", async (name) => {
    const { res, body } = await send(await mintToken(name));
    expect(res.status).toBe(503);
    expect(body.code).toBe("sts_timeout");
    // The test env sets STS_TIMEOUT_MS=1000; the emulator's slow fault waits 10 s, so only the
    // gate's own deadline can have ended the wait, and the detail names the one configured.
    expect(body.detail).toBe("STS did not answer within 1000 ms.");
  });
});

describe("the STS deadline, on an injected clock (ATTACKS #14)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("ends a hanging exchange at timeoutMs, not before, and aborts the request", async () => {
    const token = validateToken(await mintToken("alice"), Date.now());
    vi.useFakeTimers();
    let sent: Request | undefined;
    const hanging = (request: Request) => {
      sent = request;
      return new Promise<Response>(() => {});
    };
    let outcome: unknown;
    exchangeWithSts(token, { audience: TEST_AUDIENCE, timeoutMs: 1000, fetch: hanging }).then(
      (answer) => (outcome = answer),
      (error: unknown) => (outcome = error),
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(outcome).toBeUndefined();
    expect(sent?.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(outcome).toMatchObject({ code: "sts_timeout" });
    expect(sent?.signal.aborted).toBe(true);
  });
});

describe("STS refusing the caller: 401, remembered until the token expires", () => {
  it("an expired session token (ExpiredToken)", async () => {
    const token = await mintToken("expired-session");
    const { res, body } = await send(token);
    expect(res.status).toBe(401);
    expect(body.code).toBe("sts_refused");
    expect(body.detail).toContain("ExpiredToken");
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("an access key STS does not know (InvalidClientTokenId)", async () => {
    const token = encodeToken(await presignWith({ accessKeyId: "AKIAUNKNOWNKEY000001", secretAccessKey: "not-a-real-secret" }, { at: Date.now() }));
    const { res, body } = await send(token);
    expect(res.status).toBe(401);
    expect(body.detail).toContain("InvalidClientTokenId");
    // Refused once, never sent to STS again: junk cannot burn the account's STS quota.
    expect((await send(token)).res.status).toBe(401);
    expect((await send(token)).res.status).toBe(401);
    expect(await stsCallsFor(token)).toBe(1);
  });

  it("a token whose signature STS does not accept (SignatureDoesNotMatch)", async () => {
    const token = await mintToken("alice", { audience: "not-this-gate" });
    expect((await send(token)).body.code).toBe("sts_refused");
    expect((await send(token)).body.code).toBe("sts_refused");
    expect(await stsCallsFor(token)).toBe(1);
  });
});

describe("STS unreachable", () => {
  it("a connection reset → 503 sts_unreachable, not forwarded", async () => {
    const { createGateApp } = await import("../../src/gate/dispatch");
    const faultResetSts = { fetch: () => Promise.reject(new TypeError("Network connection lost.")) } as unknown as Fetcher;
    const res = await through(createGateApp(), { ...env, STS: faultResetSts }, new Request("https://localhost/x", { headers: bearer(await mintToken("alice")) }));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).not.toBeNull();
    expect(((await res.json()) as Problem).code).toBe("sts_unreachable");
  });
});

describe("STS answers that only look right", () => {
  const identityJson = JSON.stringify({
    GetCallerIdentityResponse: {
      GetCallerIdentityResult: { Arn: "arn:aws:iam::111122223333:user/alice", Account: "111122223333", UserId: "AIDAEMULATORALICE0001" },
    },
  });

  /** The gate in front of a fault-injecting STS that skips SigV4 and answers with `sts`. */
  async function throughFaultSts(sts: (request: Request) => Response) {
    const { createGateApp } = await import("../../src/gate/dispatch");
    const res = await through(createGateApp(), { ...env, STS: { fetch: async (input: RequestInfo, init?: RequestInit) => sts(new Request(input, init)) } as unknown as Fetcher }, new Request("https://localhost/x", { headers: bearer(await mintToken("alice")) }));
    return { status: res.status, code: ((await res.json()) as Problem).code };
  }

  it("a valid identity document served as text/html is refused: JSON means application/json", async () => {
    expect(await throughFaultSts(() => new Response(identityJson, { headers: { "content-type": "text/html" } }))).toEqual({ status: 503, code: "sts_bad_response" });
    // The same bytes as application/json are accepted, so the content type is what decided.
    expect((await throughFaultSts(() => new Response(identityJson, { headers: { "content-type": "application/json" } }))).status).toBe(200);
  });

  it("a valid identity document padded past 64 KiB is refused, streamed or with its length declared", async () => {
    const padded = identityJson.replace("{", `{${" ".repeat(70 * 1024)}`);
    const streamed = () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(padded));
            controller.close();
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    expect(await throughFaultSts(streamed)).toEqual({ status: 503, code: "sts_bad_response" });
    const declared = () => new Response(padded, { headers: { "content-type": "application/json", "content-length": String(padded.length) } });
    expect(await throughFaultSts(declared)).toEqual({ status: 503, code: "sts_bad_response" });
  });

  it("a body longer than the Content-Length it declares is still held to 64 KiB", async () => {
    const padded = identityJson.replace("{", `{${" ".repeat(70 * 1024)}`);
    const understated = () => new Response(padded, { headers: { "content-type": "application/json", "content-length": "1000" } });
    expect(await throughFaultSts(understated)).toEqual({ status: 503, code: "sts_bad_response" });
  });

  it("a declared Content-Length over 64 KiB is refused at once, without reading the body", async () => {
    let pulled = 0;
    // A body that never ends: reading it would wait for the deadline (sts_timeout).
    const endless = () =>
      new Response(new ReadableStream({ pull: () => void pulled++ }), { headers: { "content-type": "application/json", "content-length": "10000000" } });
    expect(await throughFaultSts(endless)).toEqual({ status: 503, code: "sts_bad_response" });
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it("HTTP 429 → 503 sts_throttled", async () => {
    expect(await throughFaultSts(() => new Response("", { status: 429 }))).toEqual({ status: 503, code: "sts_throttled" });
  });
});

describe("the request the gate sends STS (rule rebuildUpstream, ATTACKS #1, #6, #8)", () => {
  it("is a GET with no body, to the endpoint table's host for the token, that follows no redirect", async () => {
    const { createGateApp } = await import("../../src/gate/dispatch");
    const seen: Request[] = [];
    // A fault stub that skips SigV4: it records the request and answers 503.
    const faultRecordingSts = {
      fetch: async (input: RequestInfo, init?: RequestInit) => {
        seen.push(new Request(input, init));
        return new Response("", { status: 503 });
      },
    } as unknown as Fetcher;
    const token = await mintToken("alice", { region: "eu-west-1" });
    await through(createGateApp(), { ...env, STS: faultRecordingSts }, new Request("https://localhost/x", { method: "POST", body: "the caller's body", headers: bearer(token) }));
    expect(seen).toHaveLength(1);
    const sent = seen[0]!;
    expect(new URL(sent.url).host).toBe("sts.eu-west-1.amazonaws.com");
    expect(sent.method).toBe("GET");
    expect(sent.body).toBeNull();
    expect(sent.redirect).toBe("manual");
  });
});

