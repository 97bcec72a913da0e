import * as z from "zod/mini";
import { ENGLISH } from "./zod-english.ts";
import { PrivateJwkSchema, PublicJwkSchema } from "./assertion/keys.ts";
import type { AssertionSettings } from "./assertion/signer.ts";
import { CorsAllowedOriginsSchema } from "./cors.ts";
import { formatIssuePath } from "./issue-path.ts";
import { compilePolicy, PolicySchema, type CompiledPolicy } from "./policy/index.ts";
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
  /** Optional Workers rate-limiting binding: KV- and STS-bound verifications per client (IPv4 address, IPv6 /64). */
  STS_RATE_LIMITER?: RateLimit;
  /** Optional Workers Analytics Engine dataset: one data point per decision. */
  METRICS?: AnalyticsEngineDataset;
  /** Comma-separated exact origins whose pages may call the gate (CORS); default none. */
  CORS_ALLOWED_ORIGINS?: unknown;
  /** Development and tests only: reach STS through this binding instead of the network. */
  STS?: Fetcher;
  /** Development and tests only: reach the origin through this binding instead of the network. */
  ORIGIN?: Fetcher;
}

export interface GateConfig {
  identityCache: KVNamespace;
  audience: string;
  originUrl: URL;
  policy: CompiledPolicy;
  stsTimeoutMs: number;
  originTimeoutMs: number;
  cacheMaxEntries: number;
  stsRateLimiter: RateLimit | undefined;
  /** Not validated: metrics are never a reason to refuse traffic (the gate warns instead). */
  metrics: AnalyticsEngineDataset | undefined;
  sts: Fetcher | undefined;
  origin: Fetcher | undefined;
  /** Origins that get CORS headers and preflight answers; empty: no CORS. */
  corsAllowedOrigins: ReadonlySet<string>;
  /** Signed identity assertions; undefined when no key is configured (the gate warns). */
  assertion: AssertionSettings | undefined;
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

/** `iss` and `aud` are compared as exact strings by every verifier; keep them plain. */
const ClaimString = z.string().check(z.regex(/^[\x21-\x7e]{1,1024}$/, { error: "must be 1 to 1024 visible ASCII characters" }));

const EnvSchema = z.object({
  IDENTITY_CACHE: KvBinding,
  // Sent as the x-k8s-aws-id header value, so it must be a plain header-safe token.
  AUDIENCE: z.string().check(z.regex(/^[\x21-\x7e]{1,256}$/, { error: "must be 1 to 256 visible ASCII characters" })),
  ORIGIN_URL: z.pipe(
    z.url({ protocol: /^https?$/, error: "must be an absolute http(s) URL" }),
    z
      .transform((s: string) => new URL(s))
      .check(z.refine((u) => u.username === "" && u.password === "" && u.search === "" && u.hash === "", { error: "must not carry credentials, a query or a fragment" })),
  ),
  // wrangler.toml tables arrive as objects; `wrangler secret put` and dashboards give strings.
  POLICY: z.pipe(JsonText, PolicySchema),
  STS_TIMEOUT_MS: wholeNumber(100, 60_000, DEFAULT_STS_TIMEOUT_MS),
  ORIGIN_TIMEOUT_MS: wholeNumber(100, 300_000, DEFAULT_ORIGIN_TIMEOUT_MS),
  CACHE_MAX_ENTRIES: wholeNumber(100, 1_000_000, DEFAULT_MEMORY_ENTRIES),
  STS_RATE_LIMITER: z.optional(RateLimitBinding),
  STS: z.optional(FetcherBinding),
  ORIGIN: z.optional(FetcherBinding),
  CORS_ALLOWED_ORIGINS: z.optional(CorsAllowedOriginsSchema),
  ASSERTION_PRIVATE_JWK: z.optional(z.pipe(JsonText, PrivateJwkSchema)),
  ASSERTION_PREVIOUS_PUBLIC_JWK: z.optional(z.pipe(JsonText, PublicJwkSchema)),
  ASSERTION_AUDIENCE: z.optional(ClaimString),
  ASSERTION_ISSUER: z.optional(ClaimString),
});

export type ConfigResult = { ok: true; config: GateConfig } | { ok: false; issues: string[] };

/** Validates the environment; every problem names the field it is about. Never fails open. */
export function parseConfig(env: GateEnv): ConfigResult {
  const parsed = EnvSchema.safeParse(env, ENGLISH);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((i) => `${formatIssuePath(i.path)}: ${i.message}`),
    };
  }
  const e = parsed.data;
  if (e.ASSERTION_PREVIOUS_PUBLIC_JWK !== undefined && e.ASSERTION_PRIVATE_JWK === undefined) {
    return { ok: false, issues: ["ASSERTION_PREVIOUS_PUBLIC_JWK: is set, but ASSERTION_PRIVATE_JWK is not (a previous key only makes sense beside a current one)"] };
  }
  return {
    ok: true,
    config: {
      identityCache: e.IDENTITY_CACHE,
      audience: e.AUDIENCE,
      originUrl: e.ORIGIN_URL,
      policy: compilePolicy(e.POLICY),
      stsTimeoutMs: e.STS_TIMEOUT_MS,
      originTimeoutMs: e.ORIGIN_TIMEOUT_MS,
      cacheMaxEntries: e.CACHE_MAX_ENTRIES,
      stsRateLimiter: e.STS_RATE_LIMITER,
      metrics: metricsDataset(env.METRICS),
      sts: e.STS,
      origin: e.ORIGIN,
      corsAllowedOrigins: e.CORS_ALLOWED_ORIGINS ?? new Set(),
      assertion:
        e.ASSERTION_PRIVATE_JWK === undefined
          ? undefined
          : {
              privateJwk: e.ASSERTION_PRIVATE_JWK,
              previousPublicJwk: e.ASSERTION_PREVIOUS_PUBLIC_JWK,
              issuer: e.ASSERTION_ISSUER ?? `urn:sts-gate:${e.AUDIENCE}`,
              audience: e.ASSERTION_AUDIENCE ?? e.ORIGIN_URL.origin,
            },
    },
  };
}
