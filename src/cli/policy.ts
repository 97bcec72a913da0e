/**
 * `npm run policy -- check <file> [--env NAME]` and `npm run policy -- explain <file> --arn <arn> …`:
 * validate a policy file, and show what the gate would decide for a caller and a request.
 *
 * A thin wrapper: the command is `runPolicyCli` in src/cli/policy-cli.ts; this file only
 * supplies the arguments, the file system and the exit status. Errors are one line on stderr
 * and a non-zero exit status, never a stack trace.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { runPolicyCli } from "./policy-cli.ts";

try {
  const outcome = runPolicyCli(process.argv.slice(2), (file) => readFileSync(file, "utf8"));
  process.stdout.write(outcome.stdout);
  process.stderr.write(outcome.stderr);
  process.exitCode = outcome.exitCode;
} catch (error) {
  process.stderr.write(`policy: unexpected error: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}\n`);
  process.exitCode = 2;
}
