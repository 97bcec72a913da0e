import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { createGateFetch, StsGateClientError, type AwsCredentials, type FetchLike } from "../../src/client/index";
import { createStsEmulator, IDENTITIES } from "../emulator/sts";
import { clock as movableClock } from "../support/clock";
import { through } from "../support/gate";
import { decodeToken, identity, TEST_AUDIENCE } from "../support/tokens";

const MINUTE = 60 * 1000;
const T0 = Date.parse("2026-11-22T10:00:00Z");

function credentialsOf(name: string): AwsCredentials {
  const { accessKeyId, secretAccessKey, sessionToken } = identity(name);
  return { accessKeyId, secretAccessKey, sessionToken };
}

/** X-Amz-Date of the token in an Authorization header, as epoch ms. */
function signedAt(authorization: string | null): number {
  const m = /X-Amz-Date=(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z/.exec(decodeToken(authorization!.slice("Bearer ".length)));
  if (!m) throw new Error("no X-Amz-Date");
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

interface Sent {
  url: string;
  authorization: string | null;
  headers: Headers;
  body: string;
}

/** A stand-in for the network: records what was sent, answers with `respond`. */
function recorder(respond: (sent: Sent, index: number) => Response = () => new Response("ok")) {
  const sent: Sent[] = [];
  const fetch: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    const s = {
      url: request.url,
      authorization: request.headers.get("authorization"),
      headers: request.headers,
      body: request.body === null ? "" : await request.text(),
    };
    sent.push(s);
    return respond(s, sent.length - 1);
  };
  return { fetch, sent };
}

function gateProblem(code: string, status = 401): Response {
  return new Response(JSON.stringify({ type: `urn:sts-gate:problem:${code}`, title: "t", status, detail: "d", code }), {
    status,
    headers: {
      "content-type": "application/problem+json",
      "www-authenticate": `Bearer error="invalid_token", error_description="${code}"`,
    },
  });
}

function clock(start = T0) {
  return movableClock(start);
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("createGateFetch through the gate", () => {
  it("adds the bearer token, is admitted, and reuses the token", async () => {
    const seen: string[] = [];
    const gateFetch = createGateFetch({
      credentials: credentialsOf("alice"),
      audience: TEST_AUDIENCE,
      region: "eu-west-3",
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers).get("authorization")!);
        return exports.default.fetch(input, init);
      },
    });
    for (const path of ["/one", "/two"]) {
      const res = await gateFetch(`https://localhost${path}`);
      expect(res.status).toBe(200);
      const echo = (await res.json()) as { url: string; headers: Record<string, string> };
      expect(echo.url).toBe(`http://echo-origin.local/base${path}`);
      expect(echo.headers["x-caller-arn"]).toBe("arn:aws:iam::111122223333:user/alice");
      expect(echo.headers.authorization).toBeUndefined();
    }
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]);
  });

  it("takes credentials from a provider (here an assumed-role session)", async () => {
    let calls = 0;
    const gateFetch = createGateFetch({
      credentialProvider: async () => {
        calls++;
        return credentialsOf("deployer");
      },
      audience: TEST_AUDIENCE,
      region: "eu-north-1",
      fetch: (input, init) => exports.default.fetch(input, init),
    });
    const res = await gateFetch("https://localhost/role", { method: "POST", body: "payload" });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as { body: string; headers: Record<string, string> };
    expect(echo.body).toBe("payload");
    expect(echo.headers["x-caller-principal"]).toBe("arn:aws:iam::111122223333:role/deployer");
    expect((await gateFetch("https://localhost/again")).status).toBe(200);
    expect(calls).toBe(1);
  });

  it("recovers from a gate whose clock is ahead: one retry with a fresh token after 401 token_expired", async () => {
    // The caller's clock is 5 minutes behind the gate's (and STS's). A token it still thinks
    // fresh is already 15 minutes old at the gate.
    const T = Math.floor(Date.now() / 1000) * 1000;
    const client = clock(T);
    let gateNow = T + 5 * MINUTE;
    const sts = createStsEmulator({ identities: IDENTITIES, now: () => gateNow });
    const app = createGateApp({ now: () => gateNow });
    const tokens: string[] = [];
    const gateFetch = createGateFetch({
      credentials: credentialsOf("alice"),
      audience: TEST_AUDIENCE,
      region: "me-central-1",
      now: client.now,
      fetch: (input, init) => {
        const request = new Request(input, init);
        tokens.push(request.headers.get("authorization")!);
        return through(app, { ...env, STS: { fetch: (r: Request) => sts.fetch(r) } as unknown as Fetcher }, request);
      },
    });
    expect((await gateFetch("https://localhost/a")).status).toBe(200);

    client.t = T + 10.5 * MINUTE; // the client's token has 2.5 minutes left...
    gateNow = T + 15.5 * MINUTE; // ...but the gate sees it 15.5 minutes old
    const res = await gateFetch("https://localhost/b", { method: "PUT", body: "again" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { body: string }).body).toBe("again");
    expect(tokens).toHaveLength(3);
    expect(tokens[1]).toBe(tokens[0]);
    expect(signedAt(tokens[2]!)).toBe(T + 10.5 * MINUTE);
  });
});

