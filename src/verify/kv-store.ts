import { withDeadline } from "../deadline.ts";
import { identityFromSts, type CallerIdentity, type StsAnswer } from "../identity.ts";
import { log } from "../log.ts";
import { GateError } from "../errors.ts";
import { KV_MIN_TTL_SECONDS } from "../storage/keys.ts";
import type { ValidatedToken } from "../token/validate.ts";

export const KV_TIMEOUT_MS = 1000;

interface KvEntry {
  arn: string;
  account: string;
  userId: string;
  expiresAt: number;
}

/**
 * The identity another isolate verified for this key, or undefined. A KV failure or hang is a
 * miss: the request goes on to STS and never fails on KV's account.
 */
export async function readIdentity(kv: KVNamespace, key: string, token: ValidatedToken, now: number): Promise<CallerIdentity | undefined> {
  try {
    const entry = await withDeadline(kv.get<KvEntry>(key, "json"), { ms: KV_TIMEOUT_MS, onTimeout: { fallback: null } });
    if (entry === null || typeof entry !== "object") return undefined;
    // KV expiry is lazy and eventually consistent; the token's own lifetime is the truth.
    if (entry.expiresAt !== token.expiresAt || now >= token.expiresAt) return undefined;
    const answer: StsAnswer = { arn: entry.arn, account: entry.account, userId: entry.userId };
    // Stored data goes through the same checks as a fresh STS answer.
    return identityFromSts(answer, token.endpoint.partition);
  } catch (error) {
    if (!(error instanceof GateError)) log({ event: "kv", level: "warn", message: "KV read failed; calling STS" });
    return undefined;
  }
}

/**
 * Shares a verified identity with other isolates until the token's own expiry, never longer.
 * Rule `kvMinimumTtl`: an entry that would have to outlive the token to meet KV's 60 s minimum
 * is not written. The write never delays or fails the request.
 */
export function storeIdentity(
  kv: KVNamespace,
  key: string,
  identity: CallerIdentity,
  expiresAt: number,
  now: number,
  waitUntil: (p: Promise<unknown>) => void,
): void {
  const expiration = Math.floor(expiresAt / 1000);
  if (expiration < Math.ceil(now / 1000) + KV_MIN_TTL_SECONDS) return;
  const entry: KvEntry = { arn: identity.arn, account: identity.account, userId: identity.userId, expiresAt };
  let write: Promise<unknown>;
  try {
    write = kv.put(key, JSON.stringify(entry), { expiration });
  } catch (error) {
    write = Promise.reject(error);
  }
  waitUntil(write.catch(() => log({ event: "kv", level: "warn", message: "KV write failed; identity not shared" })));
}
