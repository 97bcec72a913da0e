// The per-run signing key vitest.config.ts binds (no key is committed, so wrangler types does not see it).
declare namespace Cloudflare {
  interface Env {
    ASSERTION_PRIVATE_JWK: string;
  }
}
