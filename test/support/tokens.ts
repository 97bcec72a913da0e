import { AwsV4Signer } from "aws4fetch";
import { IDENTITIES, type EmulatorIdentity } from "../emulator/sts";

export const TEST_AUDIENCE = "sts-gate-test";

export function identity(name: string): EmulatorIdentity {
  const found = IDENTITIES.find((i) => i.name === name);
  if (!found) throw new Error(`no emulator identity ${name}`);
  return found;
}

export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

export interface MintOptions {
  audience?: string;
  region?: string;
  /** Defaults to the regional endpoint of `region`. */
  host?: string;
  /** Signing time, epoch ms. Defaults to now. */
  at?: number;
  /** X-Amz-Expires, signed into the token; absent when undefined (aws4fetch sets none for STS). */
  expires?: number;
}

/** Credentials to presign with: an emulator identity's, or any others (unknown keys, another secret). */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface PresignOptions extends MintOptions {
  /** The whole URL to sign, in place of the GetCallerIdentity URL on `host`. */
  url?: string;
  /** The SigV4 service name; "sts" unless told. */
  service?: string;
}

/** A presigned GetCallerIdentity URL made by aws4fetch with `credentials`, as a client would. */
export async function presignWith(credentials: SigningCredentials, options: PresignOptions = {}): Promise<string> {
  const region = options.region ?? "us-east-1";
  const host = options.host ?? `sts.${region}.amazonaws.com`;
  const signer = new AwsV4Signer({
    method: "GET",
    url: options.url ?? `https://${host}/?Action=GetCallerIdentity&Version=2011-06-15${options.expires === undefined ? "" : `&X-Amz-Expires=${options.expires}`}`,
    headers: { "x-k8s-aws-id": options.audience ?? TEST_AUDIENCE },
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    service: options.service ?? "sts",
    region,
    signQuery: true,
    datetime: amzDate(options.at ?? Date.now()),
  });
  const signed = await signer.sign();
  return signed.url.toString();
}

/** A presigned GetCallerIdentity URL made by aws4fetch for an emulator identity, as a client would. */
export async function presignUrl(name: string, options: MintOptions = {}): Promise<string> {
  return presignWith(identity(name), options);
}

/** A token no other test has: see uniqueExpires. */
export async function mintToken(name: string, options: MintOptions = {}): Promise<string> {
  return encodeToken(
    await presignUrl(name, { ...options, at: options.at ?? uniqueSigningTime(), expires: options.expires ?? (await uniqueExpires()) }),
  );
}

/**
 * X-Amz-Date has one-second resolution, so two tokens for one identity minted in the same
 * second by two test files (separate isolates, one KV, one emulator) would be the same token,
 * and one file's cache entry or STS call count would leak into the other's. X-Amz-Expires is
 * signed, checked by the gate only for its range and ignored by STS, so a value from the
 * emulator's shared counter makes every minted token distinct.
 */
export async function uniqueExpires(): Promise<number> {
  const { env } = await import("cloudflare:workers");
  const res = await env.STS.fetch("https://emulator.control/sequence", { method: "POST" });
  return ((await res.json()) as { next: number }).next % 901;
}

// Signing times step into the past too, so tokens also differ within one file without a call.
let step = Math.floor(Math.random() * 240);
export function uniqueSigningTime(): number {
  step = (step + 1) % 480;
  return Date.now() - step * 1000;
}

/** `k8s-aws-v1.` + unpadded base64url, as aws-iam-authenticator and `aws eks get-token` write it. */
export function encodeToken(url: string): string {
  return `k8s-aws-v1.${base64url(new TextEncoder().encode(url))}`;
}

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeToken(token: string): string {
  const b64 = token.slice("k8s-aws-v1.".length).replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

export function bearer(token: string): HeadersInit {
  return { authorization: `Bearer ${token}` };
}
