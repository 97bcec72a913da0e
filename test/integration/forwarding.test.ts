import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { logLines, through, type Echo } from "../support/gate";
import { bearer, mintToken } from "../support/tokens";

describe("forwarding to the origin", () => {
  it("appends path and query to ORIGIN_URL and keeps the method and body", async () => {
    const token = await mintToken("alice");
    const res = await exports.default.fetch("https://localhost/items/42?view=full&x=%2F", {
      method: "POST",
      headers: { ...bearer(token), "content-type": "text/plain", "x-trace-id": "r-1" },
      body: "hello origin",
    });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.method).toBe("POST");
    expect(echo.url).toBe("http://echo-origin.local/base/items/42?view=full&x=%2F");
    expect(echo.body).toBe("hello origin");
    expect(echo.headers["x-trace-id"]).toBe("r-1");
    expect(echo.headers["content-type"]).toBe("text/plain");
  });

  it("streams a request body through rather than buffering it", async () => {
    const token = await mintToken("alice");
    const encoder = new TextEncoder();
    // The client holds chunk 2 back until the origin has read chunk 1. A gate that buffered the
    // body would wait for chunk 2 before calling the origin; then, after a grace period, chunk 2
    // is sent anyway and the test sees that the origin had not read chunk 1 first.
    let originReadFirst!: () => void;
    const firstRead = new Promise<"read">((resolve) => (originReadFirst = () => resolve("read")));
    let secondReleasedBecause: "read" | "gave up" | undefined;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (sent === 0) controller.enqueue(encoder.encode("part one, "));
          else if (sent === 1) {
            secondReleasedBecause = await Promise.race([firstRead, new Promise<"gave up">((r) => setTimeout(() => r("gave up"), 2000))]);
            controller.enqueue(encoder.encode("part two"));
          } else controller.close();
          sent++;
        },
      },
      { highWaterMark: 0 },
    );
    const received: string[] = [];
    const origin = {
      async fetch(_url: string, init: RequestInit) {
        const reader = (init.body as ReadableStream<Uint8Array>).getReader();
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
          received.push(new TextDecoder().decode(chunk.value));
          originReadFirst();
        }
        return new Response("stored");
      },
    } as unknown as Fetcher;
    const res = await through(
      createGateApp(),
      { ...env, ORIGIN: origin },
      // @ts-expect-error: duplex is required by the fetch spec for stream bodies
      new Request("https://localhost/upload", { method: "PUT", headers: bearer(token), body, duplex: "half" }),
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("stored");
    expect(secondReleasedBecause).toBe("read");
    expect(received.join("")).toBe("part one, part two");
    expect(received[0]).toBe("part one, ");
  });

  it("strips Authorization and every inbound X-Caller-* header (ATTACKS #15)", async () => {
    const token = await mintToken("alice");
    const res = await exports.default.fetch("https://localhost/", {
      headers: {
        ...bearer(token),
        "x-caller-arn": "arn:aws:iam::111122223333:role/admin",
        "X-Caller-Principal": "arn:aws:iam::111122223333:role/admin",
        "x-caller-assertion": "forged",
        "x-caller-anything": "forged",
      },
    });
    const echo = (await res.json()) as Echo;
    expect(echo.headers.authorization).toBeUndefined();
    expect(JSON.stringify(echo)).not.toContain(token.slice(11, 60));
    expect(echo.headers["x-caller-arn"]).toBe("arn:aws:iam::111122223333:user/alice");
    expect(echo.headers["x-caller-principal"]).toBe("arn:aws:iam::111122223333:user/alice");
    // The forged assertion is gone; the one the origin gets is the gate's own (it verified it).
    expect(echo.headers["x-caller-assertion"]).not.toBe("forged");
    expect(echo.headers["x-caller-assertion"]).toMatch(/^eyJ[\w-]*\.[\w-]+\.[\w-]+$/);
    expect(echo.headers["x-caller-anything"]).toBeUndefined();
  });

  it("hands an origin redirect back to the client instead of following it", async () => {
    const res = await exports.default.fetch("https://localhost/redirect", {
      headers: bearer(await mintToken("alice")),
      redirect: "manual",
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://elsewhere.example/next");
  });

  it("answers 502 problem+json when the origin cannot be reached", async () => {
    const app = createGateApp();
    const unreachable = { fetch: () => Promise.reject(new TypeError("connection refused")) } as unknown as Fetcher;
    const res = await through(app, { ...env, ORIGIN: unreachable }, new Request("https://localhost/x", { headers: bearer(await mintToken("alice")) }));
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as { code: string }).code).toBe("origin_unreachable");
  });

  it("does not forward a caller the policy denies", async () => {
    let forwarded = 0;
    const origin = { fetch: () => (forwarded++, Promise.resolve(new Response("reached"))) } as unknown as Fetcher;
    const denied = await through(createGateApp(), { ...env, ORIGIN: origin }, "https://localhost/", { headers: bearer(await mintToken("reader")) });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { code: string }).code).toBe("policy_denied");
    expect(forwarded).toBe(0);
    // The same gate and origin forward a caller the policy allows, so the count can move.
    const allowed = await through(createGateApp(), { ...env, ORIGIN: origin }, "https://localhost/", { headers: bearer(await mintToken("alice")) });
    expect(allowed.status).toBe(200);
    expect(forwarded).toBe(1);
  });
});

