import { describe, expect, it } from "vitest";
import { parsePresignedUrl } from "../../src/token/presigned-url";
import { expectProblem, RECORDED } from "../support/helpers";

const Q = "?Action=GetCallerIdentity&Version=2011-06-15";

describe("parsePresignedUrl", () => {
  it.each(RECORDED.map((t) => [t.name, t] as const))("parses the recorded aws-cli URL %s", (_n, t) => {
    const parsed = parsePresignedUrl(t.url);
    expect(parsed.endpoint.host).toBe(t.host);
    expect(parsed.endpoint.region).toBe(t.region);
    expect(parsed.rawQuery).toBe(t.url.slice(t.url.indexOf("?") + 1));
  });

  it.each([
    ["https://sts.amazonaws.com/", ""],
    ["https://sts.amazonaws.com/?", ""],
    // A second '?' stays in the query, where the strict query parser refuses it.
    ["https://sts.amazonaws.com/?a=b?c", "a=b?c"],
  ])("keeps everything after the first ? of %s as the raw query", (url, rawQuery) => {
    expect(parsePresignedUrl(url).rawQuery).toBe(rawQuery);
  });

  // The WHATWG parser strips tabs and newlines and lowercases; the raw text must already be clean.
  it.each([
    ["empty", ""],
    ["space", `https://sts.amazonaws.com/${Q} `],
    ["tab in host", `https://sts.amazon\taws.com/${Q}`],
    ["newline in host", `https://sts.amazonaws.com\n.evil.example/${Q}`],
    ["non-ASCII host", `https://sts.amazonaws.cöm/${Q}`],
    ["leading BOM", `\uFEFFhttps://sts.amazonaws.com/${Q}`],
    ["DEL", `https://sts.amazonaws.com/\x7f${Q}`],
  ])("refuses a URL with %s as token_url_malformed", (_why, url) => {
    expectProblem(() => parsePresignedUrl(url), "token_url_malformed");
  });

  // ATTACKS #1: plaintext would let anyone on the path read or change the upstream call.
  it.each([
    `http://sts.amazonaws.com/${Q}`,
    `HTTPS://sts.amazonaws.com/${Q}`,
    `https:/sts.amazonaws.com/${Q}`,
    `https:sts.amazonaws.com/${Q}`,
    `//sts.amazonaws.com/${Q}`,
    `sts.amazonaws.com/${Q}`,
    `wss://sts.amazonaws.com/${Q}`,
  ])("refuses %s as token_url_scheme", (url) => {
    expectProblem(() => parsePresignedUrl(url), "token_url_scheme");
  });

  it.each([`https://sts.amazonaws.com/${Q}#frag`, "https://sts.amazonaws.com/#", `https://sts.amazonaws.com#/${Q}`])(
    "refuses %s as token_url_fragment",
    (url) => {
      expectProblem(() => parsePresignedUrl(url), "token_url_fragment");
    },
  );

  // ATTACKS #1: `sts.amazonaws.com@evil.example` is evil.example to every URL parser.
  it.each([
    `https://sts.amazonaws.com@evil.example/${Q}`,
    `https://evil.example@sts.amazonaws.com/${Q}`,
    `https://user:pw@sts.amazonaws.com/${Q}`,
    `https://sts.amazonaws.com\\@evil.example/${Q}`,
    `https://@sts.amazonaws.com/${Q}`,
  ])("refuses %s as token_url_userinfo", (url) => {
    expectProblem(() => parsePresignedUrl(url), "token_url_userinfo");
  });

  it.each([
    `https://sts.amazonaws.com:443/${Q}`,
    `https://sts.amazonaws.com:8443/${Q}`,
    `https://sts.amazonaws.com:/${Q}`,
    `https://sts.amazonaws.com:443${Q}`,
    `https://[::1]/${Q}`,
  ])("refuses %s as token_url_port", (url) => {
    expectProblem(() => parsePresignedUrl(url), "token_url_port");
  });

  // ATTACKS #1: the host must be a real STS endpoint, spelled exactly as the table spells it.
  it.each([
    `https://evil.example/${Q}`,
    `https://sts.amazonaws.com.evil.example/${Q}`,
    `https://sts.made-up-1.amazonaws.com/${Q}`,
    `https://STS.amazonaws.com/${Q}`,
    `https://sts.amazonaws.com./${Q}`,
    `https://sts.us-east-1.amazonaws.com.cn/${Q}`,
    // WHATWG turns `\` into `/`, so another parser would see host sts.amazonaws.com here.
    `https://sts.amazonaws.com\\.evil.example/${Q}`,
    `https://evil.example\\sts.amazonaws.com/${Q}`,
    `https://sts.amazonaws.com%2eevil.example/${Q}`,
    `https://127.0.0.1/${Q}`,
    `https:///${Q}`,
    `https://${Q}`,
  ])("refuses %s as sts_host_unknown", (url) => {
    expectProblem(() => parsePresignedUrl(url), "sts_host_unknown");
  });

  it.each([
    "https://sts.amazonaws.com",
    `https://sts.amazonaws.com${Q}`,
    `https://sts.amazonaws.com//${Q}`,
    `https://sts.amazonaws.com/x${Q}`,
    `https://sts.amazonaws.com/./${Q}`,
    `https://sts.amazonaws.com/..${Q}`,
    `https://sts.amazonaws.com/%2F${Q}`,
    `https://sts.amazonaws.com/\\${Q}`,
    `https://sts.amazonaws.com/;${Q}`,
  ])("refuses %s as token_url_path", (url) => {
    expectProblem(() => parsePresignedUrl(url), "token_url_path");
  });
});
