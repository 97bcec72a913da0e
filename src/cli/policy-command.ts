/**
 * `npm run policy` after its command line is parsed: check a policy file, or explain a decision.
 * It is apart from the parsing (src/cli/policy-cli.ts, node:util parseArgs) because workerd only
 * stubs parseArgs, and this part runs there too: `sts-gate doctor` reuses it, and the policy
 * tests call it beside the gate.
 */
import type { CallerIdentity } from "../identity.ts";
import { checkPolicyText, explainPolicy, oneLine, type PolicyCheck } from "../policy/index.ts";

/** What one run of the CLI prints and exits with. */
export interface CliOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const POLICY_CLI_USAGE = `usage:
  npm run policy -- check <file> [--env NAME] [--app NAME]
      Validate a policy file (JSON), or the [vars.POLICY] of a wrangler.toml (of [env.NAME]
      with --env). With APPS, each app's policy (or the one --app names), reported by app.
      Exit 0 and a summary (warnings, e.g. a policy that admits no one, on stderr), or each
      issue with its path and exit 1.
  npm run policy -- explain <file> [--env NAME] [--app NAME] --arn <arn> [--user-id <id>] [--method GET] [--path /]
      What the gate would decide for that caller and request, and which rule or reason decided.
      Exit 0 if allowed, 1 if denied. Without --user-id a UserId is synthesized, and a pin on
      the principal cannot be checked. A path under /.well-known/sts-gate/ is decided by admins
      (with APPS, by ADMINS). A wrangler.toml with APPS needs --app: the app whose policy decides.
Errors (bad arguments, unreadable file, invalid policy for explain) exit 2.
`;

/** One policy command, its arguments already parsed (src/cli/policy-cli.ts parses the command line). */
export type PolicyRequest =
  | ({ command: "check"; file: string } & AppOfRequest)
  | ({ command: "explain"; file: string; arn?: string; userId?: string; method?: string; path?: string } & AppOfRequest);

/** With APPS: which app's policy it is, the gate's ADMINS, and whether the app has no policy. */
export interface AppOfRequest {
  /** `APPS[1] (docs)`: the app's issues and warnings are named by it, its policy's fields as `policy.…`. */
  app?: string;
  /** ADMINS as JSON text: with APPS they, not an app's policy, decide the gate's own API. */
  admins?: string;
  missing?: true;
}

/**
 * Checks an app's policy as the gate does: its issues named by the app (`APPS[1] (docs):
 * policy.rules[0]: …`), and `admins` refused (with APPS, ADMINS names the gate's admins).
 */
export function checkAppPolicy(text: string, request: AppOfRequest): PolicyCheck {
  const { app } = request;
  if (app === undefined) return checkPolicyText(text);
  if (request.missing === true) return { ok: false, issues: [`${app}: policy: missing; without it the app admits no one`] };
  const named = (line: string) => `${app}: ${line.replace(/\bPOLICY(?=[.[:\s])/g, "policy")}`;
  const checked = checkPolicyText(text);
  if (!checked.ok) return { ok: false, issues: checked.issues.map(named) };
  if (checked.doc.admins !== undefined) return { ok: false, issues: [named("POLICY.admins: is not allowed in an app's policy: name the gate's admins in ADMINS")] };
  return { ...checked, warnings: checked.warnings.map(named) };
}

/** An app's policy with the gate's ADMINS in it, for explain: they decide the gate's own API. */
function withAdmins(text: string, request: AppOfRequest): PolicyCheck | undefined {
  if (request.app === undefined || request.admins === undefined) return undefined;
  let admins: unknown;
  try {
    admins = JSON.parse(request.admins) as unknown;
  } catch {
    return { ok: false, issues: ["ADMINS: is not valid JSON"] };
  }
  const checked = checkPolicyText(JSON.stringify({ ...(JSON.parse(text) as object), admins }));
  return checked.ok ? checked : { ok: false, issues: checked.issues.map((i) => i.replace(/^POLICY\.admins/, "ADMINS")) };
}

