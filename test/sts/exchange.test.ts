import { afterEach, describe, expect, it, vi } from "vitest";
import { GateError } from "../../src/errors";
import { buildStsRequest, exchangeWithSts, MAX_STS_BODY_BYTES } from "../../src/sts/exchange";
import { validateToken } from "../../src/token/validate";
import { encodeToken, presignUrl } from "../support/tokens";

/**
 * The exchange alone, against fault-injecting STS stand-ins that skip SigV4 (the emulator's
 * own checks are test/emulator/; the whole path through the gate is test/integration/sts-faults).
 */

const T = Date.UTC(2026, 10, 22, 12, 0, 0);
const AUDIENCE = "unit-gate";
const IDENTITY = { Arn: "arn:aws:iam::111122223333:user/alice", Account: "111122223333", UserId: "AIDAEMULATORALICE0001" };
const json = (body: unknown, init: ResponseInit = {}) => new Response(JSON.stringify(body), { ...init, headers: { "content-type": "application/json", ...init.headers } });

async function token(options: { region?: string } = {}) {
  return validateToken(encodeToken(await presignUrl("deployer", { at: T - 5000, expires: 900, region: options.region })), T);
}

/** Runs the exchange against `answer`; returns the answer or the GateError's code and detail. */
async function exchange(answer: (request: Request) => Response | Promise<Response>) {
  const seen: Request[] = [];
  const faultSts = async (request: Request) => (seen.push(request), answer(request));
  try {
    return { answer: await exchangeWithSts(await token(), { audience: AUDIENCE, fetch: faultSts, timeoutMs: 1000 }), seen };
  } catch (e) {
    expect(e).toBeInstanceOf(GateError);
    return { code: (e as GateError).code, detail: (e as GateError).detail, seen };
  }
}

afterEach(() => vi.useRealTimers());

describe("buildStsRequest (rule rebuildUpstream)", () => {
  it("is a GET to the endpoint table's host with the validated parameters in order, and only our two headers", async () => {
    const t = await token({ region: "eu-west-1" });
    const request = buildStsRequest(t, AUDIENCE);
    const url = new URL(request.url);
    expect(url.host).toBe("sts.eu-west-1.amazonaws.com");
    expect([...url.searchParams.keys()]).toEqual([
      "Action",
      "Version",
      "X-Amz-Algorithm",
      "X-Amz-Credential",
      "X-Amz-Date",
      "X-Amz-Expires",
      "X-Amz-SignedHeaders",
      "X-Amz-Security-Token",
      "X-Amz-Signature",
    ]);
    expect(url.searchParams.get("X-Amz-Signature")).toBe(t.signature);
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe(t.securityToken);
    expect(request.method).toBe("GET");
    expect(request.redirect).toBe("manual");
    expect([...request.headers]).toEqual([
      ["accept", "application/json"],
      ["x-k8s-aws-id", AUDIENCE],
    ]);
  });

  it("encodes as RFC 3986 (a / in the credential is %2F)", async () => {
    expect(buildStsRequest(await token(), AUDIENCE).url).toMatch(/X-Amz-Credential=ASIA\w+%2F\d{8}%2Fus-east-1%2Fsts%2Faws4_request/);
  });
});

describe("exchangeWithSts", () => {
  it("returns the identity of a clean JSON GetCallerIdentity answer, asking once", async () => {
    const out = await exchange(() => json({ GetCallerIdentityResponse: { GetCallerIdentityResult: IDENTITY, ResponseMetadata: { RequestId: "r" } } }));
    expect(out.answer).toEqual({ arn: IDENTITY.Arn, account: IDENTITY.Account, userId: IDENTITY.UserId });
    expect(out.seen).toHaveLength(1);
  });

  it.each<[string, () => Response, string]>([
    ["200 as text/html", () => new Response(JSON.stringify({ GetCallerIdentityResponse: { GetCallerIdentityResult: IDENTITY } }), { headers: { "content-type": "text/html" } }), "sts_bad_response"],
    ["200 with an extra field", () => json({ GetCallerIdentityResponse: { GetCallerIdentityResult: { ...IDENTITY, Extra: "x" } } }), "sts_bad_response"],
    ["200 with an 11-digit account", () => json({ GetCallerIdentityResponse: { GetCallerIdentityResult: { ...IDENTITY, Account: "11112222333" } } }), "sts_bad_response"],
    ["200 that is not JSON", () => new Response("{", { headers: { "content-type": "application/json" } }), "sts_bad_response"],
    ["a redirect", () => new Response(null, { status: 302, headers: { location: "https://evil.example/" } }), "sts_redirect"],
    ["429", () => new Response("", { status: 429 }), "sts_throttled"],
    ["400 Throttling", () => json({ Error: { Code: "Throttling" } }, { status: 400 }), "sts_throttled"],
    ["500", () => new Response("", { status: 500 }), "sts_unavailable"],
    ["503", () => new Response("", { status: 503 }), "sts_unavailable"],
    ["403 InvalidClientTokenId", () => json({ Error: { Code: "InvalidClientTokenId" } }, { status: 403 }), "sts_refused"],
    ["403 without a body", () => new Response("", { status: 403 }), "sts_refused"],
    ["400 without a code", () => new Response("", { status: 400 }), "sts_bad_response"],
    ["418", () => new Response("", { status: 418 }), "sts_bad_response"],
  ])("%s → %s", async (_why, answer, code) => {
    expect((await exchange(answer)).code).toBe(code);
  });

  it("names the audience to mint for when STS says SignatureDoesNotMatch", async () => {
    const out = await exchange(() => json({ Error: { Code: "SignatureDoesNotMatch" } }, { status: 403 }));
    expect(out.code).toBe("sts_refused");
    expect(out.detail).toContain("(SignatureDoesNotMatch)");
    expect(out.detail).toContain(`this gate's audience is ${AUDIENCE}`);
  });

  it("does not quote an STS error code that is not a plain word", async () => {
    const out = await exchange(() => json({ Error: { Code: "<script>" } }, { status: 403 }));
    expect(out.detail).toBe("STS refused the token.");
  });

  it("refuses a body over 64 KiB, declared or streamed, and accepts one just under", async () => {
    const answer = JSON.stringify({ GetCallerIdentityResponse: { GetCallerIdentityResult: IDENTITY } });
    const padded = (n: number) => answer.replace("{", `{${" ".repeat(n - answer.length)}`);
    const stream = (text: string) =>
      new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(text));
            c.close();
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    expect((await exchange(() => stream(padded(MAX_STS_BODY_BYTES)))).answer?.arn).toBe(IDENTITY.Arn);
    expect((await exchange(() => stream(padded(MAX_STS_BODY_BYTES + 1)))).code).toBe("sts_bad_response");
    expect((await exchange(() => json({}, { headers: { "content-length": String(MAX_STS_BODY_BYTES + 1) } }))).code).toBe("sts_bad_response");
  });

  it("a failed fetch → sts_unreachable", async () => {
    expect((await exchange(() => Promise.reject(new TypeError("Network connection lost.")))).code).toBe("sts_unreachable");
  });

  it("no answer within the deadline → sts_timeout, and the request is aborted", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let signal: AbortSignal | null = null;
    const hanging = (request: Request) => ((signal = request.signal), new Promise<Response>(() => {}));
    const outcome = exchangeWithSts(await token(), { audience: AUDIENCE, fetch: hanging, timeoutMs: 300 }).then(
      () => "answered",
      (e: GateError) => e.code,
    );
    await vi.advanceTimersByTimeAsync(299);
    expect(signal!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBe("sts_timeout");
    expect(signal!.aborted).toBe(true);
  });
});
