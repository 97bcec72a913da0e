// Local emulator of AWS STS `GetCallerIdentity` for presigned (query-auth) requests.
// Pure: no relative imports except the identities file, WebCrypto only, so it runs in
// workerd (the emulator worker, vitest-pool-workers) and in plain Node 22 alike.
import identitiesFile from "./identities.json" with { type: "json" };

export type EmulatorFault =
  | "throttle"
  | "internal-error"
  | "unavailable"
  | "redirect"
  | "html"
  | "xml"
  | "account-mismatch"
  | "extra-field"
  | "missing-field"
  | "wrong-type"
  | "huge"
  | "slow"
  | "trickle";

export interface EmulatorIdentity {
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  sessionExpired?: boolean;
  arn: string;
  userId: string;
  fault?: EmulatorFault;
}

export interface EmulatorCall {
  signature: string;
  accessKeyId: string;
  outcome: string;
}

export interface EmulatorOptions {
  identities: readonly EmulatorIdentity[];
  /** Epoch milliseconds; default Date.now. */
  now?: () => number;
  /** Delay of the `slow` fault; default 10 000 ms. */
  slowMs?: number;
  /** How the `slow` and `trickle` faults wait; default a timer. Tests pass a recording one. */
  sleep?: (ms: number) => Promise<void>;
  /** Called once for every request that got far enough to carry an X-Amz-Signature. */
  onCall?: (call: EmulatorCall) => void;
}

export const FAULTS: readonly EmulatorFault[] = [
  "throttle", "internal-error", "unavailable", "redirect", "html", "xml", "account-mismatch",
  "extra-field", "missing-field", "wrong-type", "huge", "slow", "trickle",
];

export const IDENTITIES: readonly EmulatorIdentity[] = parseIdentities(identitiesFile);

