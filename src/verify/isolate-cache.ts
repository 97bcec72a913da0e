import type { CallerIdentity } from "../identity.ts";
import type { CacheSource } from "../log.ts";
import type { GateError } from "../errors.ts";
import { ExpiringLru } from "./lru.ts";
import { SingleFlight } from "./single-flight.ts";

export const DEFAULT_MEMORY_ENTRIES = 10_000;

/** What the isolate remembers per token: the identity, and the key that signed the token. */
export interface Verified {
  identity: CallerIdentity;
  /** The token's access key (its credential scope): not secret, it joins gate logs to CloudTrail. */
  accessKeyId: string;
  /** The token's X-Amz-Date (epoch ms): a remembered identity is used only while the token is young enough. */
  signedAt: number;
}

/** A verified identity, and where it came from. */
export interface Resolved extends Verified {
  cache: CacheSource;
  stsMs?: number;
}

/**
 * An isolate's memory, storage only (the verifier decides what goes in): identities verified
 * here, refusals STS gave (rule `refusedTokenMemory`), and the verifications under way. Both
 * maps are bounded LRUs whose entries expire with their tokens.
 */
export class IdentityCache {
  readonly identities: ExpiringLru<Verified>;
  readonly refused: ExpiringLru<GateError>;
  readonly flights = new SingleFlight<Resolved>();

  constructor(maxEntries = DEFAULT_MEMORY_ENTRIES) {
    this.identities = new ExpiringLru(maxEntries);
    this.refused = new ExpiringLru(maxEntries);
  }

  /** The identity this isolate verified for the key, if it has not expired. */
  remembered(key: string, now: number): Verified | undefined {
    return this.identities.get(key, now);
  }
}
