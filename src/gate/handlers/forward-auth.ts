import { authorize } from "../../authorize.ts";
import { withIdentityHeaders, CALLER_HEADERS } from "../../forward.ts";
import { GateError } from "../../errors.ts";
import { checkNoMethodOverride } from "../../edge/method-override.ts";
import { isCallerAlias, isOverrideHeader } from "../../edge/header-hygiene.ts";
import { isAmbiguousTarget } from "../../origin/raw-target.ts";
import { GateProblem } from "../../problem.ts";
import type { AppRuntime } from "../runtime.ts";
import type { RequestContext } from "./context.ts";

/** The request a fronting proxy asks about, as it said it. */
export interface OriginalRequest {
  method: string;
  /** The URI exactly as the proxy gave it: the assertion's `htu`. */
  uri: string;
  /** Its path, read the way the runtime reads a request's: what the policy matches. */
  path: string;
}

const CONVENTIONS = [
  // Traefik's forwardAuth and Caddy's forward_auth.
  { method: "x-forwarded-method", uri: "x-forwarded-uri" },
  // nginx's auth_request, by the convention of its documentation.
  { method: "x-original-method", uri: "x-original-uri" },
] as const;

const NORMALIZED = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;

/**
 * Rule `forwardAuthOriginal`: the method and URI decided on come from the headers the fronting
 * proxy sets, in one convention or the other. One of them missing is `original_request_missing`;
 * both conventions present and disagreeing is `original_request_ambiguous` (a proxy sets one of
 * them, so the other came from the client). Never the gate's own method and path.
 */
export function originalRequest(headers: Headers): OriginalRequest {
  const given = CONVENTIONS.map((c) => ({ method: headers.get(c.method), uri: headers.get(c.uri) })).filter((c) => c.method !== null || c.uri !== null);
  if (given.length > 1 && given.some((c) => c.method !== given[0]!.method || c.uri !== given[0]!.uri)) {
    throw new GateProblem("original_request_ambiguous", "Both X-Forwarded-Method/X-Forwarded-Uri and X-Original-Method/X-Original-URI are present and disagree; the fronting proxy must set one pair and overwrite the client's.");
  }
  const chosen = given[0];
  if (chosen === undefined || chosen.method === null || chosen.uri === null) {
    throw new GateProblem("original_request_missing", "Forward-auth needs the original method and URI: X-Forwarded-Method and X-Forwarded-Uri, or X-Original-Method and X-Original-URI.");
  }
  if (!METHOD.test(chosen.method)) throw new GateProblem("original_request_missing", "The forwarded method is not an HTTP method.");
  // Origin-form only: a path, with or without a query. Appended to a fixed base, so no spelling
  // of it can name another host; the path is then what the runtime would make of it.
  if (!chosen.uri.startsWith("/")) throw new GateProblem("original_request_missing", "The forwarded URI must be a path starting with '/'.");
  // Rule `forwardAuthRawUri`: the fronting proxy sends the origin the raw URI, which a raw-routing
  // origin (Express) reads as written; the gate decides on it as the URL parser reads it. Where the
  // two differ by a dot segment or a backslash (`/admin/x/../../public/y`), they are two paths.
  if (isAmbiguousTarget(chosen.uri)) {
    throw new GateProblem("original_request_ambiguous", "The forwarded URI has a dot segment or a backslash: the origin would route it as written, the gate as resolved.");
  }
  let url: URL;
  try {
    url = new URL(`http://forward-auth.invalid${chosen.uri}`);
  } catch {
    throw new GateProblem("original_request_missing", "The forwarded URI is not a valid path.");
  }
  // Rule `noMethodOverrideParameter`, as for a proxied request: Laravel and Symfony would run it.
  checkNoMethodOverride(url.search);
  const path = url.pathname;
  // As fetch normalizes a request's method: the six standard ones in upper case, others as sent.
  const upper = chosen.method.toUpperCase();
  return { method: NORMALIZED.has(upper) ? upper : chosen.method, uri: chosen.uri, path };
}

/**
 * `/.well-known/sts-gate/verify` (rule `forwardAuthOff`: only for an app with forward-auth on):
 * the request's token, decided with the app's policy against the original method and path the
 * fronting proxy names. 200 with the identity headers (and the assertion, bound to that method
 * and URI), or the usual problem+json refusal. Nothing is forwarded.
 */
export async function forwardAuth(ctx: RequestContext, app: AppRuntime): Promise<Response> {
  if (!app.app.forwardAuth) throw new GateProblem("not_found", "The gate has nothing at this path.");
  ctx.decision.mode = "forward-auth";
  const original = originalRequest(ctx.request.headers);
  refuseOverrideHeaders(ctx.request.headers);
  refuseCallerAliases(ctx.request.headers);
  ctx.decision.decidedOn(original.method, original.path);
  const caller = await authorize(app.verifier, app.app.policy, ctx.authorizeRequest({ method: original.method, path: original.path }), ctx.decision);
  const headers = withIdentityHeaders(new Headers({ "cache-control": "no-store" }), caller);
  // Real time, as for a forwarded request: the origin checks the assertion against its own clock.
  if (app.signer) headers.set(CALLER_HEADERS.assertion, await app.signer.sign(caller, { method: original.method, htu: original.uri }, Date.now()));
  return new Response(null, { status: 200, headers });
}

/**
 * Rule `forwardAuthNoOverrides`: the verify request carries the client's headers (nginx,
 * Traefik and Caddy pass them to the auth request), and the fronting proxy will pass them to the
 * origin too. A method or URL override there would make the origin run what the gate never
 * decided, so such a request is refused, as the gate would strip it from a proxied one.
 */
function refuseOverrideHeaders(headers: Headers): void {
  for (const name of headers.keys()) {
    if (isOverrideHeader(name)) throw new GateError("method_override", "The request carries a method or URL override header, which the origin would run instead of what the gate decided.");
  }
}

/**
 * Rule `forwardAuthNoCallerAliases` (ATTACKS #16, #31): the gate cannot strip what the fronting
 * proxy forwards. A proxy that clears the `X-Caller-*` names exactly (Traefik's
 * `customRequestHeaders`, nginx with `underscores_in_headers on`) passes `X-Caller_User` or
 * `X-Caller.User` to the origin, where PHP reads it as `X-Caller-User`, beside or instead of the
 * gate's. The gate never sends such a spelling, so a request that carries one is refused.
 */
function refuseCallerAliases(headers: Headers): void {
  for (const name of headers.keys()) {
    if (isCallerAlias(name)) throw new GateError("caller_header_alias", "The request carries another spelling of an X-Caller header, which an origin would read as the gate's.");
  }
}
