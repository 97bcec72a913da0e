import { GateError } from "../errors.ts";

/**
 * Rule `originPathBoundary` (ATTACKS #20): when ORIGIN_URL has a path, that prefix is a boundary.
 *
 * The URL parser has already resolved `.`, `..` and their `%2e` spellings. What is left are the
 * paths it keeps but some origin, or a proxy in front of one, resolves above the prefix. Each
 * segment is read the way the most lenient of them reads it:
 * - escapes decoded again and again (`%252e` for a double-decoding origin), `%uXXXX` included
 *   (IIS), and Unicode folded (NFKC: a fullwidth `．` is a `.`);
 * - `;` parameters dropped (`..;`, `..%3b`, `.;x=1`: Java servlet containers drop them, then
 *   resolve the `..`), and anything after a NUL (Jetty read `..%00` as `..`).
 * A segment that is then `.` or `..`, or that decodes to a `/` or `\`, or whose escapes are not
 * UTF-8 (an overlong `%c0%ae` is a `.` to old decoders) is refused.
 *
 * Without a prefix there is nothing above to reach, and encoded slashes are ordinary in some
 * APIs (GitLab's `group%2Fproject`), so the rule applies only to an ORIGIN_URL with a path.
 */
export function checkOriginPath(prefix: string, pathname: string): void {
  if (prefix === "" || prefix === "/") return;
  if (escapesPrefix(pathname)) {
    throw new GateError("path_outside_prefix", "The request path has a segment that an origin could resolve above the gate's path prefix.");
  }
}

/** How many times a segment is decoded before an escape that is still there counts as hostile. */
const MAX_DECODINGS = 4;

export function escapesPrefix(pathname: string): boolean {
  return pathname.split("/").some(segmentEscapes);
}

function segmentEscapes(raw: string): boolean {
  let segment = raw;
  for (let i = 0; ; i++) {
    const decoded = decodeLeniently(segment);
    if (decoded === undefined) return true;
    if (decoded === segment) break;
    if (i === MAX_DECODINGS) return true;
    segment = decoded;
  }
  const folded = segment.normalize("NFKC");
  if (/[/\\]/.test(folded)) return true;
  const bare = folded.split("\0")[0]!.split(";")[0]!;
  return bare === "." || bare === "..";
}

/** One pass of `%XX` (as UTF-8) and `%uXXXX` decoding; undefined for bytes that are not UTF-8. */
function decodeLeniently(text: string): string | undefined {
  const wide = text.replace(/%u([0-9a-f]{4})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  if (!/%[0-9a-f]{2}/i.test(wide)) return wide;
  const bytes: number[] = [];
  for (let i = 0; i < wide.length; i++) {
    const escape = /^%([0-9a-f]{2})/i.exec(wide.slice(i, i + 3));
    if (escape) {
      bytes.push(Number.parseInt(escape[1]!, 16));
      i += 2;
    } else {
      for (const b of new TextEncoder().encode(wide[i]!)) bytes.push(b);
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}
