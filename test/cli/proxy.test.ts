/**
 * `sts-gate proxy` (issue 22) against the gate in workerd: Miniflare runs the gate, the STS
 * emulator and the echo origin on real ports; the proxy runs as the CLI does (`npm run sts-gate
 * -- proxy`, a child process) with the emulator's credentials in its environment. Its own
 * "who am I" question goes to the emulator through AWS_ENDPOINT_URL_STS, as the AWS SDKs'
 * setting sends it to LocalStack.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { join, resolve } from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import identities from "../emulator/identities.json";
import { bundleWorker } from "../support/bundle.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");
const AUDIENCE = "sts-gate-proxy-test";
const ECHO = "http://echo-origin.local";
const ALICE = identities.identities.find((i) => i.name === "alice")!;
const ALICE_ARN = ALICE.arn;

/** The shared Worker bundler (test/support/bundle.ts), rooted at this repository. */
function bundle(entry: string, outfile: string): Promise<string> {
  return bundleWorker(ROOT, entry, outfile);
}

async function assertionKeys(): Promise<{ privateJwk: string; jwks: string }> {
  const { privateKey } = await generateKeyPair("EdDSA", { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, "sha256");
  const pub = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: "EdDSA", use: "sig" };
  return { privateJwk: JSON.stringify({ ...pub, d: jwk.d }), jwks: JSON.stringify({ keys: [pub] }) };
}

/** An environment with nothing of the machine's AWS setup: no files, no metadata, no AWS_* variables. */
function isolatedEnv(tmp: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: tmp,
    AWS_CONFIG_FILE: join(tmp, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(tmp, "no-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    ...extra,
  };
  return env as unknown as NodeJS.ProcessEnv;
}

interface Proxy {
  child: ChildProcess;
  url: string;
  port: number;
  ready: string;
  stdout: () => string;
  stderr: () => string;
}

/** Runs the CLI to completion. */
function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [TSX, join(ROOT, "src/cli/sts-gate.ts"), ...args], { cwd: ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

/** Starts a proxy and waits for its ready line. */
function startProxy(args: string[], env: NodeJS.ProcessEnv): Promise<Proxy> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [TSX, join(ROOT, "src/cli/sts-gate.ts"), "proxy", ...args], { cwd: ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /^sts-gate proxy: (http:\/\/127\.0\.0\.1:(\d+)) -> .*\n/m.exec(stdout);
      if (m) done({ child, url: m[1]!, port: Number(m[2]), ready: m[0].trimEnd(), stdout: () => stdout, stderr: () => stderr });
    });
    child.on("close", (code) => fail(new Error(`the proxy exited ${code} before it was ready: ${stderr}`)));
  });
}

/** A raw request, so the test chooses Host and Origin exactly. */
function raw(port: number, path: string, headers: Record<string, string>, method = "GET"): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method, headers, setHost: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

