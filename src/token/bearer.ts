import { GateError } from "../errors.ts";

/** aws-iam-authenticator's cap; a real token is about 1.5 KiB, a session token makes it ~2.5 KiB. */
export const MAX_TOKEN_BYTES = 4096;

const BEARER = "Bearer ";

/**
 * Rule `bearerToken`: the header is exactly `Bearer <token>`, one space, nothing around it.
 * The size cap comes first so that no other work is done on an oversized header.
 */
export function bearerToken(authorization: string | null | undefined): string {
  if (authorization === null || authorization === undefined || authorization === "") {
    throw new GateError("authorization_missing", "Send Authorization: Bearer <token>.");
  }
  if (authorization.length > BEARER.length + MAX_TOKEN_BYTES) {
    throw new GateError("token_too_large", `Tokens are at most ${MAX_TOKEN_BYTES} bytes.`);
  }
  if (!authorization.startsWith(BEARER)) {
    throw new GateError("authorization_malformed", "The scheme must be exactly 'Bearer' followed by one space.");
  }
  const token = authorization.slice(BEARER.length);
  if (token === "" || !/^[\x21-\x7e]+$/.test(token)) {
    throw new GateError("authorization_malformed", "The token must be one run of visible ASCII characters.");
  }
  return token;
}
