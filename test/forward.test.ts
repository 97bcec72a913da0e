import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AssertionSigner } from "../src/assertion/signer";
import { PrivateJwkSchema } from "../src/assertion/keys";
import { GateError } from "../src/errors";
import { CALLER_HEADERS, checkOriginStatus, forwardToOrigin, originTarget, withIdentityHeaders, type ForwardOptions } from "../src/forward";
import { identityFromSts } from "../src/identity";
import { captureLog } from "./support/gate";
import type { Echo } from "./support/types";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const deployer = identityFromSts(
  { arn: "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42", account: "111122223333", userId: "AROAEMULATORDEPLOYER1:ci-run-42" },
  "aws",
);
const alice = identityFromSts({ arn: "arn:aws:iam::111122223333:user/alice", account: "111122223333", userId: "AIDAEMULATORALICE0001" }, "aws");

/** The real echo origin (it verifies the assertion), counted; the assertion signed with the run's key, as the test gate signs it. */
async function echoOrigin(): Promise<{ options: ForwardOptions; calls: Request[] }> {
  const calls: Request[] = [];
  const signer = await AssertionSigner.create({
    privateJwk: PrivateJwkSchema.parse(JSON.parse(env.ASSERTION_PRIVATE_JWK as string)),
    previousPublicJwk: undefined,
    issuer: "urn:sts-gate:sts-gate-test",
    audience: "http://echo-origin.local",
  });
  const origin = {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      calls.push(request.clone());
      return env.ORIGIN.fetch(request);
    },
  } as unknown as Fetcher;
  return { calls, options: { originUrl: new URL("http://echo-origin.local/base/"), origin, requestId: "req-1", assert: (r) => signer.sign(deployer, r, Date.now()) } };
}

async function refusal(work: Promise<unknown>): Promise<string> {
  return work.then(
    () => "forwarded",
    (e: unknown) => (expect(e).toBeInstanceOf(GateError), (e as GateError).code),
  );
}

describe("originTarget", () => {
  it.each([
    ["http://o.example", "https://gate/a/b?x=1", "http://o.example/a/b?x=1"],
    ["http://o.example/base", "https://gate/a?x=1", "http://o.example/base/a?x=1"],
    ["http://o.example/base//", "https://gate/", "http://o.example/base/"],
    ["https://o.example:8443/p/", "https://gate/%2F?q", "https://o.example:8443/p/%2F?q"],
  ])("%s + %s → %s", (origin, incoming, expected) => {
    expect(originTarget(new URL(origin), new URL(incoming))).toBe(expected);
  });
});

describe("withIdentityHeaders (rule sessionHeadersWhenKnown)", () => {
  it("sets the session's role and session name for an assumed role", () => {
    const h = withIdentityHeaders(new Headers(), deployer);
    expect(h.get(CALLER_HEADERS.principal)).toBe("arn:aws:iam::111122223333:role/deployer");
    expect(h.get(CALLER_HEADERS.role)).toBe("deployer");
    expect(h.get(CALLER_HEADERS.session)).toBe("ci-run-42");
    expect(h.has(CALLER_HEADERS.user)).toBe(false);
  });

  it("sets none of the session headers for an IAM user", () => {
    const h = withIdentityHeaders(new Headers(), alice);
    expect([...h.keys()].sort()).toEqual(["x-caller-account", "x-caller-arn", "x-caller-principal", "x-caller-type", "x-caller-user-id"]);
  });
});

describe("forwardToOrigin, to the verifying echo origin", () => {
  it("sends the same method and body to ORIGIN_URL's prefix, with the identity, request id and an assertion the origin accepts", async () => {
    const { options, calls } = await echoOrigin();
    const request = new Request("https://localhost/items/7?x=1", {
      method: "POST",
      body: "payload",
      headers: { authorization: "Bearer k8s-aws-v1.secret", "x-caller-arn": "forged", "x-request-id": "client's", "x-custom": "kept" },
    });
    const res = await forwardToOrigin(request, deployer, options);
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(calls).toHaveLength(1);
    expect(echo.method).toBe("POST");
    expect(echo.url).toBe("http://echo-origin.local/base/items/7?x=1");
    expect(echo.body).toBe("payload");
    expect(echo.headers.authorization).toBeUndefined();
    expect(echo.headers["x-caller-arn"]).toBe(deployer.arn);
    expect(echo.headers["x-request-id"]).toBe("req-1");
    expect(echo.headers["x-custom"]).toBe("kept");
    expect(echo.caller.principal).toBe(deployer.principal);
  });

  it("hands a redirect back rather than following it", async () => {
    const { options, calls } = await echoOrigin();
    const res = await forwardToOrigin(new Request("https://localhost/redirect"), deployer, options);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://elsewhere.example/next");
    expect(calls).toHaveLength(1);
  });

  it("forwards a public path with no identity and no assertion (the echo origin refuses it)", async () => {
    const { options, calls } = await echoOrigin();
    const res = await forwardToOrigin(new Request("https://localhost/public", { headers: { "x-caller-arn": "forged" } }), undefined, { ...options, assert: undefined });
    expect(res.status).toBe(401);
    expect(calls[0]!.headers.has("x-caller-arn")).toBe(false);
    expect(calls[0]!.headers.has("x-caller-assertion")).toBe(false);
  });
});

describe("forwardToOrigin's failures (fault-injecting origins)", () => {
  it("an origin that does not answer in time → origin_timeout, and the request is aborted", async () => {
    captureLog();
    let signal: AbortSignal | undefined;
    let reached!: () => void;
    const called = new Promise<void>((r) => (reached = r));
    const faultHangingOrigin = { fetch: (_u: unknown, init: RequestInit) => ((signal = init.signal ?? undefined), reached(), new Promise<Response>(() => {})) } as unknown as Fetcher;
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const outcome = refusal(forwardToOrigin(new Request("https://localhost/"), alice, { originUrl: new URL("http://o.example"), origin: faultHangingOrigin, timeoutMs: 200 }));
    await called;
    await vi.advanceTimersByTimeAsync(199);
    expect(signal!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBe("origin_timeout");
    expect(signal!.aborted).toBe(true);
  });

  it("an origin that cannot be reached → origin_unreachable", async () => {
    captureLog();
    const faultResetOrigin = { fetch: () => Promise.reject(new TypeError("connection refused")) } as unknown as Fetcher;
    expect(await refusal(forwardToOrigin(new Request("https://localhost/"), alice, { originUrl: new URL("http://o.example"), origin: faultResetOrigin }))).toBe("origin_unreachable");
  });
});

describe("checkOriginStatus (rule originStatusRange)", () => {
  const answer = (status: number, webSocket: unknown = null) => ({ status, webSocket, body: null }) as unknown as Response;

  it.each([200, 204, 302, 404, 599])("passes %s on", (status) => {
    expect(() => checkOriginStatus(answer(status), new Headers())).not.toThrow();
  });

  it.each([100, 101, 199, 600, 999])("refuses %s as origin_bad_response", (status) => {
    captureLog();
    let code: string | undefined;
    try {
      checkOriginStatus(answer(status), new Headers());
    } catch (e) {
      code = (e as GateError).code;
    }
    expect(code).toBe("origin_bad_response");
  });

  it("passes a 101 only with a WebSocket the client asked for", () => {
    captureLog();
    expect(() => checkOriginStatus(answer(101, {}), new Headers({ upgrade: "websocket" }))).not.toThrow();
    expect(() => checkOriginStatus(answer(101, {}), new Headers())).toThrow(GateError);
    expect(() => checkOriginStatus(answer(101), new Headers({ upgrade: "websocket" }))).toThrow(GateError);
  });
});
