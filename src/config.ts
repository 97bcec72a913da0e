import * as z from "zod/mini";
import { ENGLISH } from "./zod-english.ts";
import { PrivateJwkSchema, PublicJwkSchema } from "./assertion/keys.ts";
import type { AssertionSettings } from "./assertion/signer.ts";
import { CorsAllowedOriginsSchema } from "./cors.ts";
import { formatIssuePath } from "./issue-path.ts";
import { AUDIENCE_PATTERN } from "./protocol.ts";
import { appSchema, checkAppList, compileApp, compilePublicPaths, DEFAULT_TOKEN_MAX_AGE_SECONDS, type AppConfig } from "./gate/apps.ts";
import { compilePolicy, PolicySchema, type CompiledPolicy } from "./policy/index.ts";
import { list, PrincipalEntrySchema } from "./policy/schema.ts";
import { DEFAULT_MEMORY_ENTRIES } from "./verify/isolate-cache.ts";
import { metricsDataset } from "./observe/metrics.ts";
import { DEFAULT_ORIGIN_TIMEOUT_MS } from "./forward.ts";
import { DEFAULT_STS_TIMEOUT_MS } from "./sts/exchange.ts";

export { DEFAULT_STS_TIMEOUT_MS };

/** The bindings and vars the gate reads; the names are part of the interface. */
export interface GateEnv {
  IDENTITY_CACHE?: KVNamespace;
  AUDIENCE?: unknown;
  ORIGIN_URL?: unknown;
  POLICY?: unknown;
  STS_TIMEOUT_MS?: unknown;
  /** The private JWK (Ed25519 or P-256) that signs `X-Caller-Assertion`. A Workers secret. */
  ASSERTION_PRIVATE_JWK?: unknown;
  /** During a key rotation: the previous public JWK, still published in the JWKS. */
  ASSERTION_PREVIOUS_PUBLIC_JWK?: unknown;
  /** The assertion's `aud`; default: the origin (scheme, host, port) of ORIGIN_URL. */
  ASSERTION_AUDIENCE?: unknown;
  /** The assertion's `iss`; default: `urn:sts-gate:<AUDIENCE>`. */
  ASSERTION_ISSUER?: unknown;
  /** Deadline for the origin's response headers; default 30000 ms. */
  ORIGIN_TIMEOUT_MS?: unknown;
  /** Maximum entries of each in-isolate cache (verified and refused tokens); default 10000. */
  CACHE_MAX_ENTRIES?: unknown;
  /**
   * Seconds after its X-Amz-Date a token is honoured, 60 to 900; default 900 (what STS honours).
   * With APPS, each app's `tokenMaxAgeSeconds`.
   */
  TOKEN_MAX_AGE_SECONDS?: unknown;
  /** `"true"`: answer forward-auth at /.well-known/sts-gate/verify; off by default. With APPS, each app's `forwardAuth`. */
  FORWARD_AUTH?: unknown;
  /** Optional Workers rate-limiting binding: KV- and STS-bound verifications per client (IPv4 address, IPv6 /64). */
  STS_RATE_LIMITER?: RateLimit;
  /** Optional Workers Analytics Engine dataset: one data point per decision. */
  METRICS?: AnalyticsEngineDataset;
  /**
   * `"false"`: no decision line for an allowed request or a public path (at high volume, the line
   * is most of a hit's cost). Deny and error lines, `warn` lines (root, federated-user), an
   * origin's 5xx, whoami and the revocation API always stay; metrics keep every decision.
   * Default `"true"`.
   */
  LOG_ALLOWED?: unknown;
  /** Comma-separated exact origins whose pages may call the gate (CORS); default none. */
  CORS_ALLOWED_ORIGINS?: unknown;
  /**
   * Many apps behind one gate: a list of apps (a wrangler.toml `[[vars.APPS]]` array of tables,
   * or JSON), each with its hosts, path prefix, audience, origin and policy. Not together with
   * the single-app vars (AUDIENCE, ORIGIN_URL, POLICY, ASSERTION_AUDIENCE, ASSERTION_ISSUER,
   * CORS_ALLOWED_ORIGINS, ORIGIN_TIMEOUT_MS).
   */
  APPS?: unknown;
  /** Who may use the revocation API on any host of any app: principal patterns, matched like `allow`. */
  ADMINS?: unknown;
  /** Development and tests only: reach STS through this binding instead of the network. */
  STS?: Fetcher;
  /** Development and tests only: reach the origin through this binding instead of the network. */
  ORIGIN?: Fetcher;
}

