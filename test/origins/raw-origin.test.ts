/**
 * An origin that answers statuses no Response can carry (rule `originStatusRange`): a raw HTTP
 * server in Node, behind the gate in workerd. Both request paths (the plain path, and the Hono
 * app that takes any path with `;`) must answer 502 `origin_bad_response` as problem+json, with
 * the request id and CORS, and write one decision line with outcome `error`.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decisionsSince, listen, startGate, type GateHarness } from "./harness";

const ALICE = "arn:aws:iam::111122223333:user/alice";
const APP = "https://app.example.com";

/** Answers `/status/<code>[;…]` with that status line, whatever it is. */
function rawOrigin(): Server {
  return createServer((socket: Socket) => {
    let head = "";
    socket.on("data", (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      const path = /^[A-Z]+ (\S+)/.exec(head)?.[1] ?? "/";
      const code = /^\/status\/(\d{3})/.exec(path)?.[1] ?? "200";
      const extra = code === "101" ? "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n" : "Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi";
      socket.end(`HTTP/1.1 ${code} Whatever\r\n${extra}`);
    });
    socket.on("error", () => undefined);
  });
}

describe("an origin status outside 200–599", () => {
  let origin: Server;
  let gate: GateHarness;

  beforeAll(async () => {
    origin = rawOrigin();
    const port = await listen(origin);
    gate = await startGate(port, { ORIGIN_URL: "http://raw.local", POLICY: { allow: [ALICE] }, CORS_ALLOWED_ORIGINS: APP });
  }, 120_000);

  afterAll(async () => {
    await gate?.dispose();
    await new Promise((done) => (origin ? origin.close(done) : done(undefined)));
  });

  it("a 200 passes, as a control", async () => {
    const res = await fetch(`${gate.url}/status/200`, { headers: { authorization: `Bearer ${await gate.token()}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hi");
  });

  it.each([
    ["999 (LinkedIn's), plain path", "/status/999"],
    ["600, plain path", "/status/600"],
    ["999, the Hono app's path", "/status/999;x"],
    ["an unasked-for 101, plain path", "/status/101"],
    ["an unasked-for 101, the Hono app's path", "/status/101;x"],
  ])("%s: 502 origin_bad_response, problem+json with the request id and CORS, one error line", async (_why, path) => {
    const from = gate.lines.length;
    const res = await fetch(`${gate.url}${path}`, { headers: { authorization: `Bearer ${await gate.token()}`, origin: APP } });
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as { code: string }).code).toBe("origin_bad_response");
    const id = res.headers.get("x-request-id");
    expect(id).toMatch(/.+/);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    const decisions = decisionsSince(gate, from);
    expect(decisions).toEqual([expect.objectContaining({ outcome: "error", status: 502, code: "origin_bad_response", requestId: id })]);
  });
});
