/**
 * The gate in workerd (Miniflare), in front of a real origin server in another process: PHP's
 * built-in server, a raw HTTP server, a servlet-style router. The origin is reached the way
 * production reaches it, over HTTP, through an `external` service binding to its port; STS is the
 * emulator. Tokens are minted in Node with sts-gate/client and the emulator's credentials.
 */
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { createToken } from "../../src/client/index.ts";
import identities from "../emulator/identities.json";
import { bundleWorker } from "../support/bundle.ts";
import { keepLogLines, type LogLine } from "../support/log-lines.ts";

export const ROOT = resolve(import.meta.dirname, "../..");
export const AUDIENCE = "sts-gate-origins";

/** The shared Worker bundler (test/support/bundle.ts), rooted at this repository. */
function bundle(entry: string, outfile: string): Promise<string> {
  return bundleWorker(ROOT, entry, outfile);
}

export function listen(server: Server | import("node:net").Server): Promise<number> {
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done((server.address() as AddressInfo).port)));
}

/** A port nothing listens on yet, for a server this test starts (nginx, Caddy). */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((done) => probe.close(done));
  return port;
}

export interface Got {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One HTTP request to a local server, its body read as text. */
export function send(port: number, method: string, path: string, headers: Record<string, string>): Promise<Got> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", fail);
    req.end();
  });
}

export interface GateHarness {
  /** The gate's own URL (http://127.0.0.1:<port>). */
  url: string;
  /** Every line the gate logged, parsed where it is JSON. */
  lines: LogLine[];
  /** A fresh bearer token of an emulator identity, for this gate's audience. */
  token(name?: string): Promise<string>;
  dispose(): Promise<void>;
}

/** Starts the gate with `vars` in front of the origin listening on `originPort`. */
export async function startGate(originPort: number, vars: Record<string, unknown>): Promise<GateHarness> {
  await mkdir(join(ROOT, "dist/test"), { recursive: true });
  // Inside the repository: Miniflare names modules relative to the working directory.
  const tmp = await mkdtemp(join(ROOT, "dist/test/origins-"));
  const [gateJs, emulatorJs] = await Promise.all([bundle("src/worker.ts", join(tmp, "gate.js")), bundle("test/emulator/worker.ts", join(tmp, "sts-emulator.js"))]);
  const date = /^compatibility_date\s*=\s*"([0-9-]+)"/m.exec(await readFile(join(ROOT, "wrangler.toml"), "utf8"))![1]!;
  const lines: LogLine[] = [];
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      handleStructuredLogs: keepLogLines(lines),
      workers: [
        {
          name: "gate",
          modules: true,
          scriptPath: gateJs,
          compatibilityDate: date,
          bindings: { AUDIENCE, ...vars },
          kvNamespaces: { IDENTITY_CACHE: `origins-identity-cache-${originPort}` },
          serviceBindings: { STS: "sts-emulator", ORIGIN: { external: { address: `127.0.0.1:${originPort}`, http: {} } } },
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        },
        { name: "sts-emulator", modules: true, scriptPath: emulatorJs, compatibilityDate: date },
      ],
    }),
  );
  await mf.ready;
  const url = new URL(await mf.unsafeGetDirectURL("gate")).origin;
  return {
    url,
    lines,
    async token(name = "alice") {
      const who = identities.identities.find((i) => i.name === name)!;
      const credentials = { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey, sessionToken: (who as { sessionToken?: string }).sessionToken };
      return (await createToken({ credentials, audience: AUDIENCE, region: "us-east-1" })).token;
    },
    async dispose() {
      await mf.dispose();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** The decision lines logged since `from` (an index into `lines`). */
export function decisionsSince(gate: GateHarness, from: number): Array<Record<string, unknown>> {
  return gate.lines.slice(from).filter((l) => l.event === "decision");
}

/**
 * One HTTP/1.1 request written byte for byte, for names no HTTP client will send (a space in a
 * header name). Resolves with the status line and the body.
 */
export async function rawRequest(port: number, head: string, body = ""): Promise<{ status: number; text: string }> {
  const { connect } = await import("node:net");
  return new Promise((done, fail) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(`${head}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", fail);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      done({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
  });
}
