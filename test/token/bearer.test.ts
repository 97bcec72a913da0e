import { describe, expect, it } from "vitest";
import { bearerToken, MAX_TOKEN_BYTES } from "../../src/token/bearer";
import { expectProblem, recorded } from "../support/helpers";

describe("bearerToken", () => {
  it("returns the token of a well-formed header, untouched", () => {
    const token = recorded("alice-us-east-1").token;
    expect(bearerToken(`Bearer ${token}`)).toBe(token);
  });

  it.each([null, undefined, ""])("refuses a missing header (%j) as authorization_missing", (header) => {
    expectProblem(() => bearerToken(header), "authorization_missing");
  });

  it("accepts a token of exactly the size cap", () => {
    const token = "a".repeat(MAX_TOKEN_BYTES);
    expect(bearerToken(`Bearer ${token}`)).toBe(token);
  });

  // ATTACKS #14: a huge header is refused before any decoding work.
  it("refuses a token one byte over the cap", () => {
    expectProblem(() => bearerToken(`Bearer ${"a".repeat(MAX_TOKEN_BYTES + 1)}`), "token_too_large");
  });

  it("applies the size cap before looking at the scheme", () => {
    expectProblem(() => bearerToken(`Basic ${"a".repeat(MAX_TOKEN_BYTES + 10)}`), "token_too_large");
  });

  // RFC 9110 §11.1: the scheme is case-insensitive. The token itself is returned as sent.
  it.each(["bearer", "BEARER", "bEaReR"])("accepts the scheme spelled %s", (scheme) => {
    const token = recorded("alice-us-east-1").token;
    expect(bearerToken(`${scheme} ${token}`)).toBe(token);
  });

  // A caller whose token variable was empty: say so, rather than "malformed".
  it.each([
    ["scheme only", "Bearer"],
    ["scheme and space only", "Bearer "],
    ["lowercase scheme only", "bearer"],
    ["scheme and spaces only", "Bearer   "],
  ])("refuses %s as token_missing", (_why, header) => {
    expectProblem(() => bearerToken(header), "token_missing");
  });

  // Otherwise one spelling: anything a lenient splitter would "repair" is refused instead.
  it.each([
    ["another scheme", "Basic YWxpY2U6cHc="],
    ["another six-letter scheme", "Digest abc"],
    ["no space after the scheme", "Bearerabc"],
    ["two spaces", "Bearer  abc"],
    ["tab separator", "Bearer\tabc"],
    ["leading space", " Bearer abc"],
    ["trailing space", "Bearer abc "],
    ["trailing newline", "Bearer abc\n"],
    ["two tokens", "Bearer abc def"],
    ["non-ASCII token", "Bearer k8s-aws-v1.ábc"],
    ["control character in token", "Bearer abc\u0000def"],
  ])("refuses %s as authorization_malformed", (_why, header) => {
    expectProblem(() => bearerToken(header), "authorization_malformed");
  });
});
