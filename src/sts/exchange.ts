import * as z from "zod/mini";
import { withDeadline } from "../deadline.ts";
import type { StsAnswer } from "../identity.ts";
import { GateError } from "../errors.ts";
import { AUDIENCE_HEADER, presignedQuery } from "../protocol.ts";
import type { ValidatedToken } from "../token/validate.ts";

export { AUDIENCE_HEADER };
export const DEFAULT_STS_TIMEOUT_MS = 5000;
export const MAX_STS_BODY_BYTES = 64 * 1024;

export type StsFetch = (request: Request) => Promise<Response>;

export interface StsExchangeOptions {
  audience: string;
  fetch: StsFetch;
  timeoutMs: number;
}

/**
 * Rule `rebuildUpstream`: the URL is built from the endpoint table's host and the validated
 * parameters, re-encoded; the token's URL text is never passed through. The only headers
 * are ours: the audience, which binds the signature to this gate, and the JSON Accept.
 */
export function buildStsRequest(token: ValidatedToken, audience: string, signal?: AbortSignal): Request {
  const query = presignedQuery(token);
  return new Request(`https://${token.endpoint.host}/?${query}`, {
    method: "GET",
    headers: { [AUDIENCE_HEADER]: audience, accept: "application/json" },
    redirect: "manual",
    signal,
  });
}

const GetCallerIdentityResponse = z.strictObject({
  GetCallerIdentityResponse: z.strictObject({
    GetCallerIdentityResult: z.strictObject({
      Arn: z.string().check(z.maxLength(2048)),
      Account: z.string().check(z.regex(/^\d{12}$/)),
      UserId: z.string().check(z.maxLength(256)),
    }),
    ResponseMetadata: z.optional(z.strictObject({ RequestId: z.string().check(z.maxLength(128)) })),
  }),
});

const StsError = z.object({ Error: z.object({ Code: z.string() }) });

const THROTTLING_CODES = new Set(["Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"]);

class Timeout extends Error {}

/**
 * Executes the presigned request and returns STS's answer, or throws the GateError that
 * describes how STS failed. Anything STS says that is not a clean JSON GetCallerIdentity
 * result is a failure; only a refusal of the signature or key is the caller's fault (401).
 */
export async function exchangeWithSts(token: ValidatedToken, options: StsExchangeOptions): Promise<StsAnswer> {
  const controller = new AbortController();
  // One deadline for the whole exchange: connecting, the answer, and every byte of its body.
  const exchange = async () => {
    const response = await options.fetch(buildStsRequest(token, options.audience, controller.signal));
    return interpret(response, await readCapped(response, MAX_STS_BODY_BYTES), options.audience);
  };
  try {
    return await withDeadline(exchange(), { ms: options.timeoutMs, onTimeout: { reject: () => new Timeout() }, controller });
  } catch (error) {
    if (error instanceof GateError) throw error;
    if (error instanceof Timeout) throw new GateError("sts_timeout", `STS did not answer within ${options.timeoutMs} ms.`);
    throw new GateError("sts_unreachable", "The request to STS failed.", { cause: error });
  }
}

function interpret(response: Response, body: string, audience: string): StsAnswer {
  const { status } = response;
  if (status >= 300 && status < 400) {
    throw new GateError("sts_redirect", `STS answered ${status}; redirects are never followed.`);
  }
  if (status === 200) {
    if (!isJson(response)) throw new GateError("sts_bad_response", "STS answered 200 without application/json.");
    const parsed = GetCallerIdentityResponse.safeParse(parseJson(body));
    if (!parsed.success) throw new GateError("sts_bad_response", "STS's answer does not match the GetCallerIdentity schema.");
    const result = parsed.data.GetCallerIdentityResponse.GetCallerIdentityResult;
    return { arn: result.Arn, account: result.Account, userId: result.UserId };
  }
  if (status === 429) throw new GateError("sts_throttled", "STS is throttling.");
  if (status >= 500) throw new GateError("sts_unavailable", `STS answered ${status}.`);
  if (status === 400 || status === 403) {
    const code = isJson(response) ? StsError.safeParse(parseJson(body)).data?.Error.Code : undefined;
    if (code !== undefined && THROTTLING_CODES.has(code)) throw new GateError("sts_throttled", "STS is throttling.");
    if (status === 403 || code !== undefined) {
      throw new GateError("sts_refused", refusal(code, audience));
    }
  }
  throw new GateError("sts_bad_response", `STS answered ${status}.`);
}

/**
 * The audience is signed into the token and the gate sends its own, so a token minted for
 * another gate fails as SignatureDoesNotMatch: say so, and name the audience to mint for. It is
 * not a secret (every caller needs it), and it passed the config's visible-ASCII check.
 */
function refusal(code: string | undefined, audience: string): string {
  const named = code !== undefined && /^[A-Za-z]{1,64}$/.test(code) ? ` (${code})` : "";
  if (code !== "SignatureDoesNotMatch") return `STS refused the token${named}.`;
  return (
    `STS refused the token${named}. The most common cause is a token minted for another audience: ` +
    `this gate's audience is ${audience} (aws eks get-token --cluster-name ${audience}, or sts-gate token --audience ${audience}).`
  );
}

function isJson(response: Response): boolean {
  return /^application\/json\s*(;|$)/i.test(response.headers.get("content-type") ?? "");
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Reads at most `max` bytes; a larger body is a failure, not a truncation. */
async function readCapped(response: Response, max: number): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (declared > max) {
    await response.body?.cancel();
    throw new GateError("sts_bad_response", "STS's answer is larger than 64 KiB.");
  }
  if (response.body === null) return "";
  // A declared length within the cap is read in one call; the runtime holds the body to it.
  if (/^\d{1,5}$/.test(response.headers.get("content-length") ?? "")) {
    const bytes = await response.arrayBuffer();
    if (bytes.byteLength > max) throw new GateError("sts_bad_response", "STS's answer is larger than 64 KiB.");
    return new TextDecoder().decode(bytes);
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new GateError("sts_bad_response", "STS's answer is larger than 64 KiB.");
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
