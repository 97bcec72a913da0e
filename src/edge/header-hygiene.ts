/**
 * Rule `headerHygiene` (ATTACKS #15–#19, #31): which of the client's headers may reach the origin.
 *
 * Names are compared the way the most permissive origin compares them: case-insensitively, with
 * `_` read as `-`. CGI, PHP, WSGI and Rack map both `X_Caller_Arn` and `X-Caller-Arn` to
 * `HTTP_X_CALLER_ARN`, so a spelling the gate does not recognise would overwrite or join the
 * real identity header at such an origin.
 *
 * Rule `headerNameCharset` goes further, as a class: PHP also turns `.` and space into `_` when
 * it registers `$_SERVER`, so `X-Caller.Arn` reaches PHP as `HTTP_X_CALLER_ARN`. Rather than chase
 * every character some origin maps, a name with anything but letters, digits, `-` and `_` never
 * reaches the origin at all (Apache 2.4 drops such names too); what is left folds as above.
 */

/** Every header name (folded) the gate owns or strips, each with the reason it never passes. */
export const STRIPPED_HEADERS: ReadonlyArray<{ name: string; reason: string }> = [
  // Credentials.
  { name: "authorization", reason: "the bearer token: an origin holding it could replay it as the caller for 15 minutes" },
  { name: "proxy-authorization", reason: "credentials meant for a proxy, never for the origin" },
  // Method overrides (ATTACKS #17).
  { name: "x-http-method-override", reason: "Express, Laravel, Symfony and ASP.NET run the overridden method after the gate checked the real one" },
  { name: "x-http-method", reason: "a method override (OData, ASP.NET): the origin would run a method the policy never saw" },
  { name: "x-method-override", reason: "a method override: the origin would run a method the policy never saw" },
  // URL overrides (ATTACKS #18).
  { name: "x-original-url", reason: "IIS, Symfony and Zend route on it: the origin would serve a path the policy never saw" },
  { name: "x-rewrite-url", reason: "IIS and Symfony route on it: the origin would serve a path the policy never saw" },
  { name: "x-original-uri", reason: "nginx auth_request setups route on it: the origin would serve a path the policy never saw" },
  // Forwarding headers (ATTACKS #19): the gate writes its own.
  { name: "forwarded", reason: "RFC 7239 proxy facts: only the gate knows them; origins build absolute links from them" },
  { name: "x-forwarded-for", reason: "the client IP: the gate sets it to the address it saw" },
  { name: "x-forwarded-host", reason: "host-header poisoning (password-reset and OAuth links): the gate sets it to the host addressed" },
  { name: "x-forwarded-proto", reason: "the scheme: the gate sets it; a client-chosen one turns links and cookie flags" },
  { name: "x-forwarded-prefix", reason: "Spring and ASP.NET prepend it to links and redirects" },
  { name: "x-forwarded-port", reason: "origins build absolute links from it" },
  { name: "x-forwarded-ssl", reason: "Rack and Spring read `on` as https" },
  { name: "x-forwarded-scheme", reason: "nginx and Rack setups read it as the scheme" },
  { name: "x-forwarded-server", reason: "a proxy's host name, for links" },
  { name: "x-forwarded-uri", reason: "Traefik and nginx auth setups route on it, like a URL override" },
  { name: "x-real-ip", reason: "a client IP claim: origins log and rate-limit on it" },
  { name: "true-client-ip", reason: "a client IP claim (Akamai, Cloudflare Enterprise): origins log and rate-limit on it" },
  // The gate's own.
  { name: "x-request-id", reason: "the gate's request ID, which joins its decision line to the origin's logs: the gate sets it" },
  { name: "host", reason: "the origin's host comes from ORIGIN_URL" },
];

/** Every `X-Caller-*` name is the gate's: the identity headers and the signed assertion. */
export const CALLER_HEADER_PREFIX = "x-caller-";
/** Every `X-Forwarded-*` name is a proxy's claim, listed above or not: only the gate's own pass. */
export const FORWARDED_HEADER_PREFIX = "x-forwarded-";