/** A WebSocket handshake by hand, so the test chooses Origin; resolves with the status line's code. */
function upgradeStatus(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((done, fail) => {
    const req = httpRequest({
      host: "127.0.0.1",
      port,
      path: "/ws",
      headers: { host: `127.0.0.1:${port}`, connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers },
      setHost: false,
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      done(res.statusCode ?? 0);
    });
    req.on("response", (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on("error", fail);
    req.end();
  });
}

describe("sts-gate proxy", () => {
  let tmp: string;
  let mf: Miniflare;
  let gateUrl: string;
  let stsUrl: string;
  let stsCalls = 0;
  /** How many requests reached the origin. */
  async function originCalls(): Promise<number> {
    const counter = (await mf.getWorker("origin-counter")) as unknown as { fetch(u: string): Promise<Response> };
    return Number(await (await counter.fetch("http://counter.local/__count")).text());
  }
  let proxy: Proxy;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await mkdir(join(ROOT, "dist/test"), { recursive: true });
    tmp = await mkdtemp(join(ROOT, "dist/test/proxy-"));
    const [gateJs, emulatorJs, echoJs, keys] = await Promise.all([
      bundle("src/worker.ts", join(tmp, "gate.js")),
      bundle("test/emulator/worker.ts", join(tmp, "sts-emulator.js")),
      bundle("test/echo-origin/worker.ts", join(tmp, "echo-origin.js")),
      assertionKeys(),
    ]);
    const date = /^compatibility_date\s*=\s*"([0-9-]+)"/m.exec(await readFile(join(ROOT, "wrangler.toml"), "utf8"))![1]!;
    mf = new Miniflare(convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      workers: [
        {
          name: "gate",
          modules: true,
          scriptPath: gateJs,
          compatibilityDate: date,
          bindings: {
            AUDIENCE,
            ORIGIN_URL: ECHO,
            POLICY: { allow: [ALICE_ARN] },
            ASSERTION_PRIVATE_JWK: keys.privateJwk,
          },
          kvNamespaces: { IDENTITY_CACHE: "proxy-identity-cache" },
          serviceBindings: {
            // Counts the gate's STS calls, then hands them to the emulator.
            STS: async (request) => {
              stsCalls++;
              const sts = (await mf.getWorker("sts-emulator")) as unknown as { fetch(r: unknown): Promise<never> };
              return sts.fetch(request);
            },
            // In workerd, so that WebSockets and redirects pass as the origin sent them.
            ORIGIN: "origin-counter",
          },
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        },
        // Also on a port of its own: the proxy's AWS_ENDPOINT_URL_STS.
        { name: "sts-emulator", modules: true, scriptPath: emulatorJs, compatibilityDate: date, unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] },
        {
          // Counts what reaches the origin, then hands it to the echo origin.
          name: "origin-counter",
          modules: true,
          script: `let count = 0;
            export default {
              fetch(request, env) {
                if (new URL(request.url).pathname === "/__count") return new Response(String(count));
                count++;
                return env.ECHO.fetch(request);
              },
            };`,
          compatibilityDate: date,
          serviceBindings: { ECHO: "echo-origin" },
        },
        {
          name: "echo-origin",
          modules: true,
          scriptPath: echoJs,
          compatibilityDate: date,
          bindings: { ASSERTION_JWKS: keys.jwks, ASSERTION_ISSUER: `urn:sts-gate:${AUDIENCE}`, ASSERTION_AUDIENCE: ECHO },
        },
      ],
    }));
    await mf.ready;
    gateUrl = new URL(await mf.unsafeGetDirectURL("gate")).origin;
    stsUrl = new URL(await mf.unsafeGetDirectURL("sts-emulator")).origin;
    env = isolatedEnv(tmp, { AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE.secretAccessKey, AWS_ENDPOINT_URL_STS: stsUrl });
    proxy = await startProxy(["--gate", gateUrl, "--audience", AUDIENCE, "--port", "0", "--allow-origin", "http://app.localhost:3000"], env);
  }, 120_000);

  afterAll(async () => {
    proxy?.child.kill("SIGTERM");
    await mf?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("prints one ready line: its URL, the gate, and who the caller is", () => {
    expect(proxy.ready).toBe(`sts-gate proxy: ${proxy.url} -> ${gateUrl} as ${ALICE_ARN}`);
    expect(proxy.stdout()).toBe(`${proxy.ready}\n`);
  });

  it("forwards a request as sent (method, path, query, headers, body) with the caller's identity", async () => {
    const before = await originCalls();
    const res = await fetch(`${proxy.url}/items/42?view=full&x=%2F`, { method: "POST", headers: { "x-custom": "kept", "content-type": "text/plain" }, body: "hello" });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as { method: string; url: string; headers: Record<string, string>; body: string; caller: { arn: string } };
    expect(echo).toMatchObject({ method: "POST", url: `${ECHO}/items/42?view=full&x=%2F`, body: "hello", caller: { arn: ALICE_ARN } });
    expect(echo.headers).toMatchObject({ "x-custom": "kept", "content-type": "text/plain", "x-caller-arn": ALICE_ARN });
    expect(echo.headers).not.toHaveProperty("authorization");
    expect(await originCalls()).toBe(before + 1);
    // One line per request on stderr: method, path, status, milliseconds.
    await expect.poll(() => proxy.stderr()).toMatch(/^POST \/items\/42 200 \d+ms$/m);
  });

  it("passes the gate's refusals and the origin's redirects through as sent", async () => {
    const res = await fetch(`${proxy.url}/items/redirect`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://elsewhere.example/next");
    const refused = await fetch(`${proxy.url}/items?_method=DELETE`);
    expect(refused.status).toBe(400);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(await refused.json()).toMatchObject({ code: "method_override" });
  });

  it("reuses one token: many requests cost the gate one STS call", async () => {
    const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => fetch(`${proxy.url}/many/${i}`).then((r) => r.status)));
    expect(answers).toEqual(Array(25).fill(200));
    // Every request since the proxy started, the first test's included, carried the same token.
    expect(stsCalls).toBe(1);
  });

  it("streams an upload to the gate, and the answer back", async () => {
    const chunk = "x".repeat(16 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 64) return controller.close();
        sent++;
        await new Promise((r) => setTimeout(r, 1));
        controller.enqueue(new TextEncoder().encode(chunk));
      },
    });
    const res = await fetch(`${proxy.url}/upload`, { method: "PUT", body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(200);
    const echo = (await res.json()) as { body: string; headers: Record<string, string> };
    expect(echo.body.length).toBe(64 * chunk.length);
    expect(echo.body).toBe(chunk.repeat(64));
  });

  it("passes a WebSocket upgrade through, as the caller", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/socket`);
    const message = await new Promise<string>((done, fail) => {
      ws.addEventListener("open", () => ws.send("hello"));
      ws.addEventListener("message", (e) => done(String(e.data)));
      ws.addEventListener("error", () => fail(new Error("WebSocket error")));
    });
    ws.close();
    expect(message).toBe(`${ALICE_ARN}: hello`);
  });

  it.each([
    ["another host (DNS rebinding)", "evil.example"],
    ["another host with the proxy's port", "evil.example:PORT"],
    ["the loopback address on another port", "127.0.0.1:1"],
    ["no port", "127.0.0.1"],
  ])("answers 403 to a Host header naming %s, and forwards nothing (rule proxyHostCheck)", async (_why, host) => {
    const before = await originCalls();
    const res = await raw(proxy.port, "/items/1", { host: host.replace("PORT", String(proxy.port)) });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code: "proxy_host_refused", status: 403 });
    expect(await originCalls()).toBe(before);
  });

  it("accepts its own address and localhost, with its port, as Host", async () => {
    expect((await raw(proxy.port, "/items/1", { host: `127.0.0.1:${proxy.port}` })).status).toBe(200);
    expect((await raw(proxy.port, "/items/1", { host: `localhost:${proxy.port}` })).status).toBe(200);
    expect((await raw(proxy.port, "/items/1", { host: `LOCALHOST:${proxy.port}` })).status).toBe(200);
  });

  it.each([
    ["another site", "https://evil.example"],
    ["the proxy's host on another port", "http://127.0.0.1:1"],
    ["an opaque origin (sandboxed page, file:)", "null"],
    ["an allowed origin's other scheme", "https://app.localhost:3000"],
  ])("answers 403 to a request from %s, and forwards nothing (rule proxyOriginCheck)", async (_why, origin) => {
    const before = await originCalls();
    for (const method of ["GET", "POST"]) {
      const res = await raw(proxy.port, "/items/1", { host: `127.0.0.1:${proxy.port}`, origin }, method);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ code: "proxy_origin_refused" });
    }
    expect(await upgradeStatus(proxy.port, { origin })).toBe(403);
    expect(await originCalls()).toBe(before);
  });

  it("forwards a request from its own origin and from an --allow-origin origin", async () => {
    for (const origin of [proxy.url, `http://localhost:${proxy.port}`, "http://app.localhost:3000"]) {
      expect((await raw(proxy.port, "/items/1", { host: `127.0.0.1:${proxy.port}`, origin })).status, origin).toBe(200);
    }
    expect(await upgradeStatus(proxy.port, { origin: "http://app.localhost:3000" })).toBe(101);
  });

  it("never prints a token or a secret", () => {
    const output = proxy.stdout() + proxy.stderr();
    expect(output).not.toContain("k8s-aws-v1.");
    expect(output).not.toContain("X-Amz-Signature");
    expect(output).not.toContain(ALICE.secretAccessKey);
    expect(output).not.toContain("?view=full");
  });

  it("stops on SIGINT with exit 0, even with a WebSocket open", async () => {
    const second = await startProxy(["--gate", gateUrl, "--audience", AUDIENCE, "--port", "0"], env);
    const ws = new WebSocket(`ws://127.0.0.1:${second.port}/socket`);
    await new Promise<void>((done, fail) => {
      ws.addEventListener("open", () => done());
      ws.addEventListener("error", () => fail(new Error("WebSocket error")));
    });
    const exited = new Promise<number | null>((done) => second.child.on("exit", (code) => done(code)));
    second.child.kill("SIGINT");
    expect(await exited).toBe(0);
  }, 60_000);

  it.each(["0.0.0.0", "192.168.1.10", "::", "example.com", "127.0.0.1.nip.io"])(
    "refuses --host %s: exits 2 with a message and never listens (rule proxyLoopbackOnly)",
    async (host) => {
      const run = await runCli(["proxy", "--gate", gateUrl, "--audience", AUDIENCE, "--port", "0", "--host", host], env);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/^sts-gate: --host must be a loopback address .*\n$/);
    },
    60_000,
  );

  it("cliGateHttps: refuses a gate on plain http that is not this machine, before it loads credentials", async () => {
    const r = await runCli(["proxy", "--gate", "http://gate.example.com", "--audience", AUDIENCE, "--port", "0"], isolatedEnv(tmp));
    expect(r).toEqual({ code: 2, stdout: "", stderr: "sts-gate: --gate must be an https URL (http only for a loopback host, e.g. http://127.0.0.1:8787); run 'sts-gate proxy --help'\n" });
  }, 60_000);

  it("exits 1 with sts-gate token's own message when no credentials can be loaded", async () => {
    const bare = isolatedEnv(tmp);
    const [proxied, token] = await Promise.all([
      runCli(["proxy", "--gate", gateUrl, "--audience", AUDIENCE, "--port", "0"], bare),
      runCli(["token", "--audience", AUDIENCE], bare),
    ]);
    expect(token.code).toBe(1);
    expect(proxied).toEqual({ code: 1, stdout: "", stderr: token.stderr });
    expect(proxied.stderr).toMatch(/^sts-gate: no AWS credentials found/);
  }, 60_000);
});
