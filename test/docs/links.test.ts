/**
 * Every relative link and `#anchor` in README.md, SECURITY.md, BENCHMARKS.md, CHANGELOG.md and
 * docs/ resolves, with GitHub's heading anchors.
 */
import { describe, expect, it } from "vitest";
import { brokenLinks } from "./checks.ts";
import { documentationPages, memoryTree, repoTree } from "./repo.ts";

describe("documentation links", () => {
  it("every relative link and anchor in the documentation resolves", () => {
    const pages = documentationPages();
    expect(pages).toContain("docs/configuration.md");
    expect(brokenLinks(pages, repoTree)).toEqual([]);
  });

  it("the README links to every page in docs/", () => {
    const readme = repoTree.read("README.md")!;
    const missing = documentationPages()
      .filter((p) => p.startsWith("docs/"))
      .filter((p) => !readme.includes(`](${p})`));
    expect(missing).toEqual([]);
  });

  it("the README stays a front page: at most 250 lines, and still shows the commands .ci/run runs", () => {
    const readme = repoTree.read("README.md")!;
    expect(readme.split("\n").length).toBeLessThanOrEqual(250);
    for (const command of ["npm ci", "npm run dev", "npm test"]) expect(readme).toContain(command);
  });

  it("reports a link to a file that does not exist", () => {
    const tree = memoryTree({
      "README.md": "# Title\n\nSee [the policy](docs/policy.md) and [setup](docs/setup.md).\n",
      "docs/policy.md": "# Policy\n",
    });
    expect(brokenLinks(["README.md"], tree)).toEqual(["README.md:3: docs/setup.md: no such file docs/setup.md"]);
  });

  it("reports an anchor that no heading has, in the same page and in another", () => {
    const tree = memoryTree({
      "README.md": "# sts-gate\n\n## Try it locally: `npm run dev`\n\n[ok](#try-it-locally-npm-run-dev) [stale](#try-it-locally) [other](docs/errors.md#common-mistakes)\n",
      "docs/errors.md": "# Errors\n\n## Common errors\n",
    });
    expect(brokenLinks(["README.md"], tree)).toEqual([
      "README.md:5: #try-it-locally: README.md has no heading with the anchor #try-it-locally",
      "README.md:5: docs/errors.md#common-mistakes: docs/errors.md has no heading with the anchor #common-mistakes",
    ]);
  });

  it("resolves links relative to the page, and reports one that leaves the repository or starts at /", () => {
    const tree = memoryTree({
      "docs/a.md": "# A\n\n[up](../SECURITY.md#every-known-attack) [out](../../x.md) [root](/README.md) [src](../src/x.ts#L3)\n",
      "SECURITY.md": "# Security\n\n## Every known attack\n",
      "src/x.ts": "",
    });
    expect(brokenLinks(["docs/a.md"], tree)).toEqual([
      "docs/a.md:3: ../../x.md: points outside the repository",
      "docs/a.md:3: /README.md: a link from the root (/) does not resolve the same way on GitHub and in the package; use a relative path",
    ]);
  });

  it("ignores links inside code, and external links", () => {
    const tree = memoryTree({
      "a.md": "# A\n\n```md\n[x](nope.md)\n```\n\n`[y](nope.md)` [z](https://example.com/nope) [m](mailto:x@example.com)\n",
    });
    expect(brokenLinks(["a.md"], tree)).toEqual([]);
  });
});
