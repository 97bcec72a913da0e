/**
 * `npm run mutation [-- --only <text>[,<text>…]]`: for each mutant in mutants.ts, copy the tree to a
 * temporary directory, switch one rule off, run the tests, and require that some test fails.
 * Runs outside `npm test` because it takes minutes; the README says when to run it.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MUTANTS } from "./mutants";

const root = resolve(import.meta.dirname, "../..");
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
// `--only a,b` keeps the mutants whose rule names contain any of the comma-separated texts.
const mutants = MUTANTS.filter((m) => only === undefined || only.split(",").some((o) => m.rule.includes(o)));

const work = mkdtempSync(join(tmpdir(), "sts-gate-mutation-"));
cpSync(root, work, { recursive: true, filter: (src) => !/\/(node_modules|\.git|dist|\.wrangler)(\/|$)/.test(src.slice(root.length)) });
symlinkSync(join(root, "node_modules"), join(work, "node_modules"));

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
const TESTS = ["run", "--project", "workers", "--bail=1", ...RULE_TESTS];

/**
 * A run that outlives this is a failure: a mutant that makes matching backtrack hangs workerd in
 * synchronous code, where no test timeout can interrupt it. The whole process group goes, so no
 * workerd is left spinning.
 */
const RUN_TIMEOUT_MS = 6 * 60_000;

function runTests(tests?: readonly string[]): Promise<boolean> {
  return new Promise((done) => {
    const args = tests === undefined ? TESTS : ["run", "--project", "workers", "--bail=1", ...tests];
    const child = spawn(join(work, "node_modules/.bin/vitest"), args, {
      cwd: work,
      stdio: "ignore",
      detached: true,
      env: { ...process.env, CI: "true", STS_GATE_SKIP_CLI_SETUP: "1" },
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, "SIGKILL");
    }, RUN_TIMEOUT_MS);
    child.on("exit", (code) => {
      clearTimeout(timer);
      done(code === 0 && !timedOut);
    });
  });
}

const survivors: string[] = [];
try {
  // A kill only means something if the unmutated tree passes.
  if (!(await runTests())) {
    console.log("The tests fail without any mutant; fix them first.");
    process.exit(2);
  }
  for (const [i, mutant] of mutants.entries()) {
    const path = join(work, mutant.file);
    const original = readFileSync(path, "utf8");
    if (!original.includes(mutant.find)) {
      survivors.push(`${mutant.rule}: the text to mutate is gone from ${mutant.file}; update mutants.ts`);
      console.log(`[${i + 1}/${mutants.length}] STALE   ${mutant.rule}`);
      continue;
    }
    writeFileSync(path, original.replace(mutant.find, mutant.replace));
    const killed = !(await runTests(mutant.tests));
    writeFileSync(path, original);
    console.log(`[${i + 1}/${mutants.length}] ${killed ? "killed " : "SURVIVED"} ${mutant.rule}`);
    if (!killed) survivors.push(mutant.rule);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`\n${mutants.length - survivors.length} of ${mutants.length} mutants killed.`);
if (survivors.length > 0) {
  console.log(`Not killed:\n${survivors.map((s) => `  - ${s}`).join("\n")}`);
  process.exit(1);
}
