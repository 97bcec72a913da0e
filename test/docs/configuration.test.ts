/**
 * Every var, secret and binding the gate reads (the `GateEnv` interface, src/config.ts) has a
 * row in docs/configuration.md, and every row names something the gate reads.
 */
import { describe, expect, it } from "vitest";
import { configurationProblems, documentedNames, interfaceMembers } from "./checks.ts";
import { readRepoFile } from "./repo.ts";

const SOURCE = `
/** The bindings and vars the gate reads. */
export interface GateEnv {
  IDENTITY_CACHE?: KVNamespace;
  // AUDIENCE_OLD?: unknown;
  AUDIENCE?: unknown;
  /** A comment: NOT_A_MEMBER?: unknown; */
  POLICY?: { allow: string[]; nested?: number };
  HANDLER?: (x: number) => Promise<void>;
  readonly STS?: Fetcher;
}
export interface Other { OTHER?: unknown }
`;

const PAGE = `# Configuration

| name | type | default | meaning |
|---|---|---|---|
| \`IDENTITY_CACHE\` | KV namespace binding | required | identities |
| \`AUDIENCE\` | var | required | the audience |
| \`POLICY\` | var | required | who may pass |
| \`HANDLER\` | var | none | a handler |
| \`STS\` | service binding | unbound | development only |

| claim | meaning |
|---|---|
| \`iss\` | not a setting: another table |
`;

describe("docs/configuration.md and GateEnv", () => {
  it("every member of GateEnv has a row, and every row is a member", () => {
    const source = readRepoFile("src/config.ts");
    const page = readRepoFile("docs/configuration.md");
    expect(interfaceMembers(source, "GateEnv")).toContain("IDENTITY_CACHE");
    expect(documentedNames(page)).toContain("IDENTITY_CACHE");
    expect(configurationProblems(source, page)).toEqual([]);
  });

  it("reads an interface's members, not its comments, nested types or other interfaces", () => {
    expect(interfaceMembers(SOURCE, "GateEnv")).toEqual(["IDENTITY_CACHE", "AUDIENCE", "POLICY", "HANDLER", "STS"]);
    expect(configurationProblems(SOURCE, PAGE)).toEqual([]);
  });

  it("reports a member with no row", () => {
    const source = SOURCE.replace("readonly STS?: Fetcher;", "readonly STS?: Fetcher;\n  NEW_SETTING?: unknown;");
    expect(configurationProblems(source, PAGE)).toEqual(["NEW_SETTING: a var, secret or binding the gate has, with no row in docs/configuration.md"]);
  });

  it("reports a row that names nothing the gate reads", () => {
    const page = PAGE.replace("| `STS` |", "| `STS_ENDPOINT` | var | none | gone |\n| `STS` |");
    expect(configurationProblems(SOURCE, page)).toEqual(["STS_ENDPOINT: a row in docs/configuration.md, but not a var, secret or binding the gate has"]);
  });

  it("fails loudly when the interface is not found", () => {
    expect(() => interfaceMembers("export type GateEnv = {}", "GateEnv")).toThrow(/no interface GateEnv/);
  });
});