describe("origin faults", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("answers 504 problem+json when the origin does not answer within ORIGIN_TIMEOUT_MS", async () => {
    let aborted = false;
    let reached!: () => void;
    const originCalled = new Promise<void>((resolve) => (reached = resolve));
    const hanging = {
      fetch: (_url: string, init: RequestInit) =>
        new Promise<Response>(() => {
          init.signal?.addEventListener("abort", () => (aborted = true));
          reached();
        }),
    } as unknown as Fetcher;
    const request = new Request("https://localhost/slow", { headers: bearer(await mintToken("alice")) });
    // An injected clock for the gate's timers: the deadline is read exactly, not raced.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let res: Response | undefined;
    void through(createGateApp(), { ...env, ORIGIN: hanging, ORIGIN_TIMEOUT_MS: "300" }, request)
      .then((r) => (res = r));
    await originCalled;
    await vi.advanceTimersByTimeAsync(299);
    expect(res).toBeUndefined();
    expect(aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(res?.status).toBe(504);
    expect(res!.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res!.json()) as { code: string }).code).toBe("origin_timeout");
    expect(aborted).toBe(true);
  });

  it("answers 502 when the origin resets the connection mid-upload, and sends the body nowhere else", async () => {
    const received: string[] = [];
    let calls = 0;
    const resetting = {
      async fetch(_url: string, init: RequestInit) {
        calls++;
        const reader = (init.body as ReadableStream<Uint8Array>).getReader();
        const first = await reader.read();
        received.push(new TextDecoder().decode(first.value));
        throw new TypeError("Network connection lost.");
      },
    } as unknown as Fetcher;
    const res = await through(createGateApp(), { ...env, ORIGIN: resetting }, new Request("https://localhost/upload", { method: "POST", headers: bearer(await mintToken("alice")), body: "secret payload" }));
    expect(res.status).toBe(502);
    expect(((await res.json()) as { code: string }).code).toBe("origin_unreachable");
    expect(calls).toBe(1);
    expect(received.join("")).toBe("secret payload");
  });

  it("rejects an ORIGIN_TIMEOUT_MS that is not a whole number: 500 misconfigured, with a log line naming it", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const res = await through(createGateApp(), { ...env, ORIGIN_TIMEOUT_MS: "1e3" }, new Request("https://localhost/", { headers: bearer(await mintToken("alice")) }));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe("misconfigured");
    const lines = logLines<{ event: string; message?: string }>(log);
    expect(lines.some((l) => l.event === "config" && l.message?.startsWith("ORIGIN_TIMEOUT_MS:"))).toBe(true);
  });
});
