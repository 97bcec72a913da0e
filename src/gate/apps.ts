/**
 * Apps: many services behind one gate (ATTACKS #26). Each app is chosen by the host the request
 * addressed (never a header the client controls) and a path prefix on a segment boundary, and
 * keeps what makes one gate safe: its own audience, so a token minted for one app is worthless at
 * another, its own origin and its own policy.
 */
import * as z from "zod/mini";
import { originProblem } from "../cors.ts";
import { compilePolicy, type CompiledPolicy, type PolicyDocument } from "../policy/index.ts";
import { compilePathGlob, policyPath } from "../policy/match.ts";
import { list, PathGlob } from "../policy/schema.ts";

/** An app, validated and compiled: what the request path needs. */
export interface AppConfig {
  name: string;
  /** Lower-case host names; `*.example.com` matches exactly one more label. Absent: every host (the single-app gate). */
  hosts: readonly string[] | undefined;
  /** `/` or a prefix without a trailing `/`: the app serves it and the paths below it. */
  pathPrefix: string;
  audience: string;
  originUrl: URL;
  policy: CompiledPolicy;
  /** Paths forwarded without verification (rule `publicPathsStrict`); empty: none. */
  publicPaths: ReadonlyArray<(path: string) => boolean>;
  assertionIssuer: string;
  assertionAudience: string;
  corsAllowedOrigins: ReadonlySet<string>;
  originTimeoutMs: number;
  /**
   * Rule `tokenMaxAge`: how long after its X-Amz-Date a token is honoured, from memory, KV or STS
   * alike; 60 000 to 900 000 ms, default 900 000 (what STS itself honours).
   */
  tokenMaxAgeMs: number;
  /** Rule `forwardAuthOff`: whether /.well-known/sts-gate/verify answers; off by default. */
  forwardAuth: boolean;
}

/** What STS itself honours: 15 minutes after X-Amz-Date. */
export const DEFAULT_TOKEN_MAX_AGE_SECONDS = 900;

/** An app's name: logged as `app`, a metrics blob, and `--app` in the tools. */
export const APP_NAME = /^[A-Za-z0-9._-]{1,64}$/;

function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** Why a host pattern is refused, or undefined. A host is matched without its port. */
function hostProblem(host: string): string | undefined {
  const bare = host.startsWith("*.") ? host.slice(2) : host;
  if (bare.includes("*")) return "may have '*' only as a whole first label ('*.tools.example.com')";
  if (!/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(bare)) {
    return "must be a host name without scheme, port or path, e.g. api.example.com or *.tools.example.com";
  }
  return undefined;
}