describe("createGateFetch: token lifetime", () => {
  it("reuses a token until refreshBeforeMs before expiresAt, then mints a new one", async () => {
    const c = clock();
    const net = recorder();
    const gateFetch = createGateFetch({ credentials: credentialsOf("alice"), audience: "a", now: c.now, fetch: net.fetch });
    await gateFetch("https://localhost/");
    c.t = T0 + 13 * MINUTE - 1; // expiresAt is T0 + 14 min; the default refresh is 60 s before
    await gateFetch("https://localhost/");
    c.t = T0 + 13 * MINUTE;
    await gateFetch("https://localhost/");
    expect(net.sent.map((s) => signedAt(s.authorization))).toEqual([T0, T0, T0 + 13 * MINUTE]);
  });

  it("honours a custom refreshBeforeMs", async () => {
    const c = clock();
    const net = recorder();
    const gateFetch = createGateFetch({
      credentials: credentialsOf("alice"),
      audience: "a",
      now: c.now,
      refreshBeforeMs: 10 * MINUTE,
      fetch: net.fetch,
    });
    await gateFetch("https://localhost/");
    c.t = T0 + 3 * MINUTE;
    await gateFetch("https://localhost/");
    c.t = T0 + 4 * MINUTE;
    await gateFetch("https://localhost/");
    expect(net.sent.map((s) => signedAt(s.authorization))).toEqual([T0, T0, T0 + 4 * MINUTE]);
  });

  it("mints one token at a time, however many requests wait for it", async () => {
    const c = clock();
    const net = recorder();
    let calls = 0;
    let gate = deferred<void>();
    const gateFetch = createGateFetch({
      credentialProvider: async () => {
        calls++;
        await gate.promise;
        return credentialsOf("alice");
      },
      audience: "a",
      now: c.now,
      fetch: net.fetch,
    });
    const first = Array.from({ length: 20 }, (_, i) => gateFetch(`https://localhost/${i}`));
    await Promise.resolve();
    gate.resolve();
    await Promise.all(first);
    expect(calls).toBe(1);
    expect(new Set(net.sent.map((s) => s.authorization)).size).toBe(1);

    // In the refresh window: again a single refresh for 20 concurrent requests.
    c.t = T0 + 13.5 * MINUTE;
    gate = deferred<void>();
    const second = Array.from({ length: 20 }, (_, i) => gateFetch(`https://localhost/${i}`));
    await Promise.resolve();
    gate.resolve();
    await Promise.all(second);
    expect(calls).toBe(2);
    expect(new Set(net.sent.slice(20).map((s) => s.authorization)).size).toBe(1);
    expect(signedAt(net.sent[20]!.authorization)).toBe(T0 + 13.5 * MINUTE);
  });

  it("keeps using a still-valid token when a refresh fails, and never sends an expired one", async () => {
    const c = clock();
    const net = recorder();
    let failing = false;
    const gateFetch = createGateFetch({
      credentialProvider: async () => {
        if (failing) throw new Error("credential source is down");
        return credentialsOf("alice");
      },
      audience: "a",
      now: c.now,
      fetch: net.fetch,
    });
    await gateFetch("https://localhost/");
    failing = true;
    c.t = T0 + 13.5 * MINUTE; // refresh window: the refresh fails, the token is still good
    await gateFetch("https://localhost/");
    expect(net.sent.map((s) => signedAt(s.authorization))).toEqual([T0, T0]);

    c.t = T0 + 14 * MINUTE; // expiresAt: the old token must not go out
    await expect(gateFetch("https://localhost/")).rejects.toThrow("credential source is down");
    expect(net.sent).toHaveLength(2);

    failing = false;
    await gateFetch("https://localhost/");
    expect(signedAt(net.sent[2]!.authorization)).toBe(T0 + 14 * MINUTE);
  });

  it("does not send a token the clock expired while it was being minted (a clock jump)", async () => {
    const c = clock();
    const net = recorder();
    let provided = 0;
    const gateFetch = createGateFetch({
      credentialProvider: async () => {
        provided++;
        // Temporary credentials that lapse a second after signing...
        return { ...credentialsOf("deployer"), expiration: new Date(c.t + 1000) };
      },
      audience: "a",
      now: () => {
        const t = c.t;
        // ...and a clock that jumps 20 minutes right after the first token is signed.
        if (provided === 1 && !jumped) {
          jumped = true;
          c.t += 20 * MINUTE;
        }
        return t;
      },
      fetch: net.fetch,
    });
    let jumped = false;
    await gateFetch("https://localhost/");
    expect(provided).toBe(2);
    expect(net.sent).toHaveLength(1);
    expect(signedAt(net.sent[0]!.authorization)).toBe(T0 + 20 * MINUTE);
  });

  it("gives up with a clock error if every fresh token is already expired", async () => {
    const c = clock();
    const net = recorder();
    const gateFetch = createGateFetch({
      credentialProvider: async () => ({ ...credentialsOf("deployer"), expiration: new Date(c.t + 1) }),
      audience: "a",
      now: () => c.t++, // every reading a millisecond later: credentials lapse before the send
      fetch: net.fetch,
    });
    const error = await gateFetch("https://localhost/").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StsGateClientError);
    expect((error as StsGateClientError).code).toBe("clock");
    expect(net.sent).toHaveLength(0);
  });
});

