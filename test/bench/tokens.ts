/**
 * Tokens for the benchmark, minted with aws4fetch exactly as test/support/tokens.ts does, plus
 * a way to make many distinct valid tokens quickly: X-Amz-Date has one-second resolution, so
 * distinct tokens also vary X-Amz-Expires (1..900, signed, and ignored by STS for the
 * lifetime, which is always X-Amz-Date + 15 min). Token i of a run is signed at
 * `start - floor(i / 900)` seconds with X-Amz-Expires `1 + i % 900`: 54 000 tokens reach one
 * minute back, so every token stays valid for the whole run.
 */
import { AwsV4Signer } from "aws4fetch";
import { amzDate, encodeToken, identity } from "../support/tokens";

import { BENCH_AUDIENCE } from "./settings";

export { BENCH_AUDIENCE };
/** Distinct X-Amz-Expires values per signing second (1..900). */
export const EXPIRES_VALUES = 900;

// aws4fetch caches the derived signing key per secret/date/region/service in this map.
const signingKeys = new Map<string, ArrayBuffer>();

export interface BenchMint {
  identity: string;
  /** Signing time, epoch ms (whole seconds are what counts). */
  at: number;
  /** X-Amz-Expires, 0..900. */
  expires: number;
  audience?: string;
  host?: string;
}

export async function mintBenchToken(options: BenchMint): Promise<string> {
  const who = identity(options.identity);
  const host = options.host ?? "sts.us-east-1.amazonaws.com";
  const signer = new AwsV4Signer({
    method: "GET",
    url: `https://${host}/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=${options.expires}`,
    headers: { "x-k8s-aws-id": options.audience ?? BENCH_AUDIENCE },
    accessKeyId: who.accessKeyId,
    secretAccessKey: who.secretAccessKey,
    sessionToken: who.sessionToken,
    service: "sts",
    region: "us-east-1",
    signQuery: true,
    datetime: amzDate(options.at),
    cache: signingKeys,
  });
  return encodeToken((await signer.sign()).url.toString());
}

/**
 * The i-th distinct token of a run that started at `start` (epoch ms). Distinct for every i
 * below 900 × (seconds back allowed); callers keep i disjoint between pools.
 */
export function distinctMint(i: number, start: number, who = "alice"): BenchMint {
  const startSecond = Math.floor(start / 1000) * 1000;
  return { identity: who, at: startSecond - Math.floor(i / EXPIRES_VALUES) * 1000, expires: 1 + (i % EXPIRES_VALUES) };
}

/** Headers rejected by the gate's local rules, each for a different reason; none reaches STS. */
export async function junkAuthorizations(start: number): Promise<Array<string | undefined>> {
  const foreignHost = await mintBenchToken({ identity: "alice", at: start, expires: 60, host: "sts.evil.example" });
  const expired = await mintBenchToken({ identity: "alice", at: start - 20 * 60_000, expires: 60 });
  return [
    undefined, // authorization_missing
    "Basic YWxpY2U6c2VjcmV0", // authorization_malformed
    "Bearer not-a-token", // token_prefix
    "Bearer k8s-aws-v1.!!!!", // token_encoding
    `Bearer ${foreignHost}`, // sts_host_unknown
    `Bearer ${expired}`, // token_expired: every rule passes but the last
  ];
}
