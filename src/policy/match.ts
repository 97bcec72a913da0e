import { compileSequence, compileWildcard, STAR } from "../wildcard.ts";
import { MAX_PATH_SEGMENTS } from "./schema.ts";

// ---------------------------------------------------------------------------------------------
// Matching.

/**
 * Rule `arnPatternFieldByField`: both sides are split on `:` and matched field by field with the
 * linear wildcard matcher, so a `*` can never swallow a field boundary, an ARN with a different
 * number of fields never matches, and no pattern can make matching slow (ATTACKS #21).
 */
export function compileArnPattern(pattern: string, options: { ignoreCase?: boolean } = {}): (arn: string) => boolean {
  const ignoreCase = options.ignoreCase === true;
  const fields = (ignoreCase ? pattern.toLowerCase() : pattern).split(":").map(compileWildcard);
  return (arn) => {
    const parts = (ignoreCase ? arn.toLowerCase() : arn).split(":");
    if (parts.length !== fields.length) return false;
    return fields.every((match, i) => match(parts[i]!));
  };
}

/**
 * Rule `pathGlob`: a glob on the decoded request path. `*` matches any run of characters
 * inside one segment (never `/`); a `**` segment matches zero or more whole segments, so
 * `/deploy/**` matches `/deploy`, `/deploy/` and `/deploy/a/b` but not `/deployer`. Everything
 * else is literal and case-sensitive. Matching is segment by segment with no regular
 * expression, in time proportional to glob × path even for hostile paths.
 */
export function compilePathGlob(glob: string): (path: string) => boolean {
  const match = compileSequence<string>(glob.split("/").slice(1).map((g) => (g === "**" ? STAR : compileWildcard(g))));
  return (path) => {
    if (!path.startsWith("/")) return false;
    return match(path.split("/").slice(1));
  };
}

/**
 * The request path as path globs see it: percent-decoded, or null when an origin could take
 * it for a different path than the gate does. The URL parser has already resolved `.` and `..`
 * segments (including `%2e` forms); what is left is what origins disagree on: an encoded `/` or
 * `\` (one origin routes `/a%2Fb` as one segment, another as two), an escape that is still an
 * escape after decoding (a double-decoding origin), control characters and malformed escapes;
 * a Unicode compatibility form (fullwidth `．．` is `..` to an origin that folds with NFKC),
 * and a path of more than MAX_PATH_SEGMENTS segments, so that matching stays cheap. A null path
 * matches no `paths` glob; rules without `paths` do not look at the path.
 *
 * Rule `noPathParameters` (ATTACKS #32): a `;` anywhere in the decoded path makes it null too.
 * Servlet containers (Tomcat, Jetty, Spring) drop `;…` from every segment before routing, so
 * `/files/salaries.xlsx;.pdf` is `/files/salaries.xlsx` to them but matches `/files/*.pdf` as
 * text; `..;` is `..` to them. Other origins (PHP, Node, Go) keep `;` as part of the name.
 * Stripping the parameters would agree with one family and disagree with the other, so the gate
 * takes neither reading: such a path is as ambiguous as an encoded slash.
 */
export function policyPath(pathname: string): string | null {
  if (/%(2f|5c)/i.test(pathname)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (!decoded.startsWith("/") || /[\\%;\x00-\x1f\x7f]/.test(decoded)) return null;
  if (decoded.split("/").length - 1 > MAX_PATH_SEGMENTS) return null;
  // A compatibility form (a fullwidth `．`, a ligature) is another path to an origin that folds it.
  if (decoded.normalize("NFKC") !== decoded) return null;
  for (const segment of decoded.split("/")) {
    if (segment === "." || segment === "..") return null;
  }
  return decoded;
}
