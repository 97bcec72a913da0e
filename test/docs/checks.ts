/**
 * The documentation checks of test/docs/, as pure functions: each takes the texts it compares
 * and returns the problems it finds, one line each (an empty list: the docs are true). The
 * tests run them on the real tree, and on broken copies to show that each one fails.
 */
import { posix } from "node:path";
import { codeBlocks, codeSpans, headingAnchors, links, tableRows } from "./markdown.ts";

/** The repository as the link check sees it: paths relative to its root, with `/`. */
export interface Tree {
  /** The text of a file, or undefined when there is no such file (or it is a directory). */
  read(path: string): string | undefined;
  /** Whether a file or directory exists. */
  exists(path: string): boolean;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * Every relative link and `#anchor` in the given pages resolves: the file (or directory) exists,
 * and an anchor into a Markdown file is one of its headings' GitHub anchors.
 */
export function brokenLinks(pages: readonly string[], tree: Tree): string[] {
  const problems: string[] = [];
  const anchorsOf = new Map<string, Set<string> | undefined>();
  const anchors = (path: string) => {
    if (!anchorsOf.has(path)) {
      const text = tree.read(path);
      anchorsOf.set(path, text === undefined ? undefined : headingAnchors(text));
    }
    return anchorsOf.get(path);
  };

  for (const page of pages) {
    const text = tree.read(page);
    if (text === undefined) {
      problems.push(`${page}: no such file`);
      continue;
    }
    for (const { target, line } of links(text)) {
      if (SCHEME.test(target) || target.startsWith("//")) continue;
      const where = `${page}:${line}: ${target}`;
      const hash = target.indexOf("#");
      const pathPart = hash === -1 ? target : target.slice(0, hash);
      const anchor = hash === -1 ? undefined : target.slice(hash + 1);
      if (pathPart.startsWith("/")) {
        problems.push(`${where}: a link from the root (/) does not resolve the same way on GitHub and in the package; use a relative path`);
        continue;
      }
      let resolved = page;
      if (pathPart !== "") {
        let decoded: string;
        try {
          decoded = decodeURIComponent(pathPart);
        } catch {
          problems.push(`${where}: malformed escape`);
          continue;
        }
        resolved = posix.normalize(posix.join(posix.dirname(page), decoded)).replace(/\/$/, "");
        if (resolved.startsWith("..")) {
          problems.push(`${where}: points outside the repository`);
          continue;
        }
        if (!tree.exists(resolved)) {
          problems.push(`${where}: no such file ${resolved}`);
          continue;
        }
      }
      if (anchor === undefined) continue;
      if (!resolved.endsWith(".md")) continue; // #L10 and the like: not ours to check
      if (anchor === "") {
        problems.push(`${where}: empty anchor`);
        continue;
      }
      const known = anchors(resolved);
      if (known === undefined) problems.push(`${where}: ${resolved} cannot be read`);
      else if (!known.has(anchor)) problems.push(`${where}: ${resolved} has no heading with the anchor #${anchor}`);
    }
  }
  return problems;
}

/** What is in one set and not the other, as problem lines. */
function compare(kind: string, inSource: Iterable<string>, inDocs: Iterable<string>, page: string): string[] {
  const source = new Set(inSource);
  const docs = new Set(inDocs);
  return [
    ...[...source].filter((n) => !docs.has(n)).map((n) => `${n}: a ${kind} the gate has, with no row in ${page}`),
    ...[...docs].filter((n) => !source.has(n)).map((n) => `${n}: a row in ${page}, but not a ${kind} the gate has`),
  ];
}

/**
 * The member names of an interface in a TypeScript source, read without a compiler (the
 * project's TypeScript is the native one, with no JavaScript API): comments and strings
 * removed, then the `name?:` and `name:` at the interface's own brace depth.
 */
export function interfaceMembers(source: string, name: string): string[] {
  const start = new RegExp(`\\binterface\\s+${name}\\b[^{]*\\{`).exec(source);
  if (!start) throw new Error(`no interface ${name} in the source`);
  const body = stripComments(source.slice(start.index + start[0].length));
  const members: string[] = [];
  let depth = 0;
  let statementStart = true;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "{" || c === "(" || c === "[" || c === "<") depth++;
    else if (c === ")" || c === "]" || (c === ">" && body[i - 1] !== "=")) depth--;
    else if (c === "}") {
      if (depth === 0) return members;
      depth--;
    } else if (depth === 0 && (c === ";" || c === "\n" || c === ",")) statementStart = true;
    else if (depth === 0 && statementStart && /\S/.test(c)) {
      statementStart = false;
      const m = /^(?:readonly\s+)?(["']?)([A-Za-z_$][\w$]*)\1\s*\??\s*:/.exec(body.slice(i));
      if (m) members.push(m[2]!);
    }
  }
  throw new Error(`interface ${name} is not closed`);
}

/** Source text with comments blanked out (string contents are left alone; interfaces hold none that matter). */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " ")).replace(/\/\/[^\n]*/g, "");
}

