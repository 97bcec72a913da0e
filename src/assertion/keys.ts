import * as z from "zod/mini";

/**
 * The shapes of the gate's assertion keys, checked by the configuration schema. Messages never
 * quote a value: a private key must not end up in a log.
 */

// Canonical only: 43 characters carry 258 bits, so the last one's low two bits must be zero.
// Otherwise four spellings decode to one key, and a key could pass for another (COMMITTED_KEYS).
const b64url32 = z.string({ error: "must be a string" }).check(
  z.regex(/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/, { error: "must be 43 canonical base64url characters (32 bytes)" }),
);
const Kid = z.string({ error: "must be a string" }).check(z.regex(/^[\x21-\x7e]{1,256}$/, { error: "must be 1 to 256 visible ASCII characters" }));
const Use = z.literal("sig", { error: 'must be "sig" if present' });

const Ed25519Public = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519", { error: 'must be "Ed25519" (the only OKP curve the gate signs with)' }),
  x: b64url32,
  alg: z.optional(z.literal("EdDSA", { error: 'must be "EdDSA" for an Ed25519 key, if present' })),
  kid: z.optional(Kid),
  use: z.optional(Use),
});

const P256Public = z.object({
  kty: z.literal("EC"),
  crv: z.literal("P-256", { error: 'must be "P-256" (the only EC curve the gate signs with)' }),
  x: b64url32,
  y: b64url32,
  alg: z.optional(z.literal("ES256", { error: 'must be "ES256" for a P-256 key, if present' })),
  kid: z.optional(Kid),
  use: z.optional(Use),
});

const KTY_ERROR = { error: 'kty must be "OKP" (Ed25519, EdDSA) or "EC" (P-256, ES256)' };

export const PrivateJwkSchema = z.discriminatedUnion(
  "kty",
  [z.extend(Ed25519Public, { d: b64url32 }), z.extend(P256Public, { d: b64url32 })],
  KTY_ERROR,
);

const NO_PRIVATE_PART = z.never({ error: "must not be there: this key is published, so it must be the public key only" });

export const PublicJwkSchema = z.discriminatedUnion(
  "kty",
  [z.extend(Ed25519Public, { d: z.optional(NO_PRIVATE_PART) }), z.extend(P256Public, { d: z.optional(NO_PRIVATE_PART) })],
  KTY_ERROR,
);

export type PrivateJwk = z.infer<typeof PrivateJwkSchema>;
export type PublicJwk = z.infer<typeof PublicJwkSchema>;

/** The JWS algorithm a key signs with. */
export function algorithmOf(jwk: { kty: "OKP" | "EC" }): "EdDSA" | "ES256" {
  return jwk.kty === "OKP" ? "EdDSA" : "ES256";
}

/**
 * The public members only, named one by one, so nothing private (`d`, or anything else a
 * pasted JWK carried) can be copied into the published key set.
 */
export function publicMembers(jwk: PrivateJwk | PublicJwk): { kty: string; crv: string; x: string; y?: string } {
  return jwk.kty === "OKP" ? { kty: "OKP", crv: jwk.crv, x: jwk.x } : { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y };
}