/** The gate-wide settings, and its apps: one named `default` serving every host without APPS. */
export interface GateConfig {
  identityCache: KVNamespace;
  apps: readonly AppConfig[];
  /** Whether the apps came from APPS (else from the single-app vars). */
  fromApps: boolean;
  /** Who may use the revocation API (ADMINS, or the single-app POLICY.admins); undefined: the API is off. */
  admins: CompiledPolicy | undefined;
  stsTimeoutMs: number;
  cacheMaxEntries: number;
  stsRateLimiter: RateLimit | undefined;
  /** Not validated: metrics are never a reason to refuse traffic (the gate warns instead). */
  metrics: AnalyticsEngineDataset | undefined;
  sts: Fetcher | undefined;
  origin: Fetcher | undefined;
  /** The signing key, shared by every app; each app signs with its own issuer and audience. */
  assertion: AssertionKeys | undefined;
  /** LOG_ALLOWED: whether allowed and public requests get a decision line. */
  logAllowed: boolean;
}

/** The gate's signing key and, during a rotation, the previous public key. */
export interface AssertionKeys {
  privateJwk: AssertionSettings["privateJwk"];
  previousPublicJwk: AssertionSettings["previousPublicJwk"];
}

const KvBinding = z.custom<KVNamespace>(
  (v) => typeof v === "object" && v !== null && typeof (v as KVNamespace).get === "function",
  { error: "must be a KV namespace binding" },
);

const RateLimitBinding = z.custom<RateLimit>(
  (v) => typeof v === "object" && v !== null && typeof (v as RateLimit).limit === "function",
  { error: "must be a rate-limiting binding" },
);

/** A whole number of milliseconds or entries, as a number or as plain decimal digits. */
function wholeNumber(min: number, max: number, fallback: number) {
  const digits = z.pipe(z.string().check(z.regex(/^\d{1,9}$/, { error: "must be a whole number written in decimal digits" })), z.transform(Number));
  return z._default(z.pipe(z.union([z.number(), digits]), z.int().check(z.gte(min), z.lte(max))), fallback);
}

const FetcherBinding = z.custom<Fetcher>(
  (v) => typeof v === "object" && v !== null && typeof (v as Fetcher).fetch === "function",
  { error: "must be a service binding" },
);

/**
 * A JSON string (`wrangler secret put`) or an object (a wrangler.toml table). Unlike a
 * z.union, keeps its own "not valid JSON" message, and never quotes the value: it is a key.
 */
const JsonText = z.transform((v: unknown, ctx) => {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    ctx.issues.push({ code: "custom", message: "is a string but not valid JSON", input: v });
    return z.NEVER;
  }
});

/** POLICY, and each app's `policy`: a table, or the document as JSON text. */
const Policy = z.pipe(JsonText, PolicySchema);

/** `iss` and `aud` are compared as exact strings by every verifier; keep them plain. */
const ClaimString = z.string().check(z.regex(/^[\x21-\x7e]{1,1024}$/, { error: "must be 1 to 1024 visible ASCII characters" }));

// Sent as the x-k8s-aws-id header value, so it must be a plain header-safe token.
const Audience = z.string().check(z.regex(AUDIENCE_PATTERN, { error: "must be 1 to 256 visible ASCII characters" }));

const OriginUrl = z.pipe(
  z.url({ protocol: /^https?$/, error: "must be an absolute http(s) URL" }),
  z
    .transform((s: string) => new URL(s))
    .check(z.refine((u) => u.username === "" && u.password === "" && u.search === "" && u.hash === "", { error: "must not carry credentials, a query or a fragment" })),
);

const OriginTimeout = z.pipe(
  z.union([z.number(), z.pipe(z.string().check(z.regex(/^\d{1,9}$/, { error: "must be a whole number written in decimal digits" })), z.transform(Number))]),
  z.int().check(z.gte(100), z.lte(300_000)),
);

const TokenMaxAge = z.pipe(
  z.union([z.number(), z.pipe(z.string().check(z.regex(/^\d{1,9}$/, { error: "must be a whole number written in decimal digits" })), z.transform(Number))]),
  z.int().check(z.gte(60), z.lte(900)),
);

