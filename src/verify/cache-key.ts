import { sha256Hex } from "../digest.ts";
import { IDENTITY_PREFIX } from "../storage/keys.ts";

/**
 * Rule `cacheKeyHasAudience`: SHA-256 over the audience and the token. The token itself is
 * never a key (raw tokens are never held in memory), and a token verified by a gate with
 * another audience, sharing the namespace, is never a hit here.
 */
export async function cacheKey(audience: string, token: string): Promise<string> {
  return `${IDENTITY_PREFIX}${await sha256Hex(`sts-gate/v1\n${audience}\n${token}`)}`;
}
