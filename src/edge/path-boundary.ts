import { GateProblem } from "../problem.ts";

/**
 * Rule `originPathBoundary` (ATTACKS #20): when ORIGIN_URL has a path, that prefix is a boundary.
 *
 * The URL parser has already resolved `.`, `..` and their `%2e` spellings, so what is left are
 * the paths it keeps but a common origin resolves above the prefix:
 * - a dot segment with `;` parameters (`..;`, `%2e%2e;x=1`): Java servlet containers drop the
 *   parameters, then resolve the `..`;
 * - an encoded `/` or `\` (`..%2f`, `%5c`): a decoding origin or proxy sees new segments;
 * - the same escapes encoded twice (`%252e`, `%252f`, `%255c`): a double-decoding origin.
 *
 * Without a prefix there is nothing above to reach, and encoded slashes are ordinary in some
 * APIs (GitLab's `group%2Fproject`), so the rule applies only to an ORIGIN_URL with a path.
 */
export function checkOriginPath(prefix: string, pathname: string): void {
  if (prefix === "" || prefix === "/") return;
  if (escapesPrefix(pathname)) {
    throw new GateProblem("path_outside_prefix", "The request path has a segment that an origin could resolve above the gate's path prefix.");
  }
}

/** An encoded separator, once or twice encoded. */
const ENCODED_SEPARATOR = /%(?:25)?(?:2f|5c)/i;
/** An encoded dot, once or twice encoded: read as `.`. */
const ENCODED_DOT = /%(?:25)?2e/gi;

export function escapesPrefix(pathname: string): boolean {
  if (ENCODED_SEPARATOR.test(pathname)) return true;
  for (const segment of pathname.split("/")) {
    const bare = segment.replace(ENCODED_DOT, ".").split(";")[0];
    if (bare === "." || bare === "..") return true;
  }
  return false;
}
