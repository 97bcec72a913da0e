/**
 * The mutation runner's vitest reporter: every test file's tests, each with its state and the
 * name of each error it failed with, written as JSON to $STS_GATE_MUTATION_REPORT. The built-in
 * JSON reporter gives only an error's stack, and `.rejects`/`.resolves` rewrite an assertion's
 * stack to begin "Error: …", so only the error's own name says whether an assertion failed.
 */
import { writeFileSync } from "node:fs";
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from "vitest/node";

export interface MutationReport {
  reason: TestRunEndReason;
  unhandledErrors: ErrorSummary[];
  files: Array<{ file: string; state: string; errors: ErrorSummary[]; tests: Array<{ name: string; state: string; errors: ErrorSummary[] }> }>;
}

export interface ErrorSummary {
  name: string;
  message: string;
}

const summary = (e: SerializedError): ErrorSummary => ({ name: String(e.name ?? "Error"), message: String(e.message ?? "").split("\n")[0]!.slice(0, 300) });

export default class MutationReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    const out = process.env.STS_GATE_MUTATION_REPORT;
    if (out === undefined) return;
    const report: MutationReport = {
      reason,
      unhandledErrors: unhandledErrors.map(summary),
      files: testModules.map((m) => ({
        file: m.moduleId,
        state: m.state(),
        errors: m.errors().map(summary),
        tests: [...m.children.allTests()].map((t) => {
          const result = t.result();
          return { name: t.fullName, state: result.state, errors: (result.errors ?? []).map(summary) };
        }),
      })),
    };
    writeFileSync(out, JSON.stringify(report));
  }
}
