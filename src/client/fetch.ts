import { problemType } from "../protocol.ts";
import {
  checkAudience,
  createToken,
  resolveStsEndpoint,
  StsGateClientError,
  TOKEN_LIFETIME_MS,
  EXPIRY_MARGIN_MS,
  type AwsCredentials,
  type GateToken,
} from "./token.ts";

export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** What requests are sent with: `fetch`, a service binding's `fetch`, a Hono app's `fetch`. */
export type FetchImplementation = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response> | Response;

/** Any function returning credentials, such as the AWS SDK's `fromNodeProviderChain()`. */
export type CredentialProvider = () => Promise<AwsCredentials>;

export interface GateFetchOptions {
  /** Fixed credentials (e.g. a Worker's secrets). Give this or `credentialProvider`. */
  credentials?: AwsCredentials;
  /** Called for every new token; the AWS SDK's providers cache and refresh on their own. */
  credentialProvider?: CredentialProvider;
  /** The gate's audience. */
  audience: string;
  region?: string;
  global?: boolean;
  /** The clock, epoch milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Mint a new token this long before the current one's `expiresAt`. Default 60 000 ms. */
  refreshBeforeMs?: number;
  /** The fetch to send requests with. Default the global `fetch`. */
  fetch?: FetchImplementation;
}

export const DEFAULT_REFRESH_BEFORE_MS = 60 * 1000;

const EXPIRED_PROBLEM_TYPE = problemType("token_expired");

/**
 * A `fetch` that calls a gate: it adds `Authorization: Bearer <token>`, reuses one token until
 * `refreshBeforeMs` before it expires, mints at most one new token at a time however many
 * requests are waiting for it, checks with the clock immediately before every send that the
 * token has not expired, and retries a request once if the gate answers 401 `token_expired`
 * and the body can be sent again (no body, or a string, ArrayBuffer, typed array, Blob,
 * FormData or URLSearchParams; never a stream, which is neither buffered nor retried).
 *
 * It overwrites any `Authorization` header of its own requests, and sends the token to every
 * URL it is given: use it for the gate's URLs only.
 */
export function createGateFetch(options: GateFetchOptions): FetchLike {
  const audience = checkAudience(options.audience);
  // Fail on a bad region when the fetch is made, not on its first request.
  resolveStsEndpoint(options.region, options.global);
  const { credentials, credentialProvider } = options;
  if ((credentials === undefined) === (credentialProvider === undefined)) {
    throw new StsGateClientError("options_invalid", "Give exactly one of credentials and credentialProvider.");
  }
  const refreshBeforeMs = options.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS;
  const maxRefresh = TOKEN_LIFETIME_MS - EXPIRY_MARGIN_MS;
  if (!Number.isFinite(refreshBeforeMs) || refreshBeforeMs < 0 || refreshBeforeMs >= maxRefresh) {
    throw new StsGateClientError("options_invalid", `refreshBeforeMs must be at least 0 and less than ${maxRefresh}.`);
  }
  const now = options.now ?? Date.now;
  // Looked up per call, unbound: Workers refuse `fetch` called with another `this`.
  const send: FetchImplementation = options.fetch ?? ((input, init) => fetch(input, init));

  let current: GateToken | undefined;
  let minting: Promise<GateToken> | undefined;

  function mint(): Promise<GateToken> {
    minting ??= (async () => {
      const creds = credentials ?? (await credentialProvider!());
      const token = await createToken({ credentials: creds, audience, region: options.region, global: options.global, now });
      current = token;
      return token;
    })().finally(() => {
      minting = undefined;
    });
    return minting;
  }

  /** A token that has not expired at the moment this returns (synchronously before the send). */
  async function usableToken(): Promise<GateToken> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let token = current;
      if (token === undefined || now() >= token.expiresAt.getTime() - refreshBeforeMs) {
        try {
          token = await mint();
        } catch (error) {
          // A failed refresh is no reason to drop a token that still works.
          if (current === undefined || now() >= current.expiresAt.getTime()) throw error;
          token = current;
        }
      }
      if (now() < token.expiresAt.getTime()) return token;
      // Expired between minting and now (a stalled clock jump, or credentials that expire
      // immediately): forget it and mint once more.
      if (current === token) current = undefined;
    }
    throw new StsGateClientError("clock", "Every token minted had already expired by the clock; check the clock and the credentials' expiration.");
  }

  return async function gateFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const replayable = canReplay(input, init);
    const token = await usableToken();
    const response = await send(input, withAuthorization(input, init, token.token));
    if (response.status !== 401 || !replayable || !(await saysTokenExpired(response))) return response;

    // The gate's clock disagrees with ours. Drop the token unless a concurrent request has
    // already replaced it, then try once more with a fresh one.
    if (current === token) current = undefined;
    const fresh = await usableToken();
    await response.body?.cancel();
    return await send(input, withAuthorization(input, init, fresh.token));
  };
}

function withAuthorization(input: RequestInfo | URL, init: RequestInit | undefined, token: string): RequestInit {
  const headers = new Headers(init?.headers ?? (isRequest(input) ? input.headers : undefined));
  headers.set("authorization", `Bearer ${token}`);
  return { ...init, headers };
}

function isRequest(input: RequestInfo | URL): input is Request {
  return typeof Request !== "undefined" && input instanceof Request;
}

/** Whether the same request can be sent a second time without buffering a stream. */
function canReplay(input: RequestInfo | URL, init: RequestInit | undefined): boolean {
  if (init?.body !== undefined && init.body !== null) return isReplayableBody(init.body);
  if (isRequest(input)) return input.body === null;
  return true;
}

function isReplayableBody(body: unknown): boolean {
  return (
    typeof body === "string" ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    (typeof Blob !== "undefined" && body instanceof Blob) ||
    (typeof FormData !== "undefined" && body instanceof FormData) ||
    (typeof URLSearchParams !== "undefined" && body instanceof URLSearchParams)
  );
}

/** The gate's 401 for an expired token: problem+json with the `token_expired` type and code. */
async function saysTokenExpired(response: Response): Promise<boolean> {
  const contentType = response.headers.get("content-type") ?? "";
  if (!/^application\/problem\+json\b/i.test(contentType)) return false;
  try {
    const problem = (await response.clone().json()) as { type?: unknown; code?: unknown };
    return problem.code === "token_expired" && problem.type === EXPIRED_PROBLEM_TYPE;
  } catch {
    return false;
  }
}
