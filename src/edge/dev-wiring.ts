import type { GateConfig } from "../config.ts";

/**
 * Rule `devWiringLoopbackOnly` (ATTACKS #23): a gate wired for development serves only a
 * loopback host. Development wiring is an `STS` binding (the emulator, whose credentials are in
 * git, would let anyone in) or a signing key that has been public in this repository (anyone
 * could forge assertions the origin trusts). Deployed by mistake, such a gate answers every
 * public host with 500 `misconfigured` and forwards nothing.
 */

/**
 * The public key (`x`, and `y` for P-256, joined by `.`) of every private key that has ever
 * been committed here: git history keeps those private keys readable forever. A public key
 * names the pair, because the signer refuses a `d` that does not belong to its `x`.
 */
export const COMMITTED_KEYS: ReadonlySet<string> = new Set([
  // The Ed25519 development key (kid WYaWHLl-gOLpp7s3kCnq-MLGW8y2YQl0ily5_aARJ5c), in wrangler.toml in earlier versions.
  "4q2X4INOh4f0vV4Pk4b0_IgNUqeK7oYgHHG6hrwJq2M",
]);

/** The hosts a development gate answers: the machine itself. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Also any name under `localhost.` (RFC 6761: `api.localhost` is the machine itself, and no
 * public zone can route it to a deployed Worker), so several apps can be tried locally by host:
 * `curl http://api.localhost:8787/`.
 */
export function isLoopbackHost(hostname: string): boolean {
  // A fully qualified name may end in a dot: `localhost.` is the machine too.
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return LOOPBACK_HOSTS.has(host) || /^(?:[a-z0-9-]+\.)+localhost$/.test(host);
}

/** Why this configuration is development wiring (the settings, never their values), or []. */
export function devWiringReasons(config: Pick<GateConfig, "sts" | "assertion">, alsoCommitted: ReadonlySet<string> = new Set()): string[] {
  const reasons: string[] = [];
  if (config.sts !== undefined) reasons.push("STS: a service binding replaces the real STS endpoint");
  const key = config.assertion?.privateJwk;
  const publicKey = key === undefined ? undefined : key.kty === "EC" ? `${key.x}.${key.y}` : key.x;
  if (publicKey !== undefined && (COMMITTED_KEYS.has(publicKey) || alsoCommitted.has(publicKey))) {
    reasons.push("ASSERTION_PRIVATE_JWK: this key has been committed to the sts-gate repository, so anyone can sign with it");
  }
  return reasons;
}