const STRIPPED = new Set(STRIPPED_HEADERS.map((h) => h.name));

/** Rule `headerNameCharset`: the only characters a header name may have to reach the origin. */
const PORTABLE_NAME = /^[A-Za-z0-9_-]+$/;

/** True for a name every origin reads the same way once folded: letters, digits, `-` and `_` only. */
export function isPortableHeaderName(name: string): boolean {
  return PORTABLE_NAME.test(name);
}

/** How a CGI-style origin reads a header name: case-insensitive, `_` and `-` the same. */
export function foldHeaderName(name: string): string {
  return name.toLowerCase().replaceAll("_", "-");
}

/**
 * The method and URL overrides (ATTACKS #17, #18), in any spelling, except `X-Original-URI`, which
 * is nginx's forward-auth convention: a forward-auth request carrying one of these is refused.
 */
const OVERRIDES = new Set(["x-http-method-override", "x-http-method", "x-method-override", "x-original-url", "x-rewrite-url"]);

export function isOverrideHeader(name: string): boolean {
  // As PHP reads a name (`X.HTTP.Method.Override` too): nothing strips it on this path.
  return OVERRIDES.has(phpHeaderName(name));
}

/**
 * A name a CGI-style origin reads as an `X-Caller-*` header but that is not spelled as one:
 * `X-Caller_User`, `X_Caller-Arn`, `X-Caller.User`.
 */
export function isCallerAlias(name: string): boolean {
  const folded = phpHeaderName(name);
  return folded.startsWith(CALLER_HEADER_PREFIX) && folded !== name.toLowerCase();
}

/**
 * A header name as PHP registers it in `$_SERVER`, folded back to a header name: case aside,
 * with `_`, `.` and space all read as `-` (wider than {@link foldHeaderName}, for the checks of a
 * request the gate cannot strip, only refuse).
 */
function phpHeaderName(name: string): string {
  return name.toLowerCase().replace(/[_. ]/g, "-");
}

/** True when the origin must never receive a client header of this name, in any spelling. */
export function isStrippedHeader(name: string): boolean {
  const folded = foldHeaderName(name);
  return folded.startsWith(CALLER_HEADER_PREFIX) || folded.startsWith(FORWARDED_HEADER_PREFIX) || STRIPPED.has(folded);
}

/**
 * A name with `_` that a CGI-style origin reads as another header: one the request also has
 * (`Content_Type` beside `Content-Type`), or one Cloudflare sets (`CF_Connecting_IP`; Cloudflare
 * overwrites `CF-Connecting-IP` itself, never its underscore spelling).
 */
function isAlias(name: string, folded: string, inboundFolded: ReadonlySet<string>): boolean {
  return name.includes("_") && (folded.startsWith("cf-") || inboundFolded.has(folded));
}

/** What the gate knows about the client's request, for the forwarding headers it writes. */
export interface ClientFacts {
  /** The client IP the gate saw (`CF-Connecting-IP`); absent where the runtime gives none. */
  ip: string | undefined;
  /** The URL the client addressed: its scheme and host. */
  url: URL;
}

/**
 * The client's headers with every stripped one removed, then the gate's own forwarding headers:
 * `X-Forwarded-For` (the IP the gate saw, not a chain the client began), `-Proto` and `-Host`.
 */
export function hygienicHeaders(inbound: Headers, client: ClientFacts): Headers {
  // One native copy, then the few deletions: cheaper on the hot path than appending each kept header.
  const headers = new Headers(inbound);
  const names = [...inbound.keys()];
  const hyphenated = new Set(names.filter((name) => !name.includes("_")));
  for (const name of names) {
    if (!isPortableHeaderName(name) || isStrippedHeader(name) || isAlias(name, foldHeaderName(name), hyphenated)) headers.delete(name);
  }
  if (client.ip !== undefined) headers.set("X-Forwarded-For", client.ip);
  headers.set("X-Forwarded-Proto", client.url.protocol.slice(0, -1));
  headers.set("X-Forwarded-Host", client.url.host);
  return headers;
}
