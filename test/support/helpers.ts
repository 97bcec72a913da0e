import { expect } from "vitest";
import fixtures from "../fixtures/aws-cli-tokens.json";
import { GateError, type ProblemCode } from "../../src/errors";

/** Runs `fn` and asserts it refused with exactly `code`; a pass or any other error fails the test. */
export function expectProblem(fn: () => unknown, code: ProblemCode): GateError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected GateError ${code}`).toBeInstanceOf(GateError);
  expect((thrown as GateError).code).toBe(code);
  return thrown as GateError;
}

export type RecordedToken = (typeof fixtures.tokens)[number];

/** Tokens made by the real `aws eks get-token`; their signing times are fixed. */
export const RECORDED: readonly RecordedToken[] = fixtures.tokens;

export function recorded(name: string): RecordedToken {
  const found = RECORDED.find((t) => t.name === name);
  if (!found) throw new Error(`no recorded token ${name}`);
  return found;
}

/**
 * Sets (or, with `undefined`, removes) one query parameter by editing the URL text, so the
 * value reaches the gate exactly as written: `raw` is already percent-encoded. Nothing goes
 * through `new URL()`, which would normalise the very bytes under test.
 */
export function withParam(url: string, name: string, raw: string | undefined): string {
  const q = url.indexOf("?");
  const pairs = url.slice(q + 1).split("&");
  const at = pairs.findIndex((p) => p.startsWith(`${name}=`));
  if (raw === undefined) {
    if (at !== -1) pairs.splice(at, 1);
  } else if (at === -1) {
    pairs.push(`${name}=${raw}`);
  } else {
    pairs[at] = `${name}=${raw}`;
  }
  return `${url.slice(0, q)}?${pairs.join("&")}`;
}

/** The raw (still percent-encoded) value of one query parameter. */
export function rawParam(url: string, name: string): string {
  const pair = url
    .slice(url.indexOf("?") + 1)
    .split("&")
    .find((p) => p.startsWith(`${name}=`));
  if (pair === undefined) throw new Error(`no ${name} in ${url}`);
  return pair.slice(name.length + 1);
}
