import { GateError } from "../errors.ts";
import { lookupStsEndpoint, type StsEndpoint } from "../sts-endpoints.ts";

export interface PresignedUrl {
  endpoint: StsEndpoint;
  /** Everything after the `?`, still percent-encoded. */
  rawQuery: string;
}

const SCHEME = "https://";

/**
 * Rules `presignedUrlShape` and `stsHost`, on the raw text rather than through `new URL()`:
 * the WHATWG parser silently lowercases hosts, drops default ports, strips tabs and
 * newlines and turns `\` into `/`, and each of those rewrites is a way for the text we
 * check to differ from the text somebody else would act on.
 */
export function parsePresignedUrl(text: string): PresignedUrl {
  if (!/^[\x21-\x7e]+$/.test(text)) {
    throw new GateError("token_url_malformed", "The URL has spaces, control or non-ASCII characters.");
  }
  if (!text.startsWith(SCHEME)) {
    throw new GateError("token_url_scheme", "The URL must start with https://");
  }
  if (text.includes("#")) {
    throw new GateError("token_url_fragment", "The URL must not carry a fragment.");
  }
  const rest = text.slice(SCHEME.length);
  const authorityEnd = firstIndexOf(rest, "/", "?");
  const authority = rest.slice(0, authorityEnd);
  if (authority.includes("@")) {
    throw new GateError("token_url_userinfo", "The URL must not carry userinfo.");
  }
  if (authority.includes(":")) {
    throw new GateError("token_url_port", "The URL must not carry a port.");
  }
  const endpoint = lookupStsEndpoint(authority);
  if (endpoint === undefined) {
    throw new GateError("sts_host_unknown", "The URL's host is not in the table of STS endpoints.");
  }
  const pathAndQuery = rest.slice(authorityEnd);
  const queryStart = pathAndQuery.indexOf("?");
  const path = queryStart === -1 ? pathAndQuery : pathAndQuery.slice(0, queryStart);
  if (path !== "/") {
    throw new GateError("token_url_path", "The URL's path must be exactly /.");
  }
  return { endpoint, rawQuery: queryStart === -1 ? "" : pathAndQuery.slice(queryStart + 1) };
}

function firstIndexOf(s: string, ...needles: string[]): number {
  let first = s.length;
  for (const needle of needles) {
    const i = s.indexOf(needle);
    if (i !== -1 && i < first) first = i;
  }
  return first;
}