/** Why a path prefix is refused, or undefined: it must be a plain, decoded path. */
function prefixProblem(prefix: string): string | undefined {
  if (!prefix.startsWith("/")) return "must start with '/', e.g. /docs";
  if (/[?#%;\\\s\x00-\x1f\x7f*]/.test(prefix)) return "must be a plain decoded path: no '?', '#', '%', ';', '\\', '*' or whitespace";
  if (prefix.includes("//")) return "must not contain '//'";
  if (prefix.split("/").some((s) => s === "." || s === "..")) return "must not contain '.' or '..' segments";
  return undefined;
}

function checked(max: number, problemOf: (s: string) => string | undefined) {
  return z.string().check(
    z.maxLength(max),
    z.superRefine((value, ctx) => {
      const problem = problemOf(value);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    }),
  );
}

/**
 * The pieces of one app that the single-app vars also have, handed in by the configuration
 * module so both forms are checked by the same schemas.
 */
export interface AppFieldSchemas {
  audience: z.ZodMiniType<string>;
  originUrl: z.ZodMiniType<URL>;
  claim: z.ZodMiniType<string>;
  originTimeoutMs: z.ZodMiniType<number>;
  tokenMaxAgeSeconds: z.ZodMiniType<number>;
  /** As POLICY: a table, or the same document as JSON text. */
  policy: z.ZodMiniType<PolicyDocument>;
}

export function appSchema(fields: AppFieldSchemas) {
  return z.strictObject({
    name: z.string().check(z.regex(APP_NAME, { error: "must be 1 to 64 letters, digits, '.', '_' or '-'" })),
    // Host names are case-insensitive: kept in lower case, so `API.example.com` and the
    // request's `api.example.com` are one host, and two spellings of one host are one route.
    // ASCII letters only: toLowerCase() would turn a Kelvin sign into a `k` before the check.
    hosts: list(z.pipe(z.pipe(z.string(), z.transform(asciiLowerCase)), checked(255, hostProblem)), 100, "must not be empty: an app serves at least one host"),
    pathPrefix: z.optional(checked(1024, prefixProblem)),
    audience: fields.audience,
    originUrl: fields.originUrl,
    policy: fields.policy.check(
      z.superRefine((doc, ctx) => {
        if (doc.admins !== undefined) ctx.addIssue({ code: "custom", path: ["admins"], message: "is not allowed in an app's policy: name the gate's admins in ADMINS" });
      }),
    ),
    publicPaths: z.optional(list(PathGlob, 100, "must not be empty: omit publicPaths for none")),
    assertionAudience: z.optional(fields.claim),
    corsAllowedOrigins: z.optional(
      z.array(z.string().check(z.superRefine((origin, ctx) => {
        const problem = originProblem(origin);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
      }))),
    ),
    originTimeoutMs: z.optional(fields.originTimeoutMs),
    tokenMaxAgeSeconds: z.optional(fields.tokenMaxAgeSeconds),
    forwardAuth: z.optional(z.boolean()),
  });
}

export type AppDocument = z.infer<ReturnType<typeof appSchema>>;

/** The rules for the whole list: unique names, audiences, and host with prefix. */
export function checkAppList(apps: readonly AppDocument[], ctx: { addIssue(issue: { code: "custom"; path: PropertyKey[]; message: string }): void }): void {
  const names = new Map<string, number>();
  const audiences = new Map<string, number>();
  const routes = new Map<string, number>();
  apps.forEach((app, i) => {
    const name = names.get(app.name);
    if (name !== undefined) ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate app name ${app.name} (also APPS[${name}])` });
    else names.set(app.name, i);
    // ATTACKS #26: an audience is what makes a token one app's; two apps sharing one share tokens.
    const audience = audiences.get(app.audience);
    if (audience !== undefined) ctx.addIssue({ code: "custom", path: [i, "audience"], message: `is the audience of APPS[${audience}] too; each app needs its own, so a token for one is worthless at another` });
    else audiences.set(app.audience, i);
    const prefix = normalPrefix(app.pathPrefix);
    app.hosts.forEach((host, h) => {
      const key = `${host} ${prefix}`;
      const other = routes.get(key);
      if (other !== undefined && other !== i) ctx.addIssue({ code: "custom", path: [i, "hosts", h], message: `${host} with pathPrefix ${prefix} is served by APPS[${other}] too` });
      else routes.set(key, i);
    });
  });
}

/** `/docs/` and `/docs` are one prefix; the root is `/`. */
export function normalPrefix(prefix: string | undefined): string {
  const p = (prefix ?? "/").replace(/\/+$/, "");
  return p === "" ? "/" : p;
}

/** The compiled app, with the defaults the issue names. */
export function compileApp(doc: AppDocument, defaults: { originTimeoutMs: number }): AppConfig {
  return {
    name: doc.name,
    hosts: doc.hosts,
    pathPrefix: normalPrefix(doc.pathPrefix),
    audience: doc.audience,
    originUrl: doc.originUrl,
    policy: compilePolicy(doc.policy),
    publicPaths: compilePublicPaths(doc.publicPaths),
    assertionIssuer: `urn:sts-gate:${doc.audience}`,
    assertionAudience: doc.assertionAudience ?? doc.originUrl.origin,
    corsAllowedOrigins: new Set(doc.corsAllowedOrigins ?? []),
    originTimeoutMs: doc.originTimeoutMs ?? defaults.originTimeoutMs,
    tokenMaxAgeMs: (doc.tokenMaxAgeSeconds ?? DEFAULT_TOKEN_MAX_AGE_SECONDS) * 1000,
    forwardAuth: doc.forwardAuth === true,
  };
}

/**
 * Rule `publicPathsStrict` (ATTACKS #30): public paths match the same decoded path, with the
 * same strict globs, as policy rules; an ambiguous path (an encoded slash, a `;` parameter, a
 * double escape) is never public, so a path the gate reads as public cannot be one the origin
 * resolves elsewhere.
 */
export function compilePublicPaths(globs: readonly string[] | undefined): ReadonlyArray<(path: string) => boolean> {
  return (globs ?? []).map((glob) => {
    const match = compilePathGlob(glob);
    return (rawPath: string) => {
      const path = policyPath(rawPath);
      return path !== null && match(path);
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Routing.

/**
 * Rule `appByHost`: the app that serves a request, from the URL the runtime saw (its host, never
 * `X-Forwarded-Host` or another header) and its path. An exact host wins over a `*.` one; among
 * those, the longest `pathPrefix` that the path is under, on a segment boundary. Undefined: no
 * app serves it.
 */
export function matchApp(apps: readonly AppConfig[], hostname: string, pathname: string): AppConfig | undefined {
  const candidates = appsForHost(apps, hostname);
  let best: AppConfig | undefined;
  for (const app of candidates) {
    if (underPrefix(app.pathPrefix, pathname) && (best === undefined || app.pathPrefix.length > best.pathPrefix.length)) best = app;
  }
  return best;
}

/**
 * Rule `appByFoldedPath` (ATTACKS #26): whether a lenient origin could read this path under
 * another app's prefix than the one the gate picked: `/%61dmin/x`, `//admin/x`, `/admin;x/x` or
 * `/ADMIN/x` are not under `/admin` as written, but are to an origin that decodes, merges
 * slashes, drops `;` parameters or ignores case. The folded reading (foldPath) must pick the same
 * app, or the request is refused. Only paths with something to fold, on a host with more than one
 * app, are read twice.
 */
export function appIsAmbiguous(apps: readonly AppConfig[], hostname: string, pathname: string, picked: AppConfig, fold: (path: string) => string): boolean {
  if (!FOLDABLE.test(pathname)) return false;
  const candidates = appsForHost(apps, hostname);
  if (candidates.length < 2) return false;
  const folded = fold(pathname);
  let best: AppConfig | undefined;
  for (const app of candidates) {
    const prefix = fold(app.pathPrefix);
    if (underPrefix(prefix === "" ? "/" : prefix, folded) && (best === undefined || app.pathPrefix.length > best.pathPrefix.length)) best = app;
  }
  return best !== picked;
}

/** Something a lenient origin reads differently: an escape, `;`, `//`, an upper-case letter, a segment ending in `.`. */
const FOLDABLE = /[%;A-Z]|\/\/|\.(?:\/|$)/;

/** The apps for a host: those that name it exactly, or else those whose `*.` pattern matches it. */
export function appsForHost(apps: readonly AppConfig[], hostname: string): AppConfig[] {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  const exact = apps.filter((a) => a.hosts === undefined || a.hosts.includes(host));
  if (exact.length > 0) return exact;
  const dot = host.indexOf(".");
  if (dot <= 0) return [];
  const wildcard = `*${host.slice(dot)}`;
  return apps.filter((a) => a.hosts?.includes(wildcard));
}

/** Rule `prefixBoundary`: `/docs` serves `/docs` and `/docs/…`, never `/docsx`. */
export function underPrefix(prefix: string, pathname: string): boolean {
  if (prefix === "/") return true;
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}
