import { describe, expect, it } from "vitest";
import { decodeBase64url, decodeUtf8, stripPrefix, TOKEN_PREFIX } from "../../src/token/decode";
import { base64url } from "../support/tokens";
import { expectProblem, RECORDED } from "../support/helpers";

const bytes = (...b: number[]) => new Uint8Array(b);

describe("stripPrefix", () => {
  it("returns what follows k8s-aws-v1.", () => {
    expect(stripPrefix(`${TOKEN_PREFIX}abc`)).toBe("abc");
  });

  it.each(["k8s-aws-v2.abc", "K8S-AWS-V1.abc", "k8s-aws-v1abc", "k8s-aws-v1", "abc", ` ${TOKEN_PREFIX}abc`, ""])(
    "refuses %j as token_prefix",
    (token) => {
      expectProblem(() => stripPrefix(token), "token_prefix");
    },
  );
});

describe("decodeBase64url", () => {
  it.each(RECORDED.map((t) => [t.name, t] as const))("decodes the recorded aws-cli token %s to its URL", (_n, t) => {
    expect(decodeUtf8(decodeBase64url(stripPrefix(t.token)))).toBe(t.url);
  });

  it.each([1, 2, 3, 4, 5, 6, 7])("round-trips %i bytes covering every tail length", (n) => {
    const input = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 251) & 0xff);
    expect(decodeBase64url(base64url(input))).toEqual(input);
  });

  it("decodes both URL-safe characters", () => {
    expect(decodeBase64url("-_-_")).toEqual(bytes(0xfb, 0xff, 0xbf));
  });

  it.each([
    ["empty payload", ""],
    ["impossible length 1", "A"],
    ["impossible length 5", "AAAAA"],
    // The standard alphabet, padding and whitespace would all be accepted by atob().
    ["standard alphabet +", "ab+c"],
    ["standard alphabet /", "ab/c"],
    ["padding", "YQ=="],
    ["one pad", "YWE="],
    ["space", "ab c"],
    ["newline", "abcd\nabcd"],
    ["dot", "ab.c"],
    ["non-ASCII", "abcé"],
    // Two spellings of one URL would miss each other in the token cache.
    ["non-canonical tail of 2 chars", "AB"],
    ["non-canonical tail of 3 chars", "AAB"],
    ["non-canonical 'YR' for 'YQ'", "YR"],
  ])("refuses %s as token_encoding", (_why, text) => {
    expectProblem(() => decodeBase64url(text), "token_encoding");
  });

  it("accepts the canonical spellings next to the refused ones", () => {
    expect(decodeBase64url("AA")).toEqual(bytes(0));
    expect(decodeBase64url("AAA")).toEqual(bytes(0, 0));
    expect(decodeBase64url("YQ")).toEqual(bytes(0x61));
  });
});

describe("decodeUtf8", () => {
  it("decodes UTF-8 text", () => {
    expect(decodeUtf8(new TextEncoder().encode("https://sts.amazonaws.com/é"))).toBe("https://sts.amazonaws.com/é");
  });

  // A replacement character instead of a refusal would let two byte strings decode to one URL.
  it.each([
    ["invalid byte", bytes(0x68, 0xff)],
    ["overlong '/'", bytes(0xc0, 0xaf)],
    ["UTF-16 surrogate", bytes(0xed, 0xa0, 0x80)],
    ["truncated sequence", bytes(0xe2, 0x82)],
    ["lone continuation byte", bytes(0x80)],
  ])("refuses %s as token_not_utf8", (_why, input) => {
    expectProblem(() => decodeUtf8(input), "token_not_utf8");
  });

  it("keeps a leading BOM, so the URL grammar refuses it later", () => {
    expect(decodeUtf8(bytes(0xef, 0xbb, 0xbf, 0x68))).toBe("\uFEFFh");
  });
});