/** STS accepts a presigned GetCallerIdentity for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says. */
export const PRESIGN_WINDOW_MS = 15 * 60 * 1000;
export const HUGE_BODY_BYTES = 10 * 1024 * 1024;
export const TRICKLE_INTERVAL_MS = 200;

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";
/** SHA-256 of the empty body: a GET has none, and STS hashes what it received (never UNSIGNED-PAYLOAD, an S3 feature). */
export const EMPTY_PAYLOAD_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export function createStsEmulator(options: EmulatorOptions): { fetch(request: Request): Promise<Response> } {
  const byKey = new Map(options.identities.map((identity) => [identity.accessKeyId, identity]));
  const now = options.now ?? Date.now;
  const slowMs = options.slowMs ?? 10_000;
  const sleep = options.sleep ?? timer;

  return {
    async fetch(request: Request): Promise<Response> {
      const json = wantsJson(request);
      const requestId = crypto.randomUUID();
      const seen: { signature?: string; accessKeyId: string } = { accessKeyId: "" };
      let response: Response;
      let outcome: string;
      try {
        const identity = await verify(request, byKey, now(), seen);
        outcome = identity.fault ? `fault:${identity.fault}` : "ok";
        response = await answer(identity, json, requestId, slowMs, sleep);
      } catch (error) {
        if (!(error instanceof StsError)) throw error;
        outcome = error.code;
        response = errorResponse(error, json, requestId);
      }
      if (seen.signature !== undefined) {
        options.onCall?.({ signature: seen.signature, accessKeyId: seen.accessKeyId, outcome });
      }
      return response;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Verification

// No constructor parameter properties: Node's --experimental-strip-types cannot erase them.
class StsError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
  get type(): "Sender" | "Receiver" {
    return this.status >= 500 ? "Receiver" : "Sender";
  }
}

const MESSAGES = {
  invalidToken: "The security token included in the request is invalid.",
  expiredToken: "The security token included in the request is expired",
  badSignature:
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  missingAuth: "Request is missing Authentication Token",
};

const sender = (status: number, code: string, message: string) => new StsError(status, code, message);
const signatureDoesNotMatch = (message = MESSAGES.badSignature) => sender(403, "SignatureDoesNotMatch", message);
const incomplete = (message: string) => sender(400, "IncompleteSignature", message);

async function verify(
  request: Request,
  byKey: ReadonlyMap<string, EmulatorIdentity>,
  nowMs: number,
  seen: { signature?: string; accessKeyId: string },
): Promise<EmulatorIdentity> {
  const url = new URL(request.url);
  const params = parseQuery(url.search);
  seen.signature = params.get("X-Amz-Signature");

  const hostRegion = regionOfStsHost(url.host);
  if (hostRegion === undefined) {
    // A real client would not even resolve this name; answer loudly instead of pretending to be STS.
    throw sender(421, "NotAnStsEndpoint", `The STS emulator does not serve host '${url.host}'.`);
  }
  if (url.pathname !== "/") throw sender(404, "NotFound", `STS serves only the path '/', not '${url.pathname}'.`);
  if (request.method !== "GET") throw sender(400, "InvalidAction", `The emulator accepts only presigned GET requests, not ${request.method}.`);

  const algorithm = params.get("X-Amz-Algorithm");
  const credential = params.get("X-Amz-Credential");
  const amzDate = params.get("X-Amz-Date");
  const signedHeaders = params.get("X-Amz-SignedHeaders");
  const signature = params.get("X-Amz-Signature");
  if (!algorithm || !credential || !amzDate || !signedHeaders || !signature) {
    throw sender(403, "MissingAuthenticationToken", MESSAGES.missingAuth);
  }
  if (algorithm !== "AWS4-HMAC-SHA256") throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'.`);

  const scopeParts = credential.split("/");
  if (scopeParts.length !== 5) throw incomplete(`Credential '${credential}' is not of the form <key>/<date>/<region>/<service>/aws4_request.`);
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = scopeParts as [string, string, string, string, string];
  seen.accessKeyId = accessKeyId;

  const dateMs = parseAmzDate(amzDate);
  if (dateMs === undefined) throw incomplete(`X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z', not '${amzDate}'.`);
  if (terminator !== "aws4_request") throw signatureDoesNotMatch(`Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`);
  if (scopeService !== "sts") throw signatureDoesNotMatch(`Credential should be scoped to correct service: 'sts'.`);
  if (scopeRegion !== hostRegion) throw signatureDoesNotMatch(`Credential should be scoped to a valid region, not '${scopeRegion}'.`);
  if (scopeDate !== amzDate.slice(0, 8)) {
    throw signatureDoesNotMatch(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from 'X-Amz-Date'.`);
  }

  // X-Amz-Expires is deliberately ignored: STS honours a fixed 15-minute window (see README).
  if (nowMs > dateMs + PRESIGN_WINDOW_MS) {
    throw signatureDoesNotMatch(`Signature expired: ${amzDate} is now earlier than ${formatAmzDate(nowMs - PRESIGN_WINDOW_MS)} (${formatAmzDate(nowMs)} - 15 min.)`);
  }
  if (dateMs > nowMs + PRESIGN_WINDOW_MS) {
    throw signatureDoesNotMatch(`Signature not yet current: ${amzDate} is still later than ${formatAmzDate(nowMs + PRESIGN_WINDOW_MS)} (${formatAmzDate(nowMs)} + 15 min.)`);
  }

  const identity = byKey.get(accessKeyId);
  if (!identity) throw sender(403, "InvalidClientTokenId", MESSAGES.invalidToken);
  const token = params.get("X-Amz-Security-Token");
  if (token !== identity.sessionToken) throw sender(403, "InvalidClientTokenId", MESSAGES.invalidToken);
  // Real STS decrypts the session token (which carries the session key) before it can check the
  // signature, so an expired session is reported as such whatever the signature.
  if (identity.sessionExpired) throw sender(403, "ExpiredToken", MESSAGES.expiredToken);

  const headerNames = signedHeaders.split(";");
  if (!headerNames.includes("host")) throw signatureDoesNotMatch("'Host' must be a signed header.");
  const canonicalHeaders: string[] = [];
  for (const name of headerNames) {
    const value = name === "host" ? url.host : request.headers.get(name);
    if (value === null || name === "") throw signatureDoesNotMatch(`Signed header '${name}' is missing from the request.`);
    canonicalHeaders.push(`${name.toLowerCase()}:${value.trim().replace(/\s+/g, " ")}\n`);
  }

  const canonicalRequest = [
    "GET",
    "/",
    canonicalQuery(params),
    canonicalHeaders.join(""),
    signedHeaders,
    EMPTY_PAYLOAD_SHA256,
  ].join("\n");
  const scope = `${scopeDate}/${scopeRegion}/sts/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, await sha256Hex(canonicalRequest)].join("\n");
  const expected = await signHex(identity.secretAccessKey, scopeDate, scopeRegion, stringToSign);
  if (!timingSafeEqual(expected, signature)) throw signatureDoesNotMatch();

  const action = params.get("Action");
  const version = params.get("Version");
  if (action !== "GetCallerIdentity" || version !== "2011-06-15") {
    throw sender(400, "InvalidAction", `Could not find operation ${action ?? "(none)"} for version ${version ?? "(none)"}`);
  }
  return identity;
}

/**
 * Parses the raw query strictly: every `&`-separated piece must be a non-empty `name[=value]` with
 * valid `%XX` escapes that decode to UTF-8, and no name may repeat. `+` means a space, as in the
 * form encoding the STS Query protocol uses (and URLSearchParams, hence aws4fetch, produce).
 * Names are case-sensitive, as in STS: `x-amz-credential` is just another (signed) parameter.
 */
function parseQuery(search: string): Map<string, string> {
  const params = new Map<string, string>();
  const raw = search.startsWith("?") ? search.slice(1) : search;
  if (raw === "") return params;
  for (const piece of raw.split("&")) {
    const eq = piece.indexOf("=");
    const name = decodeComponent(eq < 0 ? piece : piece.slice(0, eq));
    const value = eq < 0 ? "" : decodeComponent(piece.slice(eq + 1));
    if (name === "") throw sender(400, "MalformedQueryString", `Empty parameter name in query piece '${piece}'.`);
    if (params.has(name)) throw sender(400, "MalformedQueryString", `Parameter '${name}' appears more than once.`);
    params.set(name, value);
  }
  return params;
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    throw sender(400, "MalformedQueryString", `Malformed percent-encoding in '${text}'.`);
  }
}

function canonicalQuery(params: ReadonlyMap<string, string>): string {
  const pairs: [string, string][] = [];
  for (const [name, value] of params) {
    if (name !== "X-Amz-Signature") pairs.push([uriEncode(name), uriEncode(value)]);
  }
  pairs.sort(([n1, v1], [n2, v2]) => (n1 < n2 ? -1 : n1 > n2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Za-z0-9-_.~ as %XX with uppercase hex. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Signing region of a real STS host, or undefined for anything else. Global endpoint → us-east-1;
 * regional, FIPS and dual-stack (api.aws) endpoints → their region; China only under .amazonaws.com.cn.
 */
export function regionOfStsHost(host: string): string | undefined {
  if (host === "sts.amazonaws.com") return "us-east-1";
  const match = /^sts(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.(amazonaws\.com|amazonaws\.com\.cn|api\.aws)$/.exec(host);
  if (!match) return undefined;
  const [, region, suffix] = match as unknown as [string, string, string];
  return region.startsWith("cn-") === (suffix === "amazonaws.com.cn") ? region : undefined;
}

function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Reject rollovers such as month 13 or 25:00, which Date.UTC would silently normalise.
  return formatAmzDate(ms) === text ? ms : undefined;
}

export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, "");
}

// ---------------------------------------------------------------------------------------------
// Crypto (WebCrypto only)

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

async function hmac(key: ArrayBuffer | Uint8Array, data: string): Promise<ArrayBuffer> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(data));
}

async function signHex(secret: string, date: string, region: string, stringToSign: string): Promise<string> {
  const kDate = await hmac(encoder.encode(`AWS4${secret}`), date);
  const kRegion = await hmac(kDate, region);
  const kService = await hmac(kRegion, "sts");
  const kSigning = await hmac(kService, "aws4_request");
  return hex(await hmac(kSigning, stringToSign));
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

// ---------------------------------------------------------------------------------------------
// Responses

function wantsJson(request: Request): boolean {
  const accept = request.headers.get("accept") ?? "";
  return accept.split(",").some((part) => part.split(";")[0]!.trim().toLowerCase() === "application/json");
}

function accountOf(arn: string): string {
  return arn.split(":")[4] ?? "";
}

function successJson(result: Record<string, unknown>, requestId: string): string {
  return JSON.stringify({
    GetCallerIdentityResponse: { GetCallerIdentityResult: result, ResponseMetadata: { RequestId: requestId } },
  });
}

function successXml(identity: EmulatorIdentity, requestId: string): string {
  return (
    `<GetCallerIdentityResponse xmlns="${XMLNS}">\n` +
    `  <GetCallerIdentityResult>\n` +
    `    <Arn>${xmlEscape(identity.arn)}</Arn>\n` +
    `    <UserId>${xmlEscape(identity.userId)}</UserId>\n` +
    `    <Account>${xmlEscape(accountOf(identity.arn))}</Account>\n` +
    `  </GetCallerIdentityResult>\n` +
    `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n` +
    `</GetCallerIdentityResponse>\n`
  );
}

function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function respond(status: number, body: BodyInit | null, contentType: string | null, requestId: string, extra: Record<string, string> = {}): Response {
  const headers = new Headers({ "x-amzn-RequestId": requestId, ...extra });
  if (contentType) headers.set("Content-Type", contentType);
  return new Response(body, { status, headers });
}

const JSON_TYPE = "application/json";
const XML_TYPE = "text/xml";

function errorResponse(error: StsError, json: boolean, requestId: string): Response {
  if (json) {
    const body = JSON.stringify({ Error: { Code: error.code, Message: error.message, Type: error.type }, RequestId: requestId });
    return respond(error.status, body, JSON_TYPE, requestId);
  }
  const body =
    `<ErrorResponse xmlns="${XMLNS}">\n` +
    `  <Error>\n    <Type>${error.type}</Type>\n    <Code>${xmlEscape(error.code)}</Code>\n    <Message>${xmlEscape(error.message)}</Message>\n  </Error>\n` +
    `  <RequestId>${requestId}</RequestId>\n` +
    `</ErrorResponse>\n`;
  return respond(error.status, body, XML_TYPE, requestId);
}

async function answer(identity: EmulatorIdentity, json: boolean, requestId: string, slowMs: number, sleep: (ms: number) => Promise<void>): Promise<Response> {
  const result = { Account: accountOf(identity.arn), Arn: identity.arn, UserId: identity.userId };
  const ok = () =>
    json ? respond(200, successJson(result, requestId), JSON_TYPE, requestId) : respond(200, successXml(identity, requestId), XML_TYPE, requestId);
  const fail = (status: number, code: string, message: string) => errorResponse(new StsError(status, code, message), json, requestId);

  switch (identity.fault) {
    case undefined:
      return ok();
    case "throttle":
      return fail(400, "Throttling", "Rate exceeded");
    case "internal-error":
      return fail(500, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.");
    case "unavailable":
      return fail(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.");
    case "redirect":
      return respond(302, null, null, requestId, { Location: "https://evil.example/steal" });
    case "html":
      return respond(200, "<!doctype html><html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n", "text/html; charset=utf-8", requestId);
    case "xml":
      return respond(200, successXml(identity, requestId), XML_TYPE, requestId);
    case "account-mismatch":
      return respond(200, successJson({ ...result, Account: "999988887777" }, requestId), JSON_TYPE, requestId);
    case "extra-field":
      return respond(200, successJson({ Account: result.Account, Arn: result.Arn, Evil: "x", UserId: result.UserId }, requestId), JSON_TYPE, requestId);
    case "missing-field":
      return respond(200, successJson({ Account: result.Account, Arn: result.Arn }, requestId), JSON_TYPE, requestId);
    case "wrong-type":
      return respond(200, successJson({ ...result, Account: Number(result.Account) }, requestId), JSON_TYPE, requestId);
    case "huge":
      return respond(200, hugeBody(result), JSON_TYPE, requestId);
    case "slow":
      await sleep(slowMs);
      return ok();
    case "trickle":
      return respond(200, trickleBody(sleep), JSON_TYPE, requestId);
  }
}

const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A syntactically valid success document padded to exactly HUGE_BODY_BYTES, produced chunk by chunk. */
function hugeBody(result: { Account: string; Arn: string; UserId: string }): ReadableStream<Uint8Array> {
  const head = encoder.encode(`{"GetCallerIdentityResponse":{"GetCallerIdentityResult":${JSON.stringify(result)},"Padding":"`);
  const tail = encoder.encode(`"}}`);
  const chunk = new Uint8Array(64 * 1024).fill(0x78); // "x"
  let padding = HUGE_BODY_BYTES - head.length - tail.length;
  let stage: "head" | "padding" | "done" = "head";
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (stage === "head") {
        controller.enqueue(head);
        stage = "padding";
      } else if (stage === "padding" && padding > 0) {
        const n = Math.min(padding, chunk.length);
        controller.enqueue(chunk.slice(0, n));
        padding -= n;
      } else {
        controller.enqueue(tail);
        controller.close();
        stage = "done";
      }
    },
  });
}

/** One byte every TRICKLE_INTERVAL_MS, forever; pull-driven so it costs nothing once the reader stops. */
function trickleBody(sleep: (ms: number) => Promise<void>): ReadableStream<Uint8Array> {
  const prefix = encoder.encode(`{"GetCallerIdentityResponse":`);
  let sent = 0;
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        await sleep(TRICKLE_INTERVAL_MS);
        if (cancelled) return;
        controller.enqueue(Uint8Array.of(sent < prefix.length ? prefix[sent]! : 0x20));
        sent++;
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
}

// ---------------------------------------------------------------------------------------------
// Identities file

function parseIdentities(file: unknown): EmulatorIdentity[] {
  const list = (file as { identities?: unknown }).identities;
  if (!Array.isArray(list)) throw new Error("identities.json: missing 'identities' array");
  return list.map((entry: unknown, i): EmulatorIdentity => {
    const e = entry as Partial<EmulatorIdentity>;
    for (const key of ["name", "accessKeyId", "secretAccessKey", "arn", "userId"] as const) {
      if (typeof e[key] !== "string" || e[key] === "") throw new Error(`identities.json: identity ${i} lacks '${key}'`);
    }
    if (e.fault !== undefined && !FAULTS.includes(e.fault)) throw new Error(`identities.json: identity ${e.name} has unknown fault '${e.fault}'`);
    return e as EmulatorIdentity;
  });
}