describe("createGateFetch: retry on 401 token_expired", () => {
  const expiredOnce = (sent: Sent, i: number) => (i === 0 ? gateProblem("token_expired") : new Response(`ok ${sent.body}`));

  it("retries once with a new token, replaying a string body", async () => {
    const c = clock();
    const net = recorder(expiredOnce);
    const gateFetch = createGateFetch({ credentials: credentialsOf("alice"), audience: "a", now: c.now, fetch: net.fetch });
    await gateFetch("https://localhost/warm"); // token A
    net.sent.length = 0;
    c.t = T0 + 2 * MINUTE;
    const res = await gateFetch("https://localhost/x", { method: "POST", body: "hello", headers: { "x-trace": "1" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok hello");
    expect(net.sent).toHaveLength(2);
    expect(signedAt(net.sent[0]!.authorization)).toBe(T0);
    expect(signedAt(net.sent[1]!.authorization)).toBe(T0 + 2 * MINUTE);
    expect(net.sent.map((s) => [s.body, s.headers.get("x-trace")])).toEqual([
      ["hello", "1"],
      ["hello", "1"],
    ]);
    // The new token is kept.
    await gateFetch("https://localhost/y");
    expect(net.sent[2]!.authorization).toBe(net.sent[1]!.authorization);
  });

  it("retries only once", async () => {
    const net = recorder(() => gateProblem("token_expired"));
    const c = clock();
    const gateFetch = createGateFetch({ credentials: credentialsOf("alice"), audience: "a", now: c.now, fetch: net.fetch });
    const res = await gateFetch("https://localhost/");
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe("token_expired");
    expect(net.sent).toHaveLength(2);
  });

  it("replays Requests without a body, ArrayBuffers, Blobs, URLSearchParams and FormData", async () => {
    const bodies: (BodyInit | undefined)[] = [
      new TextEncoder().encode("bytes").buffer as ArrayBuffer,
      new Uint8Array([104, 105]),
      new Blob(["blob"]),
      new URLSearchParams({ q: "1" }),
    ];
    for (const body of bodies) {
      const net = recorder(expiredOnce);
      const gateFetch = createGateFetch({ credentials: credentialsOf("alice"), audience: "a", now: clock().now, fetch: net.fetch });
      expect((await gateFetch("https://localhost/", { method: "POST", body })).status).toBe(200);
      expect(net.sent).toHaveLength(2);
      expect(net.sent[1]!.body).toBe(net.sent[0]!.body);
      expect(net.sent[1]!.body).not.toBe("");
    }
    const net = recorder(expiredOnce);
    const gateFetch = createGateFetch({ credentials: credentialsOf("alice"), audience: "a", now: clock().now, fetch: net.fetch });
    const res = await gateFetch(new Request("https://localhost/r", { headers: { "x-keep": "yes" } }));
    expect(res.status).toBe(200);
    expect(net.sent.map((s) => s.headers.get("x-keep"))).toEqual(["yes", "yes"]);
  });

  it("does not retry a streamed body (it is neither buffered nor replayed)", async () => {
    for (const make of [
      () => ({ input: "https://localhost/s", init: { method: "POST", body: stream("streamed"), duplex: "half" } as RequestInit }),
      () => ({ input: new Request("https://localhost/s", { method: "POST", body: "in a Request" }), init: undefined }),
    ]) {
      const net = recorder(expiredOnce);
      const gateFetch = createGateFetch({ credentials: credentialsOf("alice"), audience: "a", now: clock().now, fetch: net.fetch });
      const { input, init } = make();
      const res = await gateFetch(input, init);
      expect(res.status).toBe(401);
      expect(net.sent).toHaveLength(1);
    }
  });

  it.each([
    ["token_not_yet_valid (the caller's clock is ahead: a new token would be too)", () => gateProblem("token_not_yet_valid")],
    ["sts_refused", () => gateProblem("sts_refused")],
    ["a 401 from the origin that is not the gate's problem", () => new Response("no", { status: 401, headers: { "www-authenticate": "Basic" } })],
    [
      "problem+json with the code but another type",
      () =>
        new Response(JSON.stringify({ type: "about:blank", code: "token_expired" }), {
          status: 401,
          headers: { "content-type": "application/problem+json" },
        }),
    ],
    ["403 policy_denied", () => gateProblem("policy_denied", 403)],
  ])("does not retry %s", async (_, respond) => {
    const net = recorder(respond);
    const gateFetch = createGateFetch({ credentials: credentialsOf("alice"), audience: "a", now: clock().now, fetch: net.fetch });
    await gateFetch("https://localhost/");
    expect(net.sent).toHaveLength(1);
  });
});

describe("createGateFetch: requests and options", () => {
  it("keeps the caller's headers and replaces any Authorization", async () => {
    const net = recorder();
    const gateFetch = createGateFetch({ credentials: credentialsOf("alice"), audience: "a", now: clock().now, fetch: net.fetch });
    await gateFetch("https://localhost/", { headers: { authorization: "Basic eA==", accept: "text/plain" } });
    await gateFetch(new Request("https://localhost/", { headers: { authorization: "Bearer other", "x-a": "1" } }));
    expect(net.sent[0]!.authorization).toMatch(/^Bearer k8s-aws-v1\./);
    expect(net.sent[0]!.headers.get("accept")).toBe("text/plain");
    expect(net.sent[1]!.authorization).toBe(net.sent[0]!.authorization);
    expect(net.sent[1]!.headers.get("x-a")).toBe("1");
  });

  it.each([
    ["both credentials and a provider", { credentialProvider: async () => credentialsOf("alice") }, "options_invalid"],
    ["neither credentials nor a provider", { credentials: undefined }, "options_invalid"],
    ["a negative refreshBeforeMs", { refreshBeforeMs: -1 }, "options_invalid"],
    ["a refreshBeforeMs as long as the token's life", { refreshBeforeMs: 14 * MINUTE }, "options_invalid"],
    ["an unknown region", { region: "xx-nowhere-1" }, "region_invalid"],
    ["a bad audience", { audience: "" }, "audience_invalid"],
  ])("refuses %s when it is created", (_, override, code) => {
    let error: unknown;
    try {
      createGateFetch({ credentials: credentialsOf("alice"), audience: "a", ...override });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StsGateClientError);
    expect((error as StsGateClientError).code).toBe(code);
  });
});

function stream(text: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
}
