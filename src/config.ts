import * as z from "zod";
import { compilePolicy, PolicySchema, type Policy } from "./policy";
import { DEFAULT_STS_TIMEOUT_MS } from "./sts/exchange";

export { DEFAULT_STS_TIMEOUT_MS };

/** The bindings and vars the gate reads; the names are part of the interface. */
export interface GateEnv {
  IDENTITY_CACHE?: KVNamespace;
  AUDIENCE?: unknown;
  ORIGIN_URL?: unknown;
  POLICY?: unknown;
  STS_TIMEOUT_MS?: unknown;
  /** Development and tests only: reach STS through this binding instead of the network. */
  STS?: Fetcher;
  /** Development and tests only: reach the origin through this binding instead of the network. */
  ORIGIN?: Fetcher;
}

export interface GateConfig {
  identityCache: KVNamespace;
  audience: string;
  originUrl: URL;
  policy: Policy;
  stsTimeoutMs: number;
  sts: Fetcher | undefined;
  origin: Fetcher | undefined;
}

const KvBinding = z.custom<KVNamespace>(
  (v) => typeof v === "object" && v !== null && typeof (v as KVNamespace).get === "function",
  { error: "must be a KV namespace binding" },
);

const FetcherBinding = z.custom<Fetcher>(
  (v) => typeof v === "object" && v !== null && typeof (v as Fetcher).fetch === "function",
  { error: "must be a service binding" },
);

/** wrangler.toml tables arrive as objects; `wrangler secret put` and dashboards give strings. */
const JsonOrObject = z.union([
  z.string().transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "is a string but not valid JSON" });
      return z.NEVER;
    }
  }),
  z.record(z.string(), z.unknown()),
]);

const EnvSchema = z.object({
  IDENTITY_CACHE: KvBinding,
  // Sent as the x-k8s-aws-id header value, so it must be a plain header-safe token.
  AUDIENCE: z.string().regex(/^[\x21-\x7e]{1,256}$/, { error: "must be 1 to 256 visible ASCII characters" }),
  ORIGIN_URL: z
    .url({ protocol: /^https?$/, error: "must be an absolute http(s) URL" })
    .transform((s) => new URL(s))
    .refine((u) => u.username === "" && u.password === "" && u.search === "" && u.hash === "", {
      error: "must not carry credentials, a query or a fragment",
    }),
  POLICY: JsonOrObject.pipe(PolicySchema),
  STS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(DEFAULT_STS_TIMEOUT_MS),
  STS: FetcherBinding.optional(),
  ORIGIN: FetcherBinding.optional(),
});

export type ConfigResult = { ok: true; config: GateConfig } | { ok: false; issues: string[] };

/** Validates the environment; every problem names the field it is about. Never fails open. */
export function parseConfig(env: GateEnv): ConfigResult {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
    };
  }
  const e = parsed.data;
  return {
    ok: true,
    config: {
      identityCache: e.IDENTITY_CACHE,
      audience: e.AUDIENCE,
      originUrl: e.ORIGIN_URL,
      policy: compilePolicy(e.POLICY),
      stsTimeoutMs: e.STS_TIMEOUT_MS,
      sts: e.STS,
      origin: e.ORIGIN,
    },
  };
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    "",
  );
}
