/**
 * Rule `linearWildcard` (ATTACKS #21): the one wildcard matcher for ARN fields and path
 * segments, and the same algorithm one level up for `**` path segments.
 *
 * No regular expression is ever built from policy input. A pattern is split at its wildcards
 * into literal pieces: the first must be a prefix, the last a suffix, and each middle piece is
 * found left to right after the previous one. Taking the leftmost place for each piece never
 * loses a match (whatever a later place allows, the leftmost allows too), so nothing is ever
 * retried: a pattern of a hundred `*` costs one pass over the text, like a plain one.
 */

/**
 * The matchers' work, counted so that tests can bound work rather than time (a clock says little
 * about an algorithm, and workerd's moves with the machine's load). Each match adds an upper
 * bound on the character or element comparisons it made: the characters of a literal compared
 * whole, and for each search, the start positions it passed over times the piece's length. A
 * handful of additions per match; nothing reads it but the tests.
 */
export const matcherWork = { steps: 0 };

/** `*` matches any run of characters (including none); everything else is literal. */
export function compileWildcard(pattern: string): (text: string) => boolean {
  const pieces = pattern.split("*");
  if (pieces.length === 1) {
    return (text) => {
      matcherWork.steps += pattern.length;
      return text === pattern;
    };
  }
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  const middle = pieces.slice(1, -1).filter((p) => p !== "");
  const fixed = first.length + last.length;
  return (text) => {
    matcherWork.steps += fixed;
    if (text.length < fixed || !text.startsWith(first) || !text.endsWith(last)) return false;
    let at = first.length;
    const end = text.length - last.length;
    for (const piece of middle) {
      const found = text.indexOf(piece, at);
      matcherWork.steps += ((found === -1 ? text.length : found) - at + 1) * piece.length;
      if (found === -1 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}

export function wildcardMatch(pattern: string, text: string): boolean {
  return compileWildcard(pattern)(text);
}

/**
 * The same matching over sequences: `pattern` is a list of element predicates in which `STAR`
 * matches any run of elements (a `**` path segment). Pieces between stars are found leftmost,
 * so the cost is at most text length × piece length per piece, with no retrying.
 */
export const STAR = Symbol("**");

export function compileSequence<T>(pattern: ReadonlyArray<((element: T) => boolean) | typeof STAR>): (text: readonly T[]) => boolean {
  const pieces: Array<Array<(element: T) => boolean>> = [[]];
  for (const p of pattern) {
    if (p === STAR) pieces.push([]);
    else pieces[pieces.length - 1]!.push(p);
  }
  const matchesAt = (piece: Array<(element: T) => boolean>, text: readonly T[], at: number) => {
    matcherWork.steps += piece.length;
    return piece.every((m, i) => m(text[at + i]!));
  };
  if (pieces.length === 1) {
    const only = pieces[0]!;
    return (text) => text.length === only.length && matchesAt(only, text, 0);
  }
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  const middle = pieces.slice(1, -1).filter((p) => p.length > 0);
  return (text) => {
    const end = text.length - last.length;
    if (end < first.length || !matchesAt(first, text, 0) || !matchesAt(last, text, end)) return false;
    let at = first.length;
    for (const piece of middle) {
      let found = -1;
      for (let j = at; j + piece.length <= end; j++) {
        if (matchesAt(piece, text, j)) {
          found = j;
          break;
        }
      }
      if (found === -1) return false;
      at = found + piece.length;
    }
    return true;
  };
}
