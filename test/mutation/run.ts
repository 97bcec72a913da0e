/**
 * `npm run mutation [-- --only <text>[,<text>…]]`: for each mutant in mutants.ts, copy the tree to a
 * temporary directory, switch one rule off, run the mutant's tests, and require that one of them
 * fails on an assertion. Runs outside `npm test` because it takes minutes; the README says when
 * to run it.
 *
 * A kill is an assertion that failed (an `expect`, `assert` or `.rejects`/`.resolves` mismatch)
 * in one of the mutant's own test files, read from the JSON that reporter.ts writes. Anything else that
 * makes vitest exit non-zero (a time-out, a crash, an import or setup error, no test file found,
 * a failure outside the listed files) is an error, not a kill, and fails the run: it says the
 * run could not tell whether the rule is guarded.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { MUTANTS, type Mutant } from "./mutants";
import type { ErrorSummary, MutationReport } from "./reporter";

const root = resolve(import.meta.dirname, "../..");
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
// `--only a,b` keeps the mutants whose rule names contain any of the comma-separated texts.
const mutants = MUTANTS.filter((m) => only === undefined || only.split(",").some((o) => m.rule.includes(o)));
if (mutants.length === 0) {
  console.log(`No mutant's rule contains ${JSON.stringify(only)}.`);
  process.exit(2);
}

/** Every rule's tests: the unit tests beside their modules, integration and properties (not the built CLI's). */
const RULE_TESTS = [
  "test/token/",
  "test/policy/",
  "test/edge/",
  "test/verify/",
  "test/revocation/",
  "test/origin/",
  "test/integration/",
  "test/properties/",
  "test/identity.test.ts",
  "test/config.test.ts",
  "test/sts-endpoints.test.ts",
  "test/wildcard.test.ts",
  "test/deadline.test.ts",
  "test/cors.test.ts",
];

/** The test files under `entry` (a file or a folder, relative to the top level), relative paths. */
function testFilesOf(entry: string): string[] {
  const path = join(root, entry);
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return entry.endsWith(".test.ts") ? [entry] : [];
  return readdirSync(path, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => relative(root, join(path, f)))
    .sort();
}

/**
 * Each mutant's `tests` entries resolved against the tree before anything runs: an entry that
 * names no test file (a renamed or deleted test) fails the run here, rather than turning every
 * run of that mutant into "No test files found" and so into a permanent kill.
 */
function resolveTests(mutant: Mutant): string[] {
  const files = new Set<string>();
  for (const entry of mutant.tests ?? RULE_TESTS) {
    const found = testFilesOf(entry);
    if (found.length === 0) unresolved.push(`${mutant.rule}: tests entry ${JSON.stringify(entry)} matches no test file`);
    for (const f of found) files.add(f);
  }
  return [...files].sort();
}
const unresolved: string[] = [];
const planned = mutants.map((mutant) => ({ mutant, files: resolveTests(mutant) }));
if (unresolved.length > 0) {
  console.log(`Some mutants' tests name no file; fix mutants.ts:\n${unresolved.map((u) => `  - ${u}`).join("\n")}`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), "sts-gate-mutation-"));
cpSync(root, work, { recursive: true, filter: (src) => !/\/(node_modules|\.git|dist|\.wrangler)(\/|$)/.test(src.slice(root.length)) });
symlinkSync(join(root, "node_modules"), join(work, "node_modules"));

/**
 * A run that outlives this is an error: a mutant that makes matching backtrack can hang workerd in
 * synchronous code, where no test timeout can interrupt it. The whole process group goes, so no
 * workerd is left spinning.
 */
const RUN_TIMEOUT_MS = 6 * 60_000;

/** A failure an assertion raised: chai's AssertionError (expect, assert, expect.fail, .rejects, .resolves). */
const isAssertionFailure = (error: ErrorSummary) => error.name === "AssertionError";

type Outcome =
  | { kind: "passed" }
  | { kind: "killed"; by: string }
  | { kind: "error"; why: string };

