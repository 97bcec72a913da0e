/**
 * `sts-gate proxy`: a local sidecar that lets any tool (curl, Postman, a browser, k6, an HTTP
 * client) call through a gate. It listens on a loopback address and forwards every request to
 * the gate as sent (method, path, query, headers, body, streamed both ways; WebSocket upgrades
 * too) with `Authorization: Bearer <token>` added, minting the token from the AWS SDK's default
 * credential chain and reusing it for a few minutes, so a gate sees one STS call per caller
 * every few minutes, not one per request.
 *
 * A local port that adds your identity to whatever reaches it is a target (SECURITY.md,
 * ATTACKS #29): it listens on loopback only (`proxyLoopbackOnly`), answers a request whose
 * Host is not its own address with 403 (`proxyHostCheck`, DNS rebinding), and a request whose
 * Origin is not its own or one given by --allow-origin with 403 (`proxyOriginCheck`, cross-site
 * requests from a web page), both before anything is forwarded. No token is ever printed.
 */
import { Agent as HttpAgent, request as httpRequest, createServer, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { createToken, type AwsCredentials, type GateToken } from "../client/token.ts";
import { loopbackAddress, ownAddresses, proxyRefusal, TokenSource } from "./proxy-rules.ts";
import { AUDIENCE_HEADER, TOKEN_PREFIX } from "../protocol.ts";
import { CliError } from "./aws-config.ts";
import { gateUrl } from "./gate-url.ts";

export const PROXY_DEFAULT_PORT = 8181;
export const PROXY_DEFAULT_HOST = "127.0.0.1";
/** The gate's whoami endpoint: 200 `{ arn, principal, account, userId, type }` where it exists. */
export const WHOAMI_PATH = "/.well-known/sts-gate/whoami";

/** Headers of one hop, never passed on (RFC 9110 §7.6.1), and the credentials the proxy replaces. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade"]);

export interface ProxyOptions {
  gate: URL;
  audience: string;
  host: string;
  port: number;
  /** Origins (scheme://host[:port]) a browser page may call the proxy from, besides its own. */
  allowOrigins: readonly string[];
  /** The credentials to sign with, loaded again for every fresh token (SSO credentials expire). */
  credentials: () => Promise<AwsCredentials>;
  region: string;
  global: boolean;
  /** Who the caller is, when the gate has no whoami endpoint: asks STS itself. */
  identify: (token: GateToken) => Promise<string>;
  now?: () => number;
  stderr: (text: string) => void;
}

export interface RunningProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** The ARN the gate (or STS) says the caller is. */
  arn: string;
  close(): Promise<void>;
}

/** Rule `proxyLoopbackOnly`: the address to listen on, or exit 2. */
export function loopbackListenAddress(host: string): string {
  const address = loopbackAddress(host);
  if (address !== undefined) return address;
  throw new CliError(`--host must be a loopback address (127.0.0.1, another 127.x.x.x, ::1 or localhost), not ${JSON.stringify(host.slice(0, 100))}: anything that reaches the proxy is sent with your identity`, 2);
}

/** Rule `cliGateHttps`, as every command that sends a token applies it. */
export function proxyGateUrl(text: string | undefined): URL {
  return gateUrl(text, (message) => new CliError(`${message}; run 'sts-gate proxy --help'`, 2));
}

/** An --allow-origin value as a browser sends it in `Origin`: scheme://host[:port], nothing else. */
export function allowedOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`--allow-origin is not an origin (scheme://host[:port]): ${JSON.stringify(text.slice(0, 200))}`, 2);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.origin !== text.replace(/\/$/, "")) {
    throw new CliError(`--allow-origin is not an origin (scheme://host[:port]): ${JSON.stringify(text.slice(0, 200))}`, 2);
  }
  return url.origin;
}

