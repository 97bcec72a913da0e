/**
 * The JWS the gate signs, by hand over WebCrypto: a compact JWS is two base64url JSON parts and
 * one signature (RFC 7515 §7.1), and for EdDSA and ES256 WebCrypto's output is already the JWS
 * signature (ES256: r‖s, RFC 7518 §3.4). One `crypto.subtle.sign` per assertion, and no JOSE
 * library in the Worker: the origin verifies with jose (src/origin/verify.ts), and the tests
 * check every assertion the gate signs that way.
 */

export type JwsAlgorithm = "EdDSA" | "ES256";

/** A key's public members, as RFC 7638 and WebCrypto's JWK import take them. */
export interface KeyMembers {
  kty: string;
  crv: string;
  x: string;
  y?: string;
}

const PARAMS: Record<JwsAlgorithm, { key: SubtleCryptoImportKeyAlgorithm; sign: SubtleCryptoSignAlgorithm }> = {
  EdDSA: { key: { name: "Ed25519" }, sign: { name: "Ed25519" } },
  ES256: { key: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
};

const encoder = new TextEncoder();

/** The private key, not extractable: imported once per isolate. */
export function importSigningKey(members: KeyMembers, d: string, alg: JwsAlgorithm): Promise<CryptoKey> {
  return crypto.subtle.importKey("jwk", { ...members, d }, PARAMS[alg].key, false, ["sign"]);
}

export function importVerifyingKey(members: KeyMembers, alg: JwsAlgorithm): Promise<CryptoKey> {
  return crypto.subtle.importKey("jwk", { ...members }, PARAMS[alg].key, true, ["verify"]);
}

/** `header.payload.signature`, each part unpadded base64url. */
export async function signCompact(key: CryptoKey, alg: JwsAlgorithm, header: object, payload: object): Promise<string> {
  const input = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  const signature = await crypto.subtle.sign(PARAMS[alg].sign, key, encoder.encode(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

/** Whether `privateKey` signs what `publicKey` verifies: WebCrypto does not check that d belongs to x (and y). */
export async function keysMatch(privateKey: CryptoKey, publicKey: CryptoKey, alg: JwsAlgorithm): Promise<boolean> {
  const probe = encoder.encode("sts-gate key check");
  const signature = await crypto.subtle.sign(PARAMS[alg].sign, privateKey, probe);
  return crypto.subtle.verify(PARAMS[alg].sign, publicKey, signature, probe);
}

/** The RFC 7638 SHA-256 thumbprint: the required members only, in lexicographic order. */
export async function jwkThumbprint(members: KeyMembers): Promise<string> {
  const required = members.kty === "EC" ? { crv: members.crv, kty: members.kty, x: members.x, y: members.y } : { crv: members.crv, kty: members.kty, x: members.x };
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(JSON.stringify(required)));
  return base64url(new Uint8Array(digest));
}

function base64urlJson(value: object): string {
  return base64url(encoder.encode(JSON.stringify(value)));
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
