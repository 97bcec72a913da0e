import type { CallerIdentity } from "../identity.ts";
import { ASSERTION_LIFETIME_SECONDS, ASSERTION_TYP, type AssertionClaims } from "../origin/claims.ts";
import { importSigningKey, importVerifyingKey, jwkThumbprint, keysMatch, signCompact } from "./jws.ts";
import { algorithmOf, publicMembers, type PrivateJwk, type PublicJwk } from "./keys.ts";

/** What the configuration says about assertions (validated shapes; nothing imported yet). */
export interface AssertionSettings {
  privateJwk: PrivateJwk;
  previousPublicJwk: PublicJwk | undefined;
  issuer: string;
  audience: string;
}

/** A published key: public members, `kid`, `alg`, `use`. Never `d`. */
export interface PublishedJwk {
  kty: string;
  crv: string;
  x: string;
  y?: string;
  kid: string;
  alg: "EdDSA" | "ES256";
  use: "sig";
}

/** The request an assertion is issued for, as the origin will receive it. */
export interface AssertedRequest {
  method: string;
  /** Path and query at the origin, `ORIGIN_URL`'s path prefix included. */
  htu: string;
}

/** A configuration problem found while importing the keys; names the field, never the value. */
export class AssertionKeyError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "AssertionKeyError";
  }
}

/**
 * The gate's signer: the private key imported once (per configuration, so once per isolate),
 * then one signature per forwarded request (src/assertion/jws.ts).
 */
export class AssertionSigner {
  /** The body of `/.well-known/jwks.json`, serialized once. */
  readonly jwksBody: string;

  private constructor(
    private readonly key: CryptoKey,
    readonly alg: "EdDSA" | "ES256",
    readonly kid: string,
    readonly issuer: string,
    readonly audience: string,
    readonly published: readonly PublishedJwk[],
  ) {
    this.jwksBody = JSON.stringify({ keys: published });
  }

  /**
   * Imports and checks the keys. Throws AssertionKeyError, naming the field, if a key cannot be
   * imported, if the private key does not match its own public members, or if the previous key
   * reuses the current key's kid for different material.
   */
  static async create(settings: AssertionSettings): Promise<AssertionSigner> {
    const jwk = settings.privateJwk;
    const alg = algorithmOf(jwk);
    const field = "ASSERTION_PRIVATE_JWK";
    let key: CryptoKey;
    let publicKey: CryptoKey;
    try {
      key = await importSigningKey(publicMembers(jwk), jwk.d, alg);
    } catch {
      throw new AssertionKeyError(field, `is not a usable ${alg} private key`);
    }
    try {
      publicKey = await importVerifyingKey(publicMembers(jwk), alg);
    } catch {
      throw new AssertionKeyError(field, `has public members (x${jwk.kty === "EC" ? ", y" : ""}) that are not a valid ${jwk.crv} point`);
    }
    // WebCrypto does not check that d belongs to x (and y): a mismatch would publish a key
    // that verifies nothing. Sign once and verify with the public members to find out now.
    if (!(await keysMatch(key, publicKey, alg))) {
      throw new AssertionKeyError(field, "its private part d does not belong to its public part (x" + (jwk.kty === "EC" ? ", y" : "") + ")");
    }
    const kid = jwk.kid ?? (await jwkThumbprint(publicMembers(jwk)));
    const published: PublishedJwk[] = [{ ...publicMembers(jwk), kid, alg, use: "sig" }];

    const previous = settings.previousPublicJwk;
    if (previous !== undefined) {
      const pfield = "ASSERTION_PREVIOUS_PUBLIC_JWK";
      const palg = algorithmOf(previous);
      try {
        await importVerifyingKey(publicMembers(previous), palg);
      } catch {
        throw new AssertionKeyError(pfield, `is not a usable ${palg} public key`);
      }
      const pkid = previous.kid ?? (await jwkThumbprint(publicMembers(previous)));
      const same = JSON.stringify(publicMembers(previous)) === JSON.stringify(publicMembers(jwk));
      if (pkid === kid && !same) throw new AssertionKeyError(pfield, "has the same kid as ASSERTION_PRIVATE_JWK but is a different key");
      // The current key given again as the previous one (the first rotation step): published once.
      if (!same) published.push({ ...publicMembers(previous), kid: pkid, alg: palg, use: "sig" });
    }
    return new AssertionSigner(key, alg, kid, settings.issuer, settings.audience, published);
  }

  /** The same key, signing for another issuer and audience: one per app, one key per gate. */
  forClaims(issuer: string, audience: string): AssertionSigner {
    return new AssertionSigner(this.key, this.alg, this.kid, issuer, audience, this.published);
  }

  /** A compact JWT vouching for `identity` on exactly this request. `nowMs` is epoch ms. */
  async sign(identity: CallerIdentity, request: AssertedRequest, nowMs: number): Promise<string> {
    const iat = Math.floor(nowMs / 1000);
    const claims: AssertionClaims = {
      iss: this.issuer,
      aud: this.audience,
      sub: identity.principal,
      iat,
      exp: iat + ASSERTION_LIFETIME_SECONDS,
      jti: crypto.randomUUID(),
      arn: identity.arn,
      account: identity.account,
      user_id: identity.userId,
      principal_type: identity.type,
      // Rule `sessionClaimsWhenKnown`: present only when the fact exists, like the headers.
      ...(identity.role !== undefined && { role: identity.role }),
      ...(identity.session !== undefined && { session: identity.session }),
      ...(identity.permissionSet !== undefined && { permission_set: identity.permissionSet }),
      ...(identity.user !== undefined && { user: identity.user }),
      htm: request.method,
      htu: request.htu,
    };
    return signCompact(this.key, this.alg, { alg: this.alg, kid: this.kid, typ: ASSERTION_TYP }, claims);
  }
}

// One signer per settings object: the configuration is parsed once per env, so the key is
// imported once per isolate, not per request.
const signers = new WeakMap<AssertionSettings, Promise<AssertionSigner>>();

export function assertionSignerFor(settings: AssertionSettings): Promise<AssertionSigner> {
  let signer = signers.get(settings);
  if (signer === undefined) {
    signer = AssertionSigner.create(settings);
    signers.set(settings, signer);
  }
  return signer;
}