function problem(res: ServerResponse | Duplex, status: number, code: string, detail: string): void {
  const body = JSON.stringify({ type: `urn:sts-gate:problem:${code}`, title: detail, status, detail, code });
  if ("writeHead" in res) {
    res.writeHead(status, { "content-type": "application/problem+json", "content-length": Buffer.byteLength(body) }).end(body);
  } else {
    res.end(`HTTP/1.1 ${status} ${status === 403 ? "Forbidden" : "Bad Gateway"}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }
}

/**
 * Starts the proxy: learns who the caller is (the gate's whoami, else STS), listens, and
 * returns once it is ready. Throws CliError for unusable options or credentials.
 */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const listenAddress = loopbackListenAddress(options.host);
  const tokens = new TokenSource(
    async () => createToken({ credentials: await options.credentials(), audience: options.audience, region: options.region, global: options.global, now: options.now }),
    options.now,
  );
  // The first token now: missing credentials fail here, before anything listens.
  const first = await tokens.get();
  const arn = await whoAmI(options, first);
  const gate = options.gate;
  const gatePrefix = gate.pathname.replace(/\/+$/, "");
  const send = gate.protocol === "https:" ? httpsRequest : httpRequest;
  // A connection per request: a kept-alive connection the gate closed while idle would turn the
  // next request (its body already streaming) into a failure the proxy cannot retry.
  const agent = gate.protocol === "https:" ? new HttpsAgent({ keepAlive: false }) : new HttpAgent({ keepAlive: false });
  /** Upgraded connections (WebSockets), which `closeAllConnections` does not know about. */
  const tunnels = new Set<Duplex>();
  let allowedHosts: ReadonlySet<string> = new Set();
  let ownOrigins: ReadonlySet<string> = new Set();

  const refusal = (req: IncomingMessage) => proxyRefusal(req.headers, { hosts: allowedHosts, origins: ownOrigins }, options.allowOrigins);

  async function upstreamHeaders(req: IncomingMessage, keepUpgrade: boolean): Promise<OutgoingHttpHeaders> {
    const headers: OutgoingHttpHeaders = {};
    const connectionListed = new Set((String(req.headers.connection ?? "")).toLowerCase().split(",").map((s) => s.trim()).filter(Boolean));
    for (const [name, value] of Object.entries(req.headers as IncomingHttpHeaders)) {
      if (value === undefined || name === "host" || name === "authorization") continue;
      if (HOP_BY_HOP.has(name) || connectionListed.has(name)) continue;
      headers[name] = value;
    }
    if (keepUpgrade) {
      headers.connection = "Upgrade";
      headers.upgrade = req.headers.upgrade ?? "websocket";
    }
    headers.host = gate.host;
    headers.authorization = `Bearer ${(await tokens.get()).token}`;
    return headers;
  }

  function target(req: IncomingMessage): { path: string; logPath: string } {
    const raw = req.url ?? "/";
    const path = raw.startsWith("/") ? raw : "/";
    return { path: `${gatePrefix}${path}`, logPath: path.split("?")[0]! };
  }

  function line(method: string | undefined, path: string, status: number | string, started: number): void {
    options.stderr(`${method ?? "?"} ${path} ${status} ${Math.round(performance.now() - started)}ms\n`);
  }

  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const { path, logPath } = target(req);
    const refused = refusal(req);
    if (refused !== undefined) {
      req.resume();
      problem(res, 403, refused.code, refused.detail);
      line(req.method, logPath, 403, started);
      return;
    }
    void (async () => {
      let headers: OutgoingHttpHeaders;
      try {
        headers = await upstreamHeaders(req, false);
      } catch (error) {
        req.resume();
        problem(res, 502, "proxy_token_failed", `No token could be made: ${oneLine(error)}`);
        line(req.method, logPath, 502, started);
        return;
      }
      const upstream = send({ protocol: gate.protocol, hostname: gate.hostname.replace(/^\[(.*)\]$/, "$1"), port: gate.port || undefined, method: req.method, path, headers, agent });
      upstream.on("response", (answer) => {
        const out: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out);
        answer.pipe(res);
        res.on("finish", () => line(req.method, logPath, answer.statusCode ?? 502, started));
        answer.on("error", () => res.destroy());
      });
      upstream.on("error", (error) => {
        if (!res.headersSent) {
          problem(res, 502, "proxy_gate_unreachable", `The gate could not be reached: ${oneLine(error)}`);
          line(req.method, logPath, 502, started);
        } else res.destroy();
      });
      req.pipe(upstream);
      req.on("error", () => upstream.destroy());
    })();
  });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const started = performance.now();
    const { path, logPath } = target(req);
    const refused = refusal(req);
    if (refused !== undefined) {
      problem(socket, 403, refused.code, refused.detail);
      line(req.method, logPath, 403, started);
      return;
    }
    void (async () => {
      let headers: OutgoingHttpHeaders;
      try {
        headers = await upstreamHeaders(req, true);
      } catch (error) {
        problem(socket, 502, "proxy_token_failed", `No token could be made: ${oneLine(error)}`);
        return;
      }
      const upstream = send({ protocol: gate.protocol, hostname: gate.hostname.replace(/^\[(.*)\]$/, "$1"), port: gate.port || undefined, method: req.method, path, headers, agent });
      upstream.on("upgrade", (answer, upSocket: Socket, upHead: Buffer) => {
        const lines = [`HTTP/1.1 ${answer.statusCode ?? 101} ${answer.statusMessage ?? "Switching Protocols"}`];
        for (let i = 0; i < answer.rawHeaders.length; i += 2) lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
        socket.write(`${lines.join("\r\n")}\r\n\r\n`);
        if (upHead.length > 0) socket.write(upHead);
        if (head.length > 0) upSocket.write(head);
        upSocket.pipe(socket).pipe(upSocket);
        tunnels.add(socket).add(upSocket);
        const forget = () => {
          tunnels.delete(socket);
          tunnels.delete(upSocket);
        };
        socket.on("close", forget);
        upSocket.on("close", forget);
        upSocket.on("error", () => socket.destroy());
        socket.on("error", () => upSocket.destroy());
        line(req.method, logPath, answer.statusCode ?? 101, started);
      });
      upstream.on("response", (answer) => {
        // The gate refused the upgrade (401, 403, …): its answer, as sent, then close.
        const lines = [`HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ""}`];
        for (let i = 0; i < answer.rawHeaders.length; i += 2) {
          if (!HOP_BY_HOP.has(answer.rawHeaders[i]!.toLowerCase())) lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
        }
        lines.push("connection: close");
        socket.write(`${lines.join("\r\n")}\r\n\r\n`);
        answer.pipe(socket);
        line(req.method, logPath, answer.statusCode ?? 502, started);
      });
      upstream.on("error", (error) => {
        problem(socket, 502, "proxy_gate_unreachable", `The gate could not be reached: ${oneLine(error)}`);
        line(req.method, logPath, 502, started);
      });
      socket.on("error", () => upstream.destroy());
      upstream.end();
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new CliError(`cannot listen on ${listenAddress}:${options.port}: ${error.code ?? oneLine(error)}`)),
    );
    server.listen(options.port, listenAddress, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = listenAddress.includes(":") ? `[${listenAddress}]` : listenAddress;
  ({ hosts: allowedHosts, origins: ownOrigins } = ownAddresses(listenAddress, port));
  return {
    url: `http://${shown}:${port}`,
    port,
    arn,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const tunnel of tunnels) tunnel.destroy();
      }),
  };
}