let runs = 0;
function runTests(files: readonly string[], bail: boolean): Promise<Outcome> {
  const reportFile = join(work, `.mutation-report-${++runs}.json`);
  // The default reporter's last lines are kept for an error message; ours writes the JSON.
  // The workerd tests, the real origin servers' (test/origins/) and the Node-side ones (test/cli/proxy.test.ts):
  // a mutant lists files of any of them, and only the listed files run.
  const args = ["run", "--project", "workers", "--project", "origins", "--project", "node", "--reporter=default", "--reporter=./test/mutation/reporter.ts", ...(bail ? ["--bail=1"] : []), ...files];
  return new Promise((done) => {
    let output = "";
    const child = spawn(join(work, "node_modules/.bin/vitest"), args, {
      cwd: work,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      env: { ...process.env, CI: "true", STS_GATE_SKIP_CLI_SETUP: "1", STS_GATE_MUTATION_REPORT: reportFile },
    });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, "SIGKILL");
    }, RUN_TIMEOUT_MS);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const tail = output.replace(/\x1b\[[0-9;]*m/g, "").trim().split("\n").slice(-3).join(" | ");
      if (timedOut) return done({ kind: "error", why: `timed out after ${RUN_TIMEOUT_MS / 1000} s` });
      if (!existsSync(reportFile)) return done({ kind: "error", why: `vitest exited ${code} without a report: ${tail}` });
      const report = JSON.parse(readFileSync(reportFile, "utf8")) as MutationReport;
      rmSync(reportFile);
      const listed = new Set(files.map((f) => join(work, f)));
      for (const file of report.files) {
        if (!listed.has(file.file)) continue;
        for (const test of file.tests) {
          if (test.state !== "failed") continue;
          const failure = test.errors.find(isAssertionFailure);
          if (failure !== undefined) return done({ kind: "killed", by: `${relative(work, file.file)} > ${test.name}: ${failure.message.slice(0, 160)}` });
        }
      }
      if (code === 0) {
        const ran = new Set(report.files.map((f) => relative(work, f.file)));
        const missing = files.filter((f) => !ran.has(f));
        if (missing.length > 0) return done({ kind: "error", why: `vitest ran none of ${missing.join(", ")}` });
        return done({ kind: "passed" });
      }
      const failures = [
        ...report.unhandledErrors.map((e) => `unhandled ${e.name}: ${e.message}`),
        ...report.files.flatMap((f) => [
          ...f.errors.map((e) => `${relative(work, f.file)}: ${e.name}: ${e.message}`),
          ...f.tests.filter((t) => t.state === "failed").map((t) => `${relative(work, f.file)} > ${t.name}: ${t.errors.map((e) => `${e.name}: ${e.message}`).join("; ")}`),
        ]),
      ];
      done({ kind: "error", why: `vitest exited ${code} with no assertion failure: ${(failures[0] ?? tail).slice(0, 300)}` });
    });
  });
}

const survivors: string[] = [];
const errors: string[] = [];
try {
  // A kill only means something if the unmutated tree passes the same tests. With --only, the
  // baseline is the union of the selected mutants' tests, so a targeted run stays short.
  const baselineFiles = [...new Set(planned.flatMap((p) => p.files))].sort();
  const baseline = await runTests(baselineFiles, false);
  if (baseline.kind !== "passed") {
    console.log(`The tests fail without any mutant; fix them first.\n  ${baseline.kind === "killed" ? baseline.by : baseline.why}`);
    process.exit(2);
  }
  for (const [i, { mutant, files }] of planned.entries()) {
    const tag = `[${i + 1}/${planned.length}]`;
    const path = join(work, mutant.file);
    const original = readFileSync(path, "utf8");
    if (!original.includes(mutant.find)) {
      errors.push(`${mutant.rule}: the text to mutate is gone from ${mutant.file}; update mutants.ts`);
      console.log(`${tag} STALE    ${mutant.rule}`);
      continue;
    }
    writeFileSync(path, original.replace(mutant.find, mutant.replace));
    let outcome = await runTests(files, true);
    // --bail stops at the first failure; when that one was not an assertion, look at them all.
    if (outcome.kind === "error") outcome = await runTests(files, false);
    writeFileSync(path, original);
    if (outcome.kind === "killed") {
      console.log(`${tag} killed   ${mutant.rule}\n           by ${outcome.by}`);
    } else if (outcome.kind === "passed") {
      console.log(`${tag} SURVIVED ${mutant.rule}`);
      survivors.push(mutant.rule);
    } else {
      console.log(`${tag} ERROR    ${mutant.rule}: ${outcome.why}`);
      errors.push(`${mutant.rule}: ${outcome.why}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const killed = planned.length - survivors.length - errors.length;
console.log(`\n${killed} of ${planned.length} mutants killed.`);
if (survivors.length > 0) console.log(`Survived (no test failed):\n${survivors.map((s) => `  - ${s}`).join("\n")}`);
if (errors.length > 0) console.log(`Errors (not a kill: the run could not tell):\n${errors.map((s) => `  - ${s}`).join("\n")}`);
if (survivors.length > 0 || errors.length > 0) process.exit(1);
