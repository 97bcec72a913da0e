import type { GateConfig } from "../config.ts";
import { sha256Hex } from "../digest.ts";

/**
 * Rule `devWiringLoopbackOnly` (ATTACKS #23): a gate wired for development serves only a
 * loopback host. Development wiring is an `STS` binding (the emulator, whose credentials are in
 * git, would let anyone in) or a signing key that has been public in this repository (anyone
 * could forge assertions the origin trusts). Deployed by mistake, such a gate answers every
 * public host with 500 `misconfigured` and forwards nothing.
 */

/**
 * SHA-256 (hex) of the `d` of every private key that has ever been committed here: git history
 * keeps them public forever. Hashes, so this file holds no key.
 */
export const PUBLIC_PRIVATE_KEY_DIGESTS: ReadonlySet<string> = new Set([
  // The Ed25519 development key (kid WYaWHLl-gOLpp7s3kCnq-MLGW8y2YQl0ily5_aARJ5c), committed until 0.2.
  "9b21776ef2afc2a613ed7c43ebff98b60352793a3333349b8fbdc4a9d010d4b5",
]);

/** The hosts a development gate answers: the machine itself. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase());
}

/** Why this configuration is development wiring (the settings, never their values), or []. */
export async function devWiringReasons(config: GateConfig): Promise<string[]> {
  const reasons: string[] = [];
  if (config.sts !== undefined) reasons.push("STS: a service binding replaces the real STS endpoint");
  const d = config.assertion?.privateJwk.d;
  if (d !== undefined && PUBLIC_PRIVATE_KEY_DIGESTS.has(await sha256Hex(d))) {
    reasons.push("ASSERTION_PRIVATE_JWK: this key has been committed to the sts-gate repository, so anyone can sign with it");
  }
  return reasons;
}
