/**
 * The layout of IDENTITY_CACHE, the gate's one KV namespace, in one table. Two kinds of key
 * share it, each under its own versioned prefix, so neither can be read as the other and a
 * future layout can sit beside this one:
 *
 * | prefix    | key after it                                                 | value                                                  | expiration                                                                 | written by          |
 * |-----------|--------------------------------------------------------------|--------------------------------------------------------|----------------------------------------------------------------------------|---------------------|
 * | `id:v1:`  | SHA-256 of `sts-gate/v1`, the audience and the token, in hex | the identity STS vouched for (never the token)         | the token's own expiry; not stored when less than 60 s is left             | verify/kv-store.ts  |
 * | `rev:v1:` | the revocation entry's id                                    | the entry (identifiers only); its selector as metadata | its `expiresAt`, at least 65 s ahead; none without one or beyond a year    | revocation/store.ts |
 */

/** A verified identity, keyed by its token's digest (verify/cache-key.ts). */
export const IDENTITY_PREFIX = "id:v1:";
/** One revocation entry per key (rule `revocationPerEntryKey`). */
export const REVOCATION_PREFIX = "rev:v1:";
/** KV refuses an expiration less than 60 s ahead. */
export const KV_MIN_TTL_SECONDS = 60;