/** The gate's whoami endpoint; where it does not exist yet (404), STS itself. */
async function whoAmI(options: ProxyOptions, token: GateToken): Promise<string> {
  try {
    const res = await fetch(new URL(`${options.gate.pathname.replace(/\/+$/, "")}${WHOAMI_PATH}`, options.gate), {
      headers: { authorization: `Bearer ${token.token}`, accept: "application/json" },
      redirect: "manual",
    });
    if (res.status === 200) {
      const body = (await res.json().catch(() => undefined)) as { arn?: unknown } | undefined;
      if (typeof body?.arn === "string") return body.arn;
    } else {
      await res.body?.cancel();
      if (res.status !== 404) throw new CliError(`the gate answered ${res.status} on ${WHOAMI_PATH}: it did not accept the proxy's token`);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`the gate at ${options.gate.origin} could not be reached: ${oneLine(error)}`);
  }
  return options.identify(token);
}

/**
 * Who the token's credentials are, from STS itself: the presigned GetCallerIdentity request the
 * token carries, sent as the gate sends it. `AWS_ENDPOINT_URL_STS` (the AWS SDKs' own setting,
 * e.g. for LocalStack) sends it elsewhere, with the signed host kept in `Host`.
 */
export function identifyWithSts(endpointOverride: string | undefined, audience: string): (token: GateToken) => Promise<string> {
  return async (token) => {
    const presigned = new URL(Buffer.from(token.token.slice(TOKEN_PREFIX.length), "base64url").toString("utf8"));
    const to = endpointOverride === undefined ? presigned : new URL(`${presigned.pathname}${presigned.search}`, endpointOverride);
    const send = to.protocol === "https:" ? httpsRequest : httpRequest;
    const body = await new Promise<string>((resolve, reject) => {
      const req = send(
        {
          protocol: to.protocol,
          hostname: to.hostname.replace(/^\[(.*)\]$/, "$1"),
          port: to.port || undefined,
          method: "GET",
          path: `${to.pathname}${to.search}`,
          headers: { host: presigned.host, [AUDIENCE_HEADER]: audience, accept: "application/json" },
          timeout: 10_000,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            if (text.length < 65_536) text += chunk;
          });
          res.on("end", () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`STS answered ${res.statusCode}`))));
        },
      );
      req.on("timeout", () => req.destroy(new Error("STS did not answer within 10 s")));
      req.on("error", reject);
      req.end();
    }).catch((error: unknown) => {
      throw new CliError(`could not ask STS who you are: ${oneLine(error)}`);
    });
    const arn = (JSON.parse(body) as { GetCallerIdentityResponse?: { GetCallerIdentityResult?: { Arn?: unknown } } })?.GetCallerIdentityResponse?.GetCallerIdentityResult?.Arn;
    if (typeof arn !== "string") throw new CliError("could not ask STS who you are: its answer has no Arn");
    return arn;
  };
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // A token never appears in a message: cut anything that looks like one.
  return text.replace(/k8s-aws-v1\.[\w-]+/g, "<token>").replace(/\s+/g, " ").trim().slice(0, 300);
}
