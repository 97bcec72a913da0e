/**
 * Every command's `--help` text is in docs/calling.md, exactly: a ```console block that begins
 * with the command line, then the text the source prints. src/cli/sts-gate.ts and
 * src/cli/keygen.ts run their command on import, so their texts are read from the source's
 * template literals; the others are imported, and also read both ways to check the reader.
 */
import { describe, expect, it } from "vitest";
import { POLICY_CLI_USAGE } from "../../src/cli/policy-command.ts";
import { REVOCATIONS_HELP, REVOKE_HELP, UNREVOKE_HELP } from "../../src/cli/revoke.ts";
import { helpProblems, templateConstant, transcripts } from "./checks.ts";
import { readRepoFile } from "./repo.ts";

/** Each command line, with the file and constant whose text it prints. */
const COMMANDS: ReadonlyArray<[command: string, file: string, constant: string]> = [
  ["sts-gate --help", "src/cli/sts-gate.ts", "MAIN_HELP"],
  ["sts-gate token --help", "src/cli/sts-gate.ts", "TOKEN_HELP"],
  ["sts-gate doctor --help", "src/cli/sts-gate.ts", "DOCTOR_HELP"],
  ["sts-gate probe --help", "src/cli/sts-gate.ts", "PROBE_HELP"],
  ["sts-gate proxy --help", "src/cli/sts-gate.ts", "PROXY_HELP"],
  ["sts-gate revoke --help", "src/cli/revoke.ts", "REVOKE_HELP"],
  ["sts-gate revocations --help", "src/cli/revoke.ts", "REVOCATIONS_HELP"],
  ["sts-gate unrevoke --help", "src/cli/revoke.ts", "UNREVOKE_HELP"],
  ["sts-gate whoami --help", "src/cli/whoami.ts", "WHOAMI_HELP"],
  ["npm run --silent policy -- --help", "src/cli/policy-command.ts", "POLICY_CLI_USAGE"],
  ["npm run --silent keygen -- --help", "src/cli/keygen.ts", "USAGE"],
];

function helpTexts(): Map<string, string> {
  return new Map(COMMANDS.map(([command, file, constant]) => [command, templateConstant(readRepoFile(file), constant)]));
}

describe("docs/calling.md and the commands' --help", () => {
  it("shows every command's --help text exactly as the source has it", () => {
    expect(helpProblems(helpTexts(), readRepoFile("docs/calling.md"))).toEqual([]);
  });

  it("reads the help texts from the source as the modules export them", () => {
    const texts = helpTexts();
    expect(texts.get("sts-gate revoke --help")).toBe(REVOKE_HELP);
    expect(texts.get("sts-gate revocations --help")).toBe(REVOCATIONS_HELP);
    expect(texts.get("sts-gate unrevoke --help")).toBe(UNREVOKE_HELP);
    expect(texts.get("npm run --silent policy -- --help")).toBe(POLICY_CLI_USAGE);
    expect(texts.get("sts-gate token --help")).toMatch(/^Usage: sts-gate token --audience <audience> \[options\]\n[\s\S]*the ExecCredential JSON of `aws eks get-token`/);
  });

  it("reads template literals with escapes and interpolations", () => {
    const source = "const A = `x`;\nconst HELP = `Usage: \\`a\\` \\\\ \\${b}\n${A}y\n`;\n";
    expect(templateConstant(source, "HELP")).toBe("Usage: `a` \\ ${b}\nxy\n");
    expect(() => templateConstant(source, "NOPE")).toThrow(/no template constant NOPE/);
  });

  it("reports a help text that changed in the source, or is not shown", () => {
    const page = "# Calling\n\n```console\n$ tool --help\nUsage: tool [--x]\n```\n";
    expect(transcripts(page).get("tool --help")).toEqual(["Usage: tool [--x]\n"]);
    expect(helpProblems(new Map([["tool --help", "Usage: tool [--x]\n"]]), page)).toEqual([]);
    expect(helpProblems(new Map([["tool --help", "Usage: tool [--x] [--y]\n"]]), page)).toEqual([
      'tool --help: docs/calling.md shows a help text that differs from the source\'s:\n  line 1: the source has "Usage: tool [--x] [--y]", the page "Usage: tool [--x]"',
    ]);
    expect(helpProblems(new Map([["tool --help", "Usage: tool [--x]\n"], ["tool new --help", "Usage: tool new\n"]]), page)).toEqual([
      'tool new --help: no ```console block in docs/calling.md begins with "$ tool new --help"',
    ]);
  });

  it("reports help shown for a command that no longer exists", () => {
    const page = "```console\n$ tool --help\nUsage: tool\n```\n\n```console\n$ tool old --help\nUsage: tool old\n```\n";
    expect(helpProblems(new Map([["tool --help", "Usage: tool\n"]]), page)).toEqual(["tool old --help: docs/calling.md shows help for a command the check does not know"]);
  });
});