/** The names in the first column of every `| name | …` table of a page: one code span each. */
export function documentedNames(markdown: string): string[] {
  return tableRows(markdown, "name").flatMap((row) => codeSpans(row[0] ?? ""));
}

/** Every member of `GateEnv` has a row in docs/configuration.md, and every row is a member. */
export function configurationProblems(gateEnvSource: string, configurationPage: string): string[] {
  return compare("var, secret or binding", interfaceMembers(gateEnvSource, "GateEnv"), documentedNames(configurationPage), "docs/configuration.md");
}

/** The codes in the first column of every `| code | …` table of a page. */
export function documentedCodes(markdown: string): string[] {
  return tableRows(markdown, "code").flatMap((row) => codeSpans(row[0] ?? ""));
}

/**
 * Every problem code the gate can answer is in a code table of docs/errors.md with its status,
 * and every code there exists with that status.
 */
export function problemCodeProblems(problems: Readonly<Record<string, { status: number }>>, errorsPage: string): string[] {
  const out = compare("problem code", Object.keys(problems), documentedCodes(errorsPage), "docs/errors.md");
  for (const row of tableRows(errorsPage, "code")) {
    const codes = codeSpans(row[0] ?? "");
    const statuses = (row[1] ?? "").split(/[,\s]+/).filter(Boolean);
    codes.forEach((code, i) => {
      const status = statuses[codes.length === statuses.length ? i : 0];
      const actual = problems[code]?.status;
      if (actual !== undefined && String(actual) !== status) out.push(`${code}: docs/errors.md says ${status ?? "no status"}, the gate answers ${actual}`);
    });
  }
  return out;
}

/**
 * The value of a `const NAME = \`…\`` template literal in a source file, with its escapes
 * applied and `${OTHER}` replaced by another such constant of the same file. The help texts of
 * commands whose module runs on import (src/cli/sts-gate.ts, src/cli/keygen.ts) are read this way.
 */
export function templateConstant(source: string, name: string): string {
  const start = new RegExp(`\\bconst\\s+${name}\\s*=\\s*\``).exec(source);
  if (!start) throw new Error(`no template constant ${name} in the source`);
  let out = "";
  for (let i = start.index + start[0].length; i < source.length; i++) {
    const c = source[i]!;
    if (c === "`") return out;
    if (c === "\\") {
      const next = source[++i]!;
      out += next === "n" ? "\n" : next === "t" ? "\t" : next;
      continue;
    }
    if (c === "$" && source[i + 1] === "{") {
      const end = source.indexOf("}", i);
      const inner = source.slice(i + 2, end).trim();
      if (!/^[A-Za-z_$][\w$]*$/.test(inner)) throw new Error(`${name}: cannot read the interpolation \${${inner}}`);
      out += templateConstant(source, inner);
      i = end;
      continue;
    }
    out += c;
  }
  throw new Error(`${name}: the template literal is not closed`);
}

/**
 * A page's command transcripts: for each ```` ```console ```` block whose first line is
 * `$ <command>`, the command and everything after that line.
 */
export function transcripts(markdown: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const block of codeBlocks(markdown)) {
    if (block.info !== "console") continue;
    const [first, ...rest] = block.content.split("\n");
    if (!first?.startsWith("$ ")) continue;
    const command = first.slice(2).trim();
    out.set(command, [...(out.get(command) ?? []), rest.join("\n")]);
  }
  return out;
}

/**
 * Every command's `--help` text is shown in docs/calling.md as a console block that begins with
 * the command line and is followed by exactly the text. `help` maps each command line
 * (`sts-gate token --help`) to the text the source prints.
 */
export function helpProblems(help: ReadonlyMap<string, string>, callingPage: string): string[] {
  const shown = transcripts(callingPage);
  const out: string[] = [];
  for (const [command, text] of help) {
    const blocks = shown.get(command);
    if (blocks === undefined) {
      out.push(`${command}: no \`\`\`console block in docs/calling.md begins with "$ ${command}"`);
      continue;
    }
    for (const block of blocks) {
      if (block !== text) out.push(`${command}: docs/calling.md shows a help text that differs from the source's:\n${firstDifference(text, block)}`);
    }
  }
  for (const command of shown.keys()) {
    if (command.endsWith("--help") && !help.has(command)) out.push(`${command}: docs/calling.md shows help for a command the check does not know`);
  }
  return out;
}

function firstDifference(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `  line ${i + 1}: the source has ${JSON.stringify(a[i] ?? "(nothing)")}, the page ${JSON.stringify(b[i] ?? "(nothing)")}`;
  }
  return "  (no difference)";
}
