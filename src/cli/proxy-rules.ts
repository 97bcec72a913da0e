/**
 * The rules of `sts-gate proxy` (src/cli/proxy.ts) that decide, as pure functions with no Node
 * import, so they are tested (and mutated) beside the gate: where it may listen, which requests
 * it forwards, and how long it reuses a token. SECURITY.md, ATTACKS #29.
 */
import type { GateToken } from "../client/token.ts";

/** A token is reused until it is this old, then a fresh one is minted: before it is 5 minutes old. */
export const PROXY_TOKEN_REUSE_MS = 4 * 60 * 1000;

/**
 * Rule `proxyLoopbackOnly`: the loopback address to listen on for `--host`, or undefined for
 * any other. `localhost` is taken as 127.0.0.1 (a name could resolve elsewhere).
 */
export function loopbackAddress(host: string): string | undefined {
  if (host === "localhost") return "127.0.0.1";
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(bare);
  if (v4 !== null && v4.slice(1).every((n) => Number(n) <= 255)) return bare;
  if (/^(?:0{0,4}:){2,7}0{0,3}1$/.test(bare) || bare === "::1") return "::1";
  return undefined;
}

/** The Host values and origins that are the proxy's own, once it listens on `address`:`port`. */
export function ownAddresses(address: string, port: number): { hosts: ReadonlySet<string>; origins: ReadonlySet<string> } {
  const shown = address.includes(":") ? `[${address}]` : address;
  return {
    hosts: new Set([`${shown}:${port}`, `localhost:${port}`]),
    origins: new Set([`http://${shown}:${port}`, `http://localhost:${port}`]),
  };
}

export interface ProxyRefusal {
  code: "proxy_host_refused" | "proxy_origin_refused";
  detail: string;
}

/**
 * Rules `proxyHostCheck` (DNS rebinding: a page on evil.example whose name now resolves to
 * 127.0.0.1 sends `Host: evil.example:<port>`) and `proxyOriginCheck` (a page on another site
 * makes the browser send a request, or open a WebSocket, to localhost): the refusal, or
 * undefined to forward. Host is compared regardless of case, with its port; Origin exactly.
 */
export function proxyRefusal(
  headers: { host?: string | undefined; origin?: string | undefined; "sec-fetch-site"?: string | string[] | undefined },
  own: { hosts: ReadonlySet<string>; origins: ReadonlySet<string> },
  allowOrigins: readonly string[],
): ProxyRefusal | undefined {
  const host = (headers.host ?? "").toLowerCase();
  if (!own.hosts.has(host)) {
    return { code: "proxy_host_refused", detail: "The Host header is not this proxy's own loopback address and port: refused, so a DNS-rebinding page cannot use your identity." };
  }
  const origin = headers.origin;
  if (origin !== undefined && !own.origins.has(origin) && !allowOrigins.includes(origin)) {
    return { code: "proxy_origin_refused", detail: "The request comes from a web page on another origin: refused (allow that origin with --allow-origin)." };
  }
  // A browser sends no Origin with a cross-site GET from an <img> or a link, but it does send
  // Sec-Fetch-Site: such a request would still run with your identity (CSRF), so it is refused
  // unless its origin was allowed. Tools (curl, SDKs) send no Sec-Fetch-Site at all.
  const site = headers["sec-fetch-site"];
  if (origin === undefined && (site === "cross-site" || site === "same-site")) {
    return { code: "proxy_origin_refused", detail: "The request comes from a web page on another site (Sec-Fetch-Site): refused." };
  }
  return undefined;
}

/**
 * Rule `proxyTokenReuse`: one token for PROXY_TOKEN_REUSE_MS (or until a minute before the
 * credentials expire, if that is sooner), then a fresh one; concurrent requests share one mint.
 * A gate then sees one STS call per caller every few minutes, not one per request.
 */
export class TokenSource {
  private current: { token: GateToken; freshUntil: number } | undefined;
  private minting: Promise<GateToken> | undefined;

  constructor(
    private readonly mint: () => Promise<GateToken>,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<GateToken> {
    if (this.current !== undefined && this.now() < this.current.freshUntil) return Promise.resolve(this.current.token);
    this.minting ??= this.fresh().finally(() => (this.minting = undefined));
    return this.minting;
  }

  private async fresh(): Promise<GateToken> {
    const signedAt = this.now();
    const token = await this.mint();
    this.current = { token, freshUntil: Math.min(signedAt + PROXY_TOKEN_REUSE_MS, token.expiresAt.getTime() - 60_000) };
    return token;
  }
}