/**
 * What `npm run policy` prints and exits with for one parsed command: a pure function of the
 * request and a file reader, so it runs in workerd too, where `sts-gate doctor` and the policy
 * tests call it.
 */
export function runPolicyCommand(request: PolicyRequest, readText: (file: string) => string): CliOutcome {
  const { command, file } = request;
  let text: string;
  try {
    text = readText(file);
  } catch (error) {
    return out(command === "check" ? 1 : 2, [], [`policy: cannot read ${file}: ${oneLine(error)}`]);
  }
  const checked = checkAppPolicy(text, request);

  if (command === "check") {
    if (!checked.ok) return out(1, [], [`${file}: invalid policy (${checked.issues.length} issue${checked.issues.length === 1 ? "" : "s"})`, ...checked.issues]);
    return out(0, [`${file}: valid`, ...checked.summary], checked.warnings.map((w) => `warning: ${w}`));
  }

  if (!checked.ok) return out(2, [], [`${file}: invalid policy; run npm run policy -- check ${file}`, ...checked.issues]);
  const decided = withAdmins(text, request) ?? checked;
  if (!decided.ok) return out(2, [], [`${file}: invalid ADMINS; run sts-gate doctor`, ...decided.issues]);
  const { arn, userId, path = "/" } = request;
  if (arn === undefined) return usageError("explain needs --arn <arn>");
  const method = request.method ?? "GET";
  if (!/^[A-Za-z]{1,16}$/.test(method)) return usageError(`--method: not an HTTP method: ${method}`);
  try {
    const e = explainPolicy(decided.doc, {
      arn,
      userId,
      method: method.toUpperCase(),
      path,
    });
    const d = e.decision;
    const lines = [
      `caller:    ${e.identity.arn}`,
      `principal: ${e.identity.principal} (${e.identity.type}, account ${e.identity.account}, UserId ${e.identity.userId})`,
      ...sessionLine(e.identity),
      `request:   ${e.request.method} ${e.request.path}`,
      ...e.steps.map((s) => `  ${s}`),
      d.allowed ? `ALLOW by rule ${d.rule}${d.pattern === undefined ? "" : ` (${d.pattern.startsWith("{") ? "selector" : "pattern"} ${d.pattern})`}` : `DENY ${d.code}: ${d.reason}`,
      ...e.notes.map((n) => `note: ${n}`),
    ];
    return out(d.allowed ? 0 : 1, lines, checked.warnings.map((w) => `warning: ${w}`));
  } catch (error) {
    return out(2, [], [`policy: ${oneLine(error)}`]);
  }
}


function out(exitCode: number, stdout: string[], stderr: string[] = []): CliOutcome {
  return { exitCode, stdout: stdout.map((l) => `${l}\n`).join(""), stderr: stderr.map((l) => `${l}\n`).join("") };
}

/** A mistake on the command line: exit 2, one line that points at the usage. */
export function usageError(message: string): CliOutcome {
  return out(2, [], [`policy: ${message} (npm run policy -- --help)`]);
}

/** A problem before the command runs (an unreadable wrangler.toml): one line, its exit code. */
export function failure(exitCode: number, message: string): CliOutcome {
  return out(exitCode, [], [`policy: ${message}`]);
}

/** What an assumed-role session adds: an Identity Center session's permission set and user, or why it has none. */
function sessionLine(identity: CallerIdentity): string[] {
  if (identity.role === undefined) return [];
  if (identity.permissionSet !== undefined) {
    return [`session:   IAM Identity Center: permission set ${identity.permissionSet}, user ${identity.user ?? ""} (selectors apply)`];
  }
  return [`session:   role ${identity.role}, session ${identity.session ?? ""} (not an Identity Center session: no selector applies, and the session name identifies no one)`];
}
