/** The Markdown the documentation checks read: GitHub's heading anchors, links, tables, code blocks. */
import { describe, expect, it } from "vitest";
import { codeBlocks, githubSlug, headingAnchors, links, tableRows } from "./markdown.ts";

describe("githubSlug", () => {
  it.each([
    ["Setup", "setup"],
    ["Try it locally: `npm run dev`", "try-it-locally-npm-run-dev"],
    ["Health: `/.well-known/sts-gate/health`", "health-well-knownsts-gatehealth"],
    ["Origin trust: signed assertions", "origin-trust-signed-assertions"],
    ["Node: `createGateFetch` with the AWS SDK's credential chain", "node-creategatefetch-with-the-aws-sdks-credential-chain"],
    ["Storage: why KV, not a Durable Object", "storage-why-kv-not-a-durable-object"],
    ["The CLI: `sts-gate revoke`, `revocations`, `unrevoke`", "the-cli-sts-gate-revoke-revocations-unrevoke"],
    ["Verifying at the origin: `src/origin/`", "verifying-at-the-origin-srcorigin"],
    ["Browsers (CORS)", "browsers-cors"],
    ["`GET /.well-known/jwks.json`", "get-well-knownjwksjson"],
    ["Revocation (ATTACKS row 24)", "revocation-attacks-row-24"],
    ["`CACHE_MAX_ENTRIES` and *emphasis*", "cache_max_entries-and-emphasis"],
    ["A [link](x.md) in a heading", "a-link-in-a-heading"],
    ["[0.1.0] - 2026-12-03", "010---2026-12-03"],
    ["Café & crème", "café--crème"],
  ])("%s → %s", (heading, slug) => {
    expect(githubSlug(heading)).toBe(slug);
  });
});

describe("headingAnchors", () => {
  it("numbers repeated headings -1, -2, and skips headings in code", () => {
    const md = "# A\n## Example\n### Example\n```sh\n# Example\n```\n## Example\n<a name=\"custom\"></a>\n";
    expect([...headingAnchors(md)]).toEqual(["a", "example", "example-1", "example-2", "custom"]);
  });
});

describe("links", () => {
  it("finds inline links, images and reference definitions outside code", () => {
    const md = [
      "[a](a.md) and ![b](img/b.png \"title\") and [c](c.md#x)",
      "`[not](code.md)`",
      "```",
      "[not](fenced.md)",
      "```",
      "[ref]: ref.md",
      "[d](<with space.md>)",
    ].join("\n");
    expect(links(md)).toEqual([
      { target: "a.md", line: 1 },
      { target: "img/b.png", line: 1 },
      { target: "c.md#x", line: 1 },
      { target: "ref.md", line: 6 },
      { target: "with space.md", line: 7 },
    ]);
  });
});

describe("tableRows", () => {
  it("reads the rows of the tables with the given first header, cells split outside code", () => {
    const md = "| name | type |\n|---|---|\n| `A` | `a \\| b` |\n| `B` | x |\n\n| code | status |\n|---|---|\n| `c` | 401 |\n";
    expect(tableRows(md, "name")).toEqual([
      ["`A`", "`a | b`"],
      ["`B`", "x"],
    ]);
    expect(tableRows(md, "code")).toEqual([["`c`", "401"]]);
  });
});

describe("codeBlocks", () => {
  it("returns each fenced block's info string and content", () => {
    expect(codeBlocks("x\n```console\n$ a --help\nusage\n```\n~~~\n```\n~~~\n")).toEqual([
      { info: "console", content: "$ a --help\nusage\n", line: 2 },
      { info: "", content: "```\n", line: 6 },
    ]);
  });
});
