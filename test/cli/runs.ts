import type { LogLine } from "../support/log-lines";

/** What test/cli/global-setup.ts hands the workerd tests: one entry per CLI run, by name. */
export interface CliRun {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  /** For runs made with `watchNetwork`: each host the run tried to connect to (none was reached). */
  connections?: string[];
}

export type CliRuns = Record<string, CliRun>;

declare module "vitest" {
  export interface ProvidedContext {
    /** The CLI, run as a child process in Node before the tests, with temporary AWS config. */
    cliRuns: CliRuns;
  }
}

/** What test/cli/revoke-setup.ts hands the workerd tests: the revocation commands against a gate in workerd. */
export interface RevokeRuns {
  runs: Record<string, CliRun>;
  /** The deployer's request to the gate before the revocation, after it and after its deletion. */
  calls: Record<string, { status: number; body: string }>;
  /** The gate's log lines while the commands ran (test/support/log-lines.ts). */
  lines: LogLine[];
}

declare module "vitest" {
  export interface ProvidedContext {
    revokeRuns: RevokeRuns;
  }
}
