/**
 * The whole policy CLI as a pure function of its arguments and a file reader; src/cli/policy.ts
 * only supplies argv, the file system and the exit code. It parses its own few flags rather than
 * use node:util's parseArgs, which workerd only stubs: this core runs (and is tested) in workerd,
 * and `sts-gate doctor` reuses it there.
 */
import { checkPolicyText, explainPolicy, oneLine } from "../policy/index.ts";

/** What one run of the CLI prints and exits with. */
export interface CliOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const POLICY_CLI_USAGE = `usage:
  npm run policy -- check <file> [--env NAME]
      Validate a policy file (JSON), or the [vars.POLICY] of a wrangler.toml (of [env.NAME]
      with --env). Exit 0 and a summary (warnings, e.g. a policy that admits no one, on
      stderr), or each issue with its path and exit 1.
  npm run policy -- explain <file> [--env NAME] --arn <arn> [--user-id <id>] [--method GET] [--path /]
      What the gate would decide for that caller and request, and which rule or reason decided.
      Exit 0 if allowed, 1 if denied. Without --user-id a UserId is synthesized, and a pin on
      the principal cannot be checked. A path under /.well-known/sts-gate/ is decided by admins.
Errors (bad arguments, unreadable file, invalid policy for explain) exit 2.
`;

/**
 * The whole policy CLI as a pure function of its arguments and a file reader, so it is tested
 * in workerd; src/cli/policy.ts only supplies argv, the file system and the exit code.
 */
export function runPolicyCli(argv: readonly string[], readText: (file: string) => string): CliOutcome {
  const out = (exitCode: number, stdout: string[], stderr: string[] = []): CliOutcome => ({
    exitCode,
    stdout: stdout.map((l) => `${l}\n`).join(""),
    stderr: stderr.map((l) => `${l}\n`).join(""),
  });
  const usageError = (message: string) => out(2, [], [`policy: ${message} (npm run policy -- --help)`]);

  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    return { exitCode: command === undefined ? 2 : 0, stdout: command === undefined ? "" : POLICY_CLI_USAGE, stderr: command === undefined ? POLICY_CLI_USAGE : "" };
  }
  if (command !== "check" && command !== "explain") return usageError(`unknown command ${command}; use check or explain`);

  const options: Record<string, string> = {};
  const positionals: string[] = [];
  const known = command === "check" ? [] : ["--arn", "--user-id", "--method", "--path"];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!known.includes(name)) return usageError(`unknown option ${name} for ${command}`);
    const value = eq === -1 ? rest[++i] : arg.slice(eq + 1);
    if (value === undefined) return usageError(`${name} needs a value`);
    if (options[name] !== undefined) return usageError(`${name} given twice`);
    options[name] = value;
  }
  if (positionals.length !== 1) return usageError(`${command} takes exactly one policy file`);
  const file = positionals[0]!;

  let text: string;
  try {
    text = readText(file);
  } catch (error) {
    return out(command === "check" ? 1 : 2, [], [`policy: cannot read ${file}: ${oneLine(error)}`]);
  }
  const checked = checkPolicyText(text);

  if (command === "check") {
    if (!checked.ok) return out(1, [], [`${file}: invalid policy (${checked.issues.length} issue${checked.issues.length === 1 ? "" : "s"})`, ...checked.issues]);
    return out(0, [`${file}: valid`, ...checked.summary], checked.warnings.map((w) => `warning: ${w}`));
  }

  if (!checked.ok) return out(2, [], [`${file}: invalid policy; run npm run policy -- check ${file}`, ...checked.issues]);
  const arn = options["--arn"];
  if (arn === undefined) return usageError("explain needs --arn <arn>");
  const method = options["--method"] ?? "GET";
  if (!/^[A-Za-z]{1,16}$/.test(method)) return usageError(`--method: not an HTTP method: ${method}`);
  try {
    const e = explainPolicy(checked.doc, {
      arn,
      userId: options["--user-id"],
      method: method.toUpperCase(),
      path: options["--path"] ?? "/",
    });
    const d = e.decision;
    const lines = [
      `caller:    ${e.identity.arn}`,
      `principal: ${e.identity.principal} (${e.identity.type}, account ${e.identity.account}, UserId ${e.identity.userId})`,
      `request:   ${e.request.method} ${e.request.path}`,
      ...e.steps.map((s) => `  ${s}`),
      d.allowed ? `ALLOW by rule ${d.rule}${d.pattern === undefined ? "" : ` (pattern ${d.pattern})`}` : `DENY ${d.code}: ${d.reason}`,
      ...e.notes.map((n) => `note: ${n}`),
    ];
    return out(d.allowed ? 0 : 1, lines, checked.warnings.map((w) => `warning: ${w}`));
  } catch (error) {
    return out(2, [], [`policy: ${oneLine(error)}`]);
  }
}

