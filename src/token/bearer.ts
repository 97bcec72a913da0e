import { GateError } from "../errors.ts";

/** aws-iam-authenticator's cap; a real token is about 1.5 KiB, a session token makes it ~2.5 KiB. */
export const MAX_TOKEN_BYTES = 4096;

const SCHEME = "bearer";

/**
 * Rule `bearerToken`: the header is `Bearer <token>`, one space, nothing around it. The scheme
 * is compared regardless of case (RFC 9110 §11.1: `bearer` is the same scheme); the token is not
 * touched. The size cap comes first so that no other work is done on an oversized header.
 */
export function bearerToken(authorization: string | null | undefined): string {
  if (authorization === null || authorization === undefined || authorization === "") {
    throw new GateError("authorization_missing", "Send Authorization: Bearer <token>.");
  }
  if (authorization.length > SCHEME.length + 1 + MAX_TOKEN_BYTES) {
    throw new GateError("token_too_large", `Tokens are at most ${MAX_TOKEN_BYTES} bytes.`);
  }
  if (authorization.slice(0, SCHEME.length).toLowerCase() !== SCHEME) {
    throw new GateError("authorization_malformed", "The scheme must be 'Bearer' followed by one space and the token.");
  }
  const rest = authorization.slice(SCHEME.length);
  // `Bearer` with nothing after it: a caller whose token variable was empty.
  if (/^ *$/.test(rest)) {
    throw new GateError("token_missing", "Authorization says Bearer but carries no token; send Authorization: Bearer <token>.");
  }
  if (!rest.startsWith(" ")) {
    throw new GateError("authorization_malformed", "The scheme must be 'Bearer' followed by one space and the token.");
  }
  const token = rest.slice(1);
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new GateError("authorization_malformed", "The token must be one run of visible ASCII characters.");
  }
  return token;
}
