import * as z from "zod/mini";

/**
 * CORS for browser callers (`sts-gate/client` in a web app). The gate owns CORS: it answers
 * preflights itself, adds the headers for the origins in CORS_ALLOWED_ORIGINS, and lets no
 * `Access-Control-*` header from the origin through, so the list is the whole truth.
 */

/** The methods a policy rule can name. */
export const CORS_ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
/** How long a browser may cache a preflight answer, in seconds (Chromium caps it at 7200). */
export const CORS_MAX_AGE_SECONDS = 600;
/** Response headers a page may read besides the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = "WWW-Authenticate, Retry-After";

/**
 * CORS_ALLOWED_ORIGINS: a comma-separated list of exact origins (`https://app.example.com`,
 * `http://localhost:5173`). `*` is refused: a gate's callers are named, never "any page".
 */
export const CorsAllowedOriginsSchema = z.pipe(
  z.string({ error: "must be a comma-separated list of origins" }),
  z.transform((text: string, ctx): ReadonlySet<string> => {
    const origins = new Set<string>();
    if (text.trim() === "") return origins;
    text.split(",").forEach((raw, i) => {
      const entry = raw.trim();
      const problem = originProblem(entry);
      if (problem !== undefined) ctx.issues.push({ code: "custom", message: problem, path: [i], input: text });
      else origins.add(entry);
    });
    return origins;
  }),
);

export function originProblem(entry: string): string | undefined {
  if (entry.includes("*")) return "'*' is refused: list each origin that may call the gate, e.g. https://app.example.com";
  const example = "must be an exact origin: scheme, host and optional port, e.g. https://app.example.com (no path, no trailing slash)";
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return example;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return example;
  // The Origin header a browser sends is exactly the serialized origin, so only that form can match.
  return url.origin === entry ? undefined : example;
}

/**
 * A CORS preflight the gate answers itself: an OPTIONS with Access-Control-Request-Method from an
 * admitted origin. It carries no credentials, so it never reaches STS or the origin.
 */
export function isPreflight(request: Request, admitted: string | undefined): admitted is string {
  return admitted !== undefined && request.method === "OPTIONS" && request.headers.has("access-control-request-method");
}

/** The answer to a preflight from an admitted origin. */
export function preflightResponse(origin: string, requestedHeaders: string | null): Response {
  return new Response(null, { status: 204, headers: preflightHeaders(origin, requestedHeaders ?? undefined) });
}

/** A request's Origin, if CORS_ALLOWED_ORIGINS lists it. */
export function admittedOrigin(headers: Headers, allowed: ReadonlySet<string>): string | undefined {
  const origin = headers.get("origin");
  return origin !== null && allowed.has(origin) ? origin : undefined;
}

/**
 * The answer as the browser gets it: no `Access-Control-*` header of the origin's, and the
 * gate's own for an admitted origin. The same response when there is nothing to change.
 */
export function withCorsHeaders(response: Response, admitted: string | undefined): Response {
  if (admitted === undefined && !hasCorsHeader(response.headers)) return response;
  const res = new Response(response.body, response);
  for (const name of [...res.headers.keys()]) if (name.startsWith("access-control-")) res.headers.delete(name);
  if (admitted !== undefined) {
    res.headers.set("access-control-allow-origin", admitted);
    res.headers.set("access-control-expose-headers", CORS_EXPOSED_HEADERS);
    res.headers.set("vary", withVary(res.headers.get("vary"), "Origin"));
  }
  return res;
}

function preflightHeaders(origin: string, requested: string | undefined): Headers {
  // The page may send any header it likes (the gate forwards them to the origin anyway) and
  // must send Authorization; names that are not HTTP tokens are dropped.
  const names = new Set(["authorization"]);
  for (const name of (requested ?? "").split(",")) {
    const n = name.trim().toLowerCase();
    if (/^[!#$%&'*+.^_`|~0-9a-z-]{1,64}$/.test(n)) names.add(n);
  }
  return new Headers({
    "access-control-allow-origin": origin,
    "access-control-allow-methods": CORS_ALLOWED_METHODS,
    "access-control-allow-headers": [...names].join(", "),
    "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
    vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
  });
}

function hasCorsHeader(headers: Headers): boolean {
  for (const name of headers.keys()) if (name.startsWith("access-control-")) return true;
  return false;
}

function withVary(existing: string | null, name: string): string {
  if (existing === null || existing.trim() === "") return name;
  const listed = existing.split(",").map((v) => v.trim().toLowerCase());
  return listed.includes(name.toLowerCase()) || listed.includes("*") ? existing : `${existing}, ${name}`;
}
