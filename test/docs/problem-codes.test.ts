/**
 * Every problem code the gate can answer (the PROBLEMS table, src/errors.ts) is in
 * docs/errors.md with its status, and every code listed there exists.
 */
import { describe, expect, it } from "vitest";
import { PROBLEMS } from "../../src/errors.ts";
import { documentedCodes, problemCodeProblems } from "./checks.ts";
import { readRepoFile } from "./repo.ts";

const TABLE = { token_expired: { status: 401 }, sts_throttled: { status: 503 }, not_found: { status: 404 }, method_not_allowed: { status: 405 } };

const PAGE = `# Errors

| status | what the caller should do |
|---|---|
| 401 | mint a new token |

| code | status | meaning |
|---|---|---|
| \`token_expired\` | 401 | too old |
| \`sts_throttled\` | 503 | STS is throttling |
| \`not_found\`, \`method_not_allowed\` | 404, 405 | an unknown path, a wrong method |

## Common mistakes

| symptom | code | cause |
|---|---|---|
| \`401\` | \`token_expired\` | reused |
`;

describe("docs/errors.md and the problem codes", () => {
  it("every code the gate can answer is listed with its status, and every listed code exists", () => {
    const page = readRepoFile("docs/errors.md");
    expect(Object.keys(PROBLEMS).length).toBeGreaterThan(50);
    expect(documentedCodes(page)).toContain("token_expired");
    expect(problemCodeProblems(PROBLEMS, page)).toEqual([]);
  });

  it("reads the code tables only, with one or several codes per row", () => {
    expect(documentedCodes(PAGE)).toEqual(["token_expired", "sts_throttled", "not_found", "method_not_allowed"]);
    expect(problemCodeProblems(TABLE, PAGE)).toEqual([]);
  });

  it("reports a code the gate can answer that the page does not list", () => {
    const table = { ...TABLE, origin_bad_response: { status: 502 } };
    expect(problemCodeProblems(table, PAGE)).toEqual(["origin_bad_response: a problem code the gate has, with no row in docs/errors.md"]);
  });

  it("reports a listed code the gate does not have", () => {
    const page = PAGE.replace("| `sts_throttled` |", "| `sts_slow` | 503 | renamed |\n| `sts_throttled` |");
    expect(problemCodeProblems(TABLE, page)).toEqual(["sts_slow: a row in docs/errors.md, but not a problem code the gate has"]);
  });

  it("reports a listed code with the wrong status", () => {
    const page = PAGE.replace("| `sts_throttled` | 503 |", "| `sts_throttled` | 429 |");
    expect(problemCodeProblems(TABLE, page)).toEqual(["sts_throttled: docs/errors.md says 429, the gate answers 503"]);
  });
});
