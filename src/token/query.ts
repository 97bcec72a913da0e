import { GateError } from "../errors.ts";
import { PARAMETER_ORDER } from "../protocol.ts";

/** The SigV4 presign set plus the two STS parameters (the protocol's set); nothing else may reach STS. */
export const ALLOWED_PARAMETERS = PARAMETER_ORDER;

export type ParameterName = (typeof ALLOWED_PARAMETERS)[number];
export type QueryParameters = Partial<Record<ParameterName, string>>;

const ALLOWED = new Set<string>(ALLOWED_PARAMETERS);
// Problem details name a repeated parameter only by its canonical spelling: nothing the
// caller wrote is echoed back.
const ALLOWED_BY_FOLDED = new Map(ALLOWED_PARAMETERS.map((n) => [n.toLowerCase(), n]));
// Unreserved characters and percent-escapes only: every signer we know of (botocore,
// aws4fetch, smithy, Go SDKs) encodes everything else, and a literal `+`, `;` or `/`
// is exactly where parsers disagree with each other.
const RAW_COMPONENT = /^(?:[A-Za-z0-9\-._~]|%[0-9A-Fa-f]{2})*$/;
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Rule `strictQuery`: `&` separators only, every pair `name=value`, valid percent-escapes
 * that decode to UTF-8, no empty names, no name twice in any letter case, no name outside
 * the allowed set. Any malformed byte rejects the token; nothing is ever skipped.
 */
export function parseStrictQuery(rawQuery: string): QueryParameters {
  const params: QueryParameters = {};
  if (rawQuery === "") return params;
  const seen = new Set<string>();
  for (const pair of rawQuery.split("&")) {
    const eq = pair.indexOf("=");
    if (eq === -1) throw new GateError("query_malformed", "Every query parameter must be name=value.");
    const rawName = pair.slice(0, eq);
    const rawValue = pair.slice(eq + 1);
    if (rawName === "") throw new GateError("query_malformed", "A query parameter has an empty name.");
    if (!RAW_COMPONENT.test(rawName) || !RAW_COMPONENT.test(rawValue)) {
      throw new GateError("query_malformed", "The query has a character that must be percent-encoded, or a bad escape.");
    }
    const name = percentDecode(rawName);
    const folded = name.toLowerCase();
    if (seen.has(folded)) {
      const known = ALLOWED_BY_FOLDED.get(folded);
      throw new GateError(
        "query_duplicate_parameter",
        known ? `The parameter ${known} appears more than once, in some letter case.` : "A parameter appears more than once.",
      );
    }
    seen.add(folded);
    if (!ALLOWED.has(name)) {
      throw new GateError("query_unknown_parameter", `Only these parameters are allowed: ${ALLOWED_PARAMETERS.join(", ")}.`);
    }
    params[name as ParameterName] = percentDecode(rawValue);
  }
  return params;
}

function percentDecode(raw: string): string {
  if (!raw.includes("%")) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; ) {
    if (raw[i] === "%") {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(raw.charCodeAt(i));
      i += 1;
    }
  }
  try {
    return UTF8.decode(new Uint8Array(bytes));
  } catch {
    throw new GateError("query_malformed", "A percent-escape does not decode to UTF-8.");
  }
}

export { encodeRfc3986 } from "../protocol.ts";
