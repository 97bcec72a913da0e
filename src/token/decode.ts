import { GateError } from "../errors.ts";

import { TOKEN_PREFIX } from "../protocol.ts";

export { TOKEN_PREFIX };

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const SEXTET = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SEXTET[ALPHABET.charCodeAt(i)] = i;

/** Rule `tokenPrefix`. */
export function stripPrefix(token: string): string {
  if (!token.startsWith(TOKEN_PREFIX)) {
    throw new GateError("token_prefix", `Tokens start with ${TOKEN_PREFIX}`);
  }
  return token.slice(TOKEN_PREFIX.length);
}

/**
 * Rule `tokenBase64url`: RFC 4648 §5 without padding, and canonical (the unused low bits
 * of the last character are zero). atob() would accept the standard alphabet, padding,
 * whitespace and non-canonical tails, so two different token strings could name one URL
 * and miss each other in the cache.
 */
export function decodeBase64url(text: string): Uint8Array {
  const n = text.length;
  if (n === 0 || n % 4 === 1) throw new GateError("token_encoding", "The base64url payload has an impossible length.");
  const out = new Uint8Array(Math.floor((n * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? SEXTET[c]! : -1;
    if (v < 0) throw new GateError("token_encoding", "The payload has a character outside the base64url alphabet.");
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) throw new GateError("token_encoding", "The payload's last character is not canonical.");
  return out;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Rule `tokenUtf8`: fatal decoding, and the BOM kept so it fails the URL grammar later. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new GateError("token_not_utf8", "The payload is not valid UTF-8.");
  }
}
