/**
 * Rule `linearWildcard` (ATTACKS #21): the one wildcard matcher for ARN fields and path
 * segments. `*` matches any run of characters (including none); everything else is literal.
 *
 * No regular expression is ever built from policy input: a pattern is split on `*` into literal
 * pieces, the first must be a prefix, the last a suffix, and each middle piece is found by a
 * left-to-right `indexOf` after the previous one. Taking the leftmost place for each piece never
 * loses a match (whatever a later place allows, the leftmost allows too), so nothing is ever
 * retried: a pattern of a hundred `*` costs one pass over the text, like a plain one.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  const pieces = pattern.split("*");
  if (pieces.length === 1) return pattern === text;
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  let at = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i]!;
    if (piece === "") continue;
    const found = text.indexOf(piece, at);
    if (found === -1 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

/**
 * The same greedy leftmost matching over sequences whose wildcard element matches any run of
 * elements (a `**` path segment): one backtrack point, no recursion, no regular expression.
 */
export function sequenceMatch<T>(pattern: readonly T[], text: readonly T[], isStar: (p: T) => boolean, same: (p: T, t: T) => boolean): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && !isStar(pattern[p]!) && same(pattern[p]!, text[t]!)) {
      p++;
      t++;
    } else if (p < pattern.length && isStar(pattern[p]!)) {
      starP = p++;
      starT = t;
    } else if (starP !== -1) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && isStar(pattern[p]!)) p++;
  return p === pattern.length;
}