/** `true` or `false`, as a boolean or as the string a wrangler var or dashboard gives. */
function flag(fallback: boolean) {
  return z._default(
    z.pipe(
      z.union([z.boolean(), z.enum(["true", "false"], { error: 'must be "true" or "false"' })]),
      z.transform((v: boolean | "true" | "false") => v === true || v === "true"),
    ),
    fallback,
  );
}

/** Off unless set: what a new capability (forward-auth) needs. */
const Flag = flag(false);

const AppList = z.pipe(
  JsonText,
  z.array(appSchema({ audience: Audience, originUrl: OriginUrl, claim: ClaimString, originTimeoutMs: OriginTimeout, tokenMaxAgeSeconds: TokenMaxAge, policy: Policy })).check(
    z.minLength(1, { error: "must list at least one app" }),
    z.maxLength(1000),
    z.superRefine((apps, ctx) => checkAppList(apps, ctx)),
  ),
);

/** The vars that describe the one app of a gate without APPS. */
export const SINGLE_APP_VARS = [
  "AUDIENCE", "ORIGIN_URL", "POLICY", "ASSERTION_AUDIENCE", "ASSERTION_ISSUER", "CORS_ALLOWED_ORIGINS", "ORIGIN_TIMEOUT_MS", "TOKEN_MAX_AGE_SECONDS", "FORWARD_AUTH",
] as const;

/** The gate-wide settings, whichever form the apps take. */
const SharedSchema = z.object({
  IDENTITY_CACHE: KvBinding,
  STS_TIMEOUT_MS: wholeNumber(100, 60_000, DEFAULT_STS_TIMEOUT_MS),
  CACHE_MAX_ENTRIES: wholeNumber(100, 1_000_000, DEFAULT_MEMORY_ENTRIES),
  STS_RATE_LIMITER: z.optional(RateLimitBinding),
  STS: z.optional(FetcherBinding),
  ORIGIN: z.optional(FetcherBinding),
  ASSERTION_PRIVATE_JWK: z.optional(z.pipe(JsonText, PrivateJwkSchema)),
  ASSERTION_PREVIOUS_PUBLIC_JWK: z.optional(z.pipe(JsonText, PublicJwkSchema)),
  ADMINS: z.optional(z.pipe(JsonText, list(PrincipalEntrySchema, 1000, "must not be empty: omit ADMINS to turn the revocation API off"))),
  LOG_ALLOWED: flag(true),
});

/** The one app of a gate without APPS, from the single-app vars. */
const SingleAppSchema = z.object({
  AUDIENCE: Audience,
  ORIGIN_URL: OriginUrl,
  // wrangler.toml tables arrive as objects; `wrangler secret put` and dashboards give strings.
  POLICY: Policy,
  ORIGIN_TIMEOUT_MS: wholeNumber(100, 300_000, DEFAULT_ORIGIN_TIMEOUT_MS),
  CORS_ALLOWED_ORIGINS: z.optional(CorsAllowedOriginsSchema),
  ASSERTION_AUDIENCE: z.optional(ClaimString),
  ASSERTION_ISSUER: z.optional(ClaimString),
  TOKEN_MAX_AGE_SECONDS: z._default(TokenMaxAge, DEFAULT_TOKEN_MAX_AGE_SECONDS),
  FORWARD_AUTH: Flag,
});

const AppsSchema = z.object({ APPS: AppList });

export type ConfigResult = { ok: true; config: GateConfig } | { ok: false; issues: string[] };

