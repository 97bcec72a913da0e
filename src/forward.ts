import type { CallerIdentity } from "./identity.ts";
import { withDeadline } from "./deadline.ts";
import { checkNoMethodOverride } from "./edge/method-override.ts";
import { checkOriginPath } from "./edge/path-boundary.ts";
import { hygienicHeaders, type ClientFacts } from "./edge/header-hygiene.ts";
import { ASSERTION_HEADER, requestTarget } from "./origin/claims.ts";
import { errorName, log } from "./log.ts";
import { REQUEST_ID_HEADER } from "./observe/decision.ts";
import { GateError } from "./errors.ts";

/** Identity headers the origin may trust, because the gate strips every inbound spelling of them first. */
export const CALLER_HEADERS = {
  arn: "X-Caller-Arn",
  principal: "X-Caller-Principal",
  account: "X-Caller-Account",
  userId: "X-Caller-User-Id",
  type: "X-Caller-Type",
  /** An assumed-role session's role name and session name (the session name identifies no one). */
  role: "X-Caller-Role",
  session: "X-Caller-Session",
  /** An IAM Identity Center session only: its permission set, and the person (their Identity Center user name). */
  permissionSet: "X-Caller-Permission-Set",
  user: "X-Caller-User",
  /** The signed assertion (a JWT) of all of the above, bound to this request: the origin contract's header. */
  assertion: ASSERTION_HEADER,
} as const;

export const DEFAULT_ORIGIN_TIMEOUT_MS = 30_000;

export interface ForwardOptions {
  originUrl: URL;
  /** Deadline for the origin's response headers (the body then streams for as long as it takes). */
  timeoutMs?: number;
  /** A service binding in development and tests; the network in production. */
  origin: Fetcher | undefined;
  /**
   * Signs the assertion for the request as the origin will receive it: its method, and its
   * path and query at the origin (`htu`, ORIGIN_URL's prefix included). Omitted: no assertion.
   */
  assert?: (request: { method: string; htu: string }) => Promise<string>;
  /** Sent as X-Request-Id (replacing the client's), so the origin's logs join the gate's. */
  requestId?: string;
}

/** ORIGIN_URL's path is a prefix; the request's path and query are appended to it. */
export function originTarget(originUrl: URL, incoming: URL): string {
  const prefix = originUrl.pathname.replace(/\/+$/, "");
  return `${originUrl.origin}${prefix}${incoming.pathname}${incoming.search}`;
}

/**
 * What the origin receives as headers: the client's, less every one `headerHygiene` strips (the
 * token, any spelling of an `X-Caller-*` header, method and URL overrides, forwarding headers),
 * then the gate's forwarding headers and the verified identity.
 */
export function originHeaders(inbound: Headers, identity: CallerIdentity | undefined, client: ClientFacts): Headers {
  const headers = hygienicHeaders(inbound, client);
  // A public path (rule `publicPathsStrict`): every header rule applied, and no identity added.
  if (identity === undefined) return headers;
  return withIdentityHeaders(headers, identity);
}

/** The `X-Caller-*` headers of a verified identity, set on `headers` (forwarded requests and forward-auth answers). */
export function withIdentityHeaders(headers: Headers, identity: CallerIdentity): Headers {
  headers.set(CALLER_HEADERS.arn, identity.arn);
  headers.set(CALLER_HEADERS.principal, identity.principal);
  headers.set(CALLER_HEADERS.account, identity.account);
  headers.set(CALLER_HEADERS.userId, identity.userId);
  headers.set(CALLER_HEADERS.type, identity.type);
  // Rule `sessionHeadersWhenKnown`: each only when its fact exists (never X-Caller-User for a
  // plain role session, a federated user or an IAM user); the inbound spellings are already gone.
  for (const fact of ["role", "session", "permissionSet", "user"] as const) {
    const value = identity[fact];
    if (value !== undefined) headers.set(CALLER_HEADERS[fact], value);
  }
  return headers;
}

/**
 * Same method, body streamed, redirects handed back to the client rather than followed
 * (following one would carry the caller's request, body and identity somewhere else).
 * `identity` undefined: a public path, forwarded with neither identity headers nor assertion.
 */
export async function forwardToOrigin(request: Request, identity: CallerIdentity | undefined, options: ForwardOptions, incoming = new URL(request.url)): Promise<Response> {
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  checkOriginPath(options.originUrl.pathname, incoming.pathname);
  checkNoMethodOverride(incoming.search);
  let target: URL | string = originTarget(options.originUrl, incoming);
  const headers = originHeaders(request.headers, identity, { ip: request.headers.get("cf-connecting-ip") ?? undefined, url: incoming });
  if (options.requestId !== undefined) headers.set(REQUEST_ID_HEADER, options.requestId);
  if (options.assert) {
    // Parsed once, and only to sign: the URL fetched and the htu signed are the same serialization.
    target = new URL(target);
    headers.set(CALLER_HEADERS.assertion, await options.assert({ method: request.method, htu: requestTarget(target) }));
  }
  const controller = new AbortController();
  const init: RequestInit = {
    method: request.method,
    headers,
    body: hasBody ? request.body : null,
    redirect: "manual",
    signal: controller.signal,
  };
  const timeoutMs = options.timeoutMs ?? DEFAULT_ORIGIN_TIMEOUT_MS;
  try {
    // On the deadline the controller aborts, which also stops the upload: the client's body is
    // never sent anywhere else. The body of an answer then streams for as long as it takes.
    const sent = options.origin ? options.origin.fetch(target, init) : fetch(target, init);
    const response = await withDeadline<Response | "timeout">(sent, { ms: timeoutMs, onTimeout: { fallback: "timeout" }, controller });
    if (response === "timeout") {
      log({ event: "forward", level: "error", message: "origin timed out", code: "origin_timeout" });
      throw new GateError("origin_timeout", `The origin did not answer within ${timeoutMs} ms.`);
    }
    checkOriginStatus(response, request.headers);
    return response;
  } catch (error) {
    if (error instanceof GateError) throw error;
    // Refused, reset (also mid-upload), DNS: the origin is unreachable; nothing is retried.
    log({ event: "forward", level: "error", message: "origin fetch failed", code: "origin_unreachable", error: errorName(error) });
    throw new GateError("origin_unreachable", "The origin could not be reached.");
  }
}

/**
 * Rule `originStatusRange`: the origin's status must be one a response can carry to the client,
 * 200 to 599, or a 101 for a WebSocket upgrade the client asked for. `fetch` hands back what an
 * origin says (LinkedIn's 999, an unasked-for 101), but no Response can be built with it, so it
 * would escape the gate as the runtime's bare 500: no problem+json, no request id, no line.
 */
export function checkOriginStatus(response: Response, requestHeaders: Headers): void {
  const { status } = response;
  if (status >= 200 && status <= 599) return;
  if (status === 101 && response.webSocket != null && /^websocket$/i.test(requestHeaders.get("upgrade") ?? "")) return;
  void response.body?.cancel().catch(() => undefined);
  log({ event: "forward", level: "error", message: "origin answered a status no response can carry", code: "origin_bad_response", originStatus: status });
  throw new GateError("origin_bad_response", `The origin answered with status ${status}, which the gate does not pass on.`);
}
