import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileArnPattern } from "../src/policy";
import { compileWildcard, matcherWork, wildcardMatch } from "../src/wildcard";

/** The simplest correct matcher: dynamic programming over (pattern, text) prefixes. */
function reference(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  let row = Array<boolean>(t.length + 1).fill(false);
  row[0] = true;
  for (const c of p) {
    const next = Array<boolean>(t.length + 1).fill(false);
    next[0] = c === "*" && row[0]!;
    for (let j = 1; j <= t.length; j++) next[j] = c === "*" ? row[j]! || next[j - 1]! : row[j - 1]! && c === t[j - 1];
    row = next;
  }
  return row[t.length]!;
}

const RUNS = { numRuns: 3000, seed: 9_2026 };
const small = (alphabet: string, maxLength: number) => fc.string({ unit: fc.constantFrom(...alphabet.split("")), maxLength });

describe("linearWildcard (ATTACKS #21)", () => {
  it("agrees with the reference matcher", () => {
    fc.assert(fc.property(small("ab*", 12), small("ab", 14), (p, t) => wildcardMatch(p, t) === reference(p, t)), RUNS);
  });

  it("agrees with the reference on texts built to match", () => {
    const pair = small("ab*", 10).chain((p) =>
      fc.tuple(fc.constant(p), fc.array(small("ab", 3), { minLength: p.split("*").length, maxLength: p.split("*").length })),
    );
    fc.assert(
      fc.property(pair, ([p, fills]) => {
        const t = p.split("*").reduce((out, piece, i) => out + (i === 0 ? "" : fills[i]!) + piece, "");
        return wildcardMatch(p, t) === reference(p, t) && wildcardMatch(p, t);
      }),
      RUNS,
    );
  });

  it.each([
    ["", "", true],
    ["", "a", false],
    ["*", "", true],
    ["a*", "a", true],
    ["*a", "ba", true],
    ["a*a", "a", false],
    ["ab*ba", "aba", false],
    ["ab*ba", "abba", true],
    ["*ab*", "xxabyy", true],
    ["a**b", "ab", true],
  ])("%j on %j is %s", (p, t, expected) => {
    expect(wildcardMatch(p, t)).toBe(expected);
  });

  /** A match and the steps it took, as the matcher counts them (matcherWork). */
  function counted(match: () => boolean): { result: boolean; steps: number } {
    matcherWork.steps = 0;
    const result = match();
    return { result, steps: matcherWork.steps };
  }

  // Work, not time: a clock in workerd moves with the machine's load (Date.now() and
  // performance.now() both advance during synchronous work), so a time bound is either loose or
  // flaky. The matcher counts its comparisons; a backtracking matcher makes millions on these
  // small texts, the linear one at most one pass per piece.
  it.each([
    [`${"*a".repeat(4)}*b`, "a".repeat(40), false],
    [`x${"*a".repeat(4)}*c*y`, `x${"a".repeat(40)}y`, false],
    [`${"a*".repeat(20)}`, "a".repeat(40), true],
    [`*${"a*".repeat(5)}b`, `${"a".repeat(40)}b`, true],
  ])("matches %s against %s in at most (pattern + 1) × (text + 1) steps", (pattern, text, expected) => {
    const { result, steps } = counted(() => wildcardMatch(pattern, text));
    expect(result).toBe(expected);
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThanOrEqual((pattern.length + 1) * (text.length + 1));
  });

  it("takes one pass over a long text for a pattern of a hundred '*'", () => {
    const text = `x${"a".repeat(100_000)}y`;
    const { result, steps } = counted(() => compileWildcard(`x${"*a".repeat(100)}*c*y`)(text));
    expect(result).toBe(false);
    // Each `a` is found at once; the search for `c` passes over the rest of the text once.
    expect(steps).toBeGreaterThanOrEqual(100_000);
    expect(steps).toBeLessThanOrEqual(text.length + 300);
  });

  it("matches a long ARN against a hostile pattern in one pass per field", () => {
    const arn = `arn:aws:iam::111122223333:user/${"a".repeat(450)}/${"a".repeat(60)}`;
    const pattern = `arn:aws:iam::111122223333:user/${"*a".repeat(100)}x*a`;
    const { result, steps } = counted(() => compileArnPattern(pattern)(arn));
    expect(result).toBe(false);
    // One pass over the field per search, each position compared against at most the piece's
    // two characters ("ax"): linear in the ARN, where backtracking would be exponential.
    expect(steps).toBeLessThanOrEqual(2 * (arn.length + pattern.length));
  });
});
