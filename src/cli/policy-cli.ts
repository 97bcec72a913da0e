/**
 * The command line of `npm run policy`, parsed with node:util `parseArgs` like the other
 * commands, then run by src/cli/policy-command.ts. Node only: workerd stubs parseArgs.
 *
 * A wrangler.toml argument is read here and handed on as its POLICY, or with APPS as each app's
 * policy (see policySources).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { failure, POLICY_CLI_USAGE, runPolicyCommand, usageError, type CliOutcome } from "./policy-command.ts";
import { policySources } from "./wrangler-config.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

const COMMON: Options = {
  env: { type: "string", multiple: true },
  app: { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
};

const OPTIONS: Record<"check" | "explain", Options> = {
  check: COMMON,
  explain: {
    ...COMMON,
    arn: { type: "string", multiple: true },
    "user-id": { type: "string", multiple: true },
    method: { type: "string", multiple: true },
    path: { type: "string", multiple: true },
  },
};

/** `npm run policy -- <argv>` as a function of its arguments and a file reader (src/cli/policy.ts supplies both). */
export function runPolicyCli(argv: readonly string[], readText: (file: string) => string): CliOutcome {
  const [command, ...rest] = argv;
  if (command === undefined) return { exitCode: 2, stdout: "", stderr: POLICY_CLI_USAGE };
  if (command === "--help" || command === "-h" || command === "help") return { exitCode: 0, stdout: POLICY_CLI_USAGE, stderr: "" };
  if (command !== "check" && command !== "explain") return usageError(`unknown command ${command}; use check or explain`);

  const parsed = parse(command, rest);
  if ("exitCode" in parsed) return parsed;
  const { values, positionals } = parsed;
  if (values.help === true) return { exitCode: 0, stdout: POLICY_CLI_USAGE, stderr: "" };

  const once: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(values)) {
    if (!Array.isArray(value)) continue;
    if (value.length > 1) return name === "env" ? failure(2, "--env given twice") : usageError(`--${name} given twice`);
    const [only] = value;
    if (typeof only === "string") once[name] = only;
  }
  if (positionals.length !== 1) return usageError(`${command} takes exactly one policy file`);

  const found = policySources(positionals[0]!, { env: once.env, app: once.app, command }, readText);
  if ("error" in found) return failure(found.exitCode, found.error);
  const outcomes = found.sources.map((source) => {
    const read = (file: string) => (file === source.file && source.text !== undefined ? source.text : readText(file));
    const app = { app: source.app, admins: source.admins, missing: source.missing };
    if (command === "check") return runPolicyCommand({ command, file: source.file, ...app }, read);
    return runPolicyCommand({ command, file: source.file, ...app, arn: once.arn, userId: once["user-id"], method: once.method, path: once.path }, read);
  });
  // With APPS, every app's check, in order; the worst exit status.
  return {
    exitCode: Math.max(...outcomes.map((o) => o.exitCode)),
    stdout: outcomes.map((o) => o.stdout).join(""),
    stderr: outcomes.map((o) => o.stderr).join(""),
  };
}

type Parsed = { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };

/**
 * parseArgs, strict. Its errors become the command's own one-line messages, naming the option:
 * the offending token is found by a second, lenient parse of the same arguments.
 */
function parse(command: "check" | "explain", args: string[]): Parsed | CliOutcome {
  const options = OPTIONS[command];
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
    for (const token of tokens) {
      if (token.kind !== "option") continue;
      const option = options[token.name];
      if (option === undefined) return usageError(`unknown option ${token.rawName} for ${command}`);
      if (option.type === "boolean" && token.value !== undefined) return usageError(`${token.rawName} takes no value`);
      if (option.type === "string" && (token.value === undefined || (!token.inlineValue && token.value.startsWith("-")))) {
        return token.name === "env"
          ? failure(2, `--env needs a value (an environment of wrangler.toml; "" for the top level)`)
          : usageError(`${token.rawName} needs a value`);
      }
    }
    return usageError(code === undefined ? "cannot read the arguments" : `cannot read the arguments (${code})`);
  }
}
