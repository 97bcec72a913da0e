import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";

export type AssertionKeyAlgorithm = "EdDSA" | "ES256";

export interface GeneratedAssertionKey {
  /** The value of ASSERTION_PRIVATE_JWK: public members, `d`, `kid`, `alg`, `use`. */
  privateJwk: JWK;
  /** The same without `d`: what the gate publishes, and what ASSERTION_PREVIOUS_PUBLIC_JWK takes. */
  publicJwk: JWK;
  /** The RFC 7638 SHA-256 thumbprint of the public key. */
  kid: string;
}

/** A fresh assertion key pair (Ed25519 for EdDSA, P-256 for ES256), as JWKs. */
export async function generateAssertionKey(alg: AssertionKeyAlgorithm = "EdDSA"): Promise<GeneratedAssertionKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const pub = await exportJWK(publicKey);
  const priv = await exportJWK(privateKey);
  const members = (jwk: JWK): JWK => (jwk.kty === "EC" ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } : { kty: jwk.kty, crv: jwk.crv, x: jwk.x });
  const kid = await calculateJwkThumbprint(members(pub), "sha256");
  return {
    privateJwk: { ...members(priv), d: priv.d, kid, alg, use: "sig" },
    publicJwk: { ...members(pub), kid, alg, use: "sig" },
    kid,
  };
}