/** Validates the environment; every problem names the field it is about. Never fails open. */
export function parseConfig(env: GateEnv): ConfigResult {
  const fromApps = env.APPS !== undefined;
  const issues: string[] = [];
  const collect = <T>(result: { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } }): T | undefined => {
    if (result.success) return result.data;
    for (const i of result.error.issues) issues.push(`${formatIssuePath(i.path)}: ${i.message}`);
    return undefined;
  };
  const shared = collect(SharedSchema.safeParse(env, ENGLISH));
  let apps: AppConfig[] | undefined;
  let singleAdmins: CompiledPolicy | undefined;
  if (fromApps) {
    // Rule `appsOrSingleApp`: one form or the other, never a mixture to guess between.
    const mixed = SINGLE_APP_VARS.filter((name) => env[name] !== undefined);
    if (mixed.length > 0) issues.push(`APPS: is set together with ${mixed.join(", ")}; with APPS, each app has its own (see docs/configuration.md)`);
    const parsed = collect(AppsSchema.safeParse(env, ENGLISH));
    apps = parsed?.APPS.map((doc) => compileApp(doc, { originTimeoutMs: DEFAULT_ORIGIN_TIMEOUT_MS }));
  } else {
    const e = collect(SingleAppSchema.safeParse(env, ENGLISH));
    if (e !== undefined) {
      const policy = compilePolicy(e.POLICY);
      apps = [
        {
          name: DEFAULT_APP,
          hosts: undefined,
          pathPrefix: "/",
          audience: e.AUDIENCE,
          originUrl: e.ORIGIN_URL,
          policy,
          publicPaths: compilePublicPaths(undefined),
          assertionIssuer: e.ASSERTION_ISSUER ?? `urn:sts-gate:${e.AUDIENCE}`,
          assertionAudience: e.ASSERTION_AUDIENCE ?? e.ORIGIN_URL.origin,
          corsAllowedOrigins: e.CORS_ALLOWED_ORIGINS ?? new Set(),
          originTimeoutMs: e.ORIGIN_TIMEOUT_MS,
          tokenMaxAgeMs: e.TOKEN_MAX_AGE_SECONDS * 1000,
          forwardAuth: e.FORWARD_AUTH,
        },
      ];
      if (e.POLICY.admins !== undefined) {
        if (env.ADMINS !== undefined) issues.push("ADMINS: is set, and so is POLICY.admins; name the admins in one of them");
        singleAdmins = policy;
      }
    }
  }
  if (shared !== undefined && shared.ASSERTION_PREVIOUS_PUBLIC_JWK !== undefined && shared.ASSERTION_PRIVATE_JWK === undefined) {
    issues.push("ASSERTION_PREVIOUS_PUBLIC_JWK: is set, but ASSERTION_PRIVATE_JWK is not (a previous key only makes sense beside a current one)");
  }
  if (issues.length > 0 || shared === undefined || apps === undefined) return { ok: false, issues: inSettingOrder(issues) };
  return {
    ok: true,
    config: {
      identityCache: shared.IDENTITY_CACHE,
      apps,
      fromApps,
      admins: shared.ADMINS !== undefined ? compilePolicy({ rules: [], admins: shared.ADMINS }) : singleAdmins,
      stsTimeoutMs: shared.STS_TIMEOUT_MS,
      cacheMaxEntries: shared.CACHE_MAX_ENTRIES,
      stsRateLimiter: shared.STS_RATE_LIMITER,
      metrics: metricsDataset(env.METRICS),
      sts: shared.STS,
      origin: shared.ORIGIN,
      assertion:
        shared.ASSERTION_PRIVATE_JWK === undefined ? undefined : { privateJwk: shared.ASSERTION_PRIVATE_JWK, previousPublicJwk: shared.ASSERTION_PREVIOUS_PUBLIC_JWK },
      logAllowed: shared.LOG_ALLOWED,
    },
  };
}

/** Issues in the order of the settings (as GateEnv lists them), each setting's in the order found. */
function inSettingOrder(issues: string[]): string[] {
  const rank = (issue: string) => {
    const i = SETTING_ORDER.indexOf(/^[A-Z_]*/.exec(issue)![0] as (typeof SETTING_ORDER)[number]);
    return i === -1 ? SETTING_ORDER.length : i;
  };
  return issues.map((issue, i) => ({ issue, i })).sort((a, b) => rank(a.issue) - rank(b.issue) || a.i - b.i).map((x) => x.issue);
}

const SETTING_ORDER = [
  "IDENTITY_CACHE", "AUDIENCE", "ORIGIN_URL", "POLICY", "STS_TIMEOUT_MS", "ORIGIN_TIMEOUT_MS", "CACHE_MAX_ENTRIES", "STS_RATE_LIMITER", "STS", "ORIGIN",
  "CORS_ALLOWED_ORIGINS", "TOKEN_MAX_AGE_SECONDS", "FORWARD_AUTH", "LOG_ALLOWED", "ASSERTION_PRIVATE_JWK", "ASSERTION_PREVIOUS_PUBLIC_JWK", "ASSERTION_AUDIENCE", "ASSERTION_ISSUER", "APPS", "ADMINS",
] as const;

/** The name of the one app a gate without APPS has: logged as `app`. */
export const DEFAULT_APP = "default";
