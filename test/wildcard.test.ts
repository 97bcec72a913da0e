import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileArnPattern } from "../src/policy";
import { wildcardMatch } from "../src/wildcard";

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

  // A backtracking matcher would not finish these within the test timeout. (workerd's clock
  // stands still during synchronous work, so the bound is the timeout, not a measured time.)
  it("takes one pass for pathological patterns", () => {
    const text = "a".repeat(100_000);
    expect(wildcardMatch(`${"*a".repeat(100)}*b`, text)).toBe(false);
    expect(wildcardMatch(`${"a*".repeat(1000)}`, text)).toBe(true);
    const arn = `arn:aws:iam::111122223333:user/${"a".repeat(450)}/${"a".repeat(60)}`;
    for (let i = 0; i < 1000; i++) expect(compileArnPattern(`arn:aws:iam::111122223333:user/${"*a".repeat(100)}*b`)(arn)).toBe(false);
  });
});
