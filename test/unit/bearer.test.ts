import { describe, expect, it } from "vitest";
import { bearerToken, MAX_TOKEN_BYTES } from "../../src/token/bearer";
import { expectProblem, recorded } from "./helpers";

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

  // Exactly one spelling: anything a lenient splitter would "repair" is refused instead.
  it.each([
    ["lowercase scheme", "bearer abc"],
    ["uppercase scheme", "BEARER abc"],
    ["another scheme", "Basic YWxpY2U6cHc="],
    ["scheme only", "Bearer"],
    ["scheme and space only", "Bearer "],
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
