/**
 * `sts-gate revoke`, `sts-gate revocations`, `sts-gate unrevoke`: the operator's side of the
 * gate's revocation API (README, "Revocation at the edge"). Each signs an admin token for the
 * gate's own audience with the operator's AWS credentials (the SDK's default chain, as
 * `sts-gate token` does) and calls /.well-known/sts-gate/revocations. Errors are CliErrors:
 * one line, exit 1 for a failure, 2 for bad usage.
 */
import { parseArgs } from "node:util";
import { checkAudience, createToken, resolveStsEndpoint, StsGateClientError } from "../client/token.ts";
import { parseRevocationRequest, type RevocationEntry } from "../revocation/entry.ts";
import { REVOCATIONS_PATH } from "../revocation/paths.ts";
import { CALLER_OPTIONS, CliError, firstLine, loadCredentials, lowerFirst, resolveAwsSettings } from "./aws-config.ts";
import { gateUrl } from "./gate-url.ts";

export const REVOCATION_COMMANDS = ["revoke", "revocations", "unrevoke"] as const;
export type RevocationCommand = (typeof REVOCATION_COMMANDS)[number];

interface Output {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

type Env = Record<string, string | undefined>;
type Fetch = (input: string, init: RequestInit) => Promise<Response>;

const COMMON_OPTIONS = `  --gate <url>           The gate's URL, https (http only for a loopback host). Required.
  --audience <audience>  The gate's AUDIENCE: the admin token is signed for it. Required.
  --region <region>      The STS Region to sign for (default as for \`sts-gate token\`).
  --global               Use the global endpoint sts.amazonaws.com.
  --profile <profile>    The AWS profile. Default: AWS_PROFILE, then "default".
  -h, --help             Show this help.

Your AWS credentials come from the SDK's default chain, as for \`sts-gate token\`; your
ARN must match the gate policy's admins. Exit status: 0 on success, 1 if the gate could not
be reached or refused, 2 for bad usage.
`;

export const REVOKE_HELP = `Usage: sts-gate revoke --gate <url> --audience <audience>
         (--access-key <key> | --principal <arn> | --account <id>) --reason <text> [--expires <iso>]

Revoke at the gate: every request whose access key, principal or account matches is refused
with 403 revoked (the gate revokes nothing at AWS). Prints the new entry's id.

Options:
  --access-key <key>     An access key ID (AKIA… or ASIA…), as CloudTrail shows it.
  --principal <arn>      A principal (arn:aws:iam::<account>:role/<name>, …:user/<name>) or an
                         exact session ARN (arn:aws:sts::<account>:assumed-role/<role>/<session>).
  --account <id>         A 12-digit account ID.
  --reason <text>        Why (required, at most 500 characters); shown in the listing and logs.
  --expires <iso>        When the entry stops applying (ISO 8601, e.g. 2026-11-22T18:00:00Z);
                         default: until deleted.
  --json                 Print the entry as JSON.
${COMMON_OPTIONS}`;

export const REVOCATIONS_HELP = `Usage: sts-gate revocations --gate <url> --audience <audience> [--json]

List the gate's active revocations as a table.

Options:
  --json                 Print the gate's JSON answer instead: {"revocations": [...]}.
${COMMON_OPTIONS}`;

export const UNREVOKE_HELP = `Usage: sts-gate unrevoke --gate <url> --audience <audience> <id>

Delete a revocation entry by its id (from \`sts-gate revocations\`).

Options:
${COMMON_OPTIONS}`;

const HELP: Record<RevocationCommand, string> = { revoke: REVOKE_HELP, revocations: REVOCATIONS_HELP, unrevoke: UNREVOKE_HELP };

const COMMON = { gate: { type: "string" }, ...CALLER_OPTIONS } as const;

const OPTIONS: Record<RevocationCommand, Record<string, { type: "string" | "boolean"; short?: string }>> = {
  revoke: { ...COMMON, "access-key": { type: "string" }, principal: { type: "string" }, account: { type: "string" }, reason: { type: "string" }, expires: { type: "string" }, json: { type: "boolean" } },
  revocations: { ...COMMON, json: { type: "boolean" } },
  unrevoke: COMMON,
} as const;

export function isRevocationCommand(command: string | undefined): command is RevocationCommand {
  return (REVOCATION_COMMANDS as readonly string[]).includes(command ?? "");
}

export async function revocationCommand(command: RevocationCommand, args: string[], env: Env, out: Output, fetchImpl: Fetch = fetch): Promise<number> {
  const { values, positionals } = parse(command, args);
  if (values.help === true) {
    out.stdout(HELP[command]);
    return 0;
  }
  const usage = (message: string) => new CliError(`${message}; run 'sts-gate ${command} --help'`, 2);
  const gate = gateUrl(str(values, "gate"), usage);
  const audience = str(values, "audience");
  if (audience === undefined) throw usage("--audience is required");
  if (command !== "unrevoke" && positionals.length > 0) throw usage(`unexpected argument ${JSON.stringify(positionals[0])}`);

  // Everything that can be checked locally is, before credentials are loaded.
  let request: { method: string; path: string; body?: string };
  if (command === "revoke") {
    const selectors = [
      ["--access-key", "accessKeyId"],
      ["--principal", "principal"],
      ["--account", "account"],
    ] as const;
    const given = selectors.filter(([flag]) => str(values, flag.slice(2)) !== undefined);
    if (given.length !== 1) throw usage("give exactly one of --access-key, --principal or --account");
    const reason = str(values, "reason");
    if (reason === undefined) throw usage("--reason is required");
    const [flag, field] = given[0]!;
    const body = { [field]: str(values, flag.slice(2)), reason, ...(str(values, "expires") === undefined ? {} : { expiresAt: str(values, "expires") }) };
    const checked = parseRevocationRequest(JSON.stringify(body), Date.now());
    if (!checked.ok) throw new CliError(flagNames(checked.detail), 2);
    request = { method: "POST", path: REVOCATIONS_PATH, body: JSON.stringify(body) };
  } else if (command === "revocations") {
    request = { method: "GET", path: REVOCATIONS_PATH };
  } else {
    if (positionals.length !== 1) throw usage("give exactly one revocation id");
    const id = positionals[0]!;
    if (!/^[0-9A-Za-z-]{1,64}$/.test(id)) throw usage(`not a revocation id: ${JSON.stringify(id.slice(0, 80))}`);
    request = { method: "DELETE", path: `${REVOCATIONS_PATH}/${id}` };
  }

  const settings = await resolveAwsSettings({ profile: str(values, "profile"), region: str(values, "region") }, env);
  const global = values.global === true;
  try {
    checkAudience(audience);
    resolveStsEndpoint(settings.region, global);
  } catch (error) {
    if (error instanceof StsGateClientError) throw new CliError(lowerFirst(error.message).replace(/\.$/, ""), 2);
    throw error;
  }
  const credentials = await loadCredentials(settings, env, (line) => out.stderr(`sts-gate: warning: ${line}\n`));
  const { token } = await createToken({ credentials, audience, region: settings.region, global });

  const url = new URL(request.path, gate).toString();
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: request.method,
      headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(request.body === undefined ? {} : { "content-type": "application/json" }) },
      body: request.body,
      // The token is for this gate only: never follow it elsewhere.
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new CliError(`could not reach the gate at ${gate.origin}: ${firstLine(error)}`);
  }
  const expected = command === "revoke" ? 201 : command === "revocations" ? 200 : 204;
  if (res.status !== expected) throw new CliError(await refusal(res, gate));

  if (command === "unrevoke") {
    out.stdout(`unrevoked ${request.path.slice(REVOCATIONS_PATH.length + 1)}\n`);
    return 0;
  }
  const body = (await res.json().catch(() => undefined)) as unknown;
  if (command === "revoke") {
    const entry = body as RevocationEntry;
    if (typeof entry?.id !== "string") throw new CliError(`the gate answered ${res.status} without an entry`);
    out.stdout(values.json === true ? `${JSON.stringify(entry)}\n` : `revoked ${entry.id}: ${describe(entry)}, ${entry.expiresAt === undefined ? "until deleted" : `until ${entry.expiresAt}`}\n`);
    return 0;
  }
  const list = (body as { revocations?: unknown })?.revocations;
  if (!Array.isArray(list)) throw new CliError(`the gate answered ${res.status} without a list of revocations`);
  out.stdout(values.json === true ? `${JSON.stringify(body)}\n` : table(list as RevocationEntry[]));
  return 0;
}

/** One line saying what the gate answered: its problem code and detail when it sent one. */
export async function refusal(res: Response, gate: URL): Promise<string> {
  const type = res.headers.get("content-type") ?? "";
  if (/^application\/problem\+json/i.test(type)) {
    const p = (await res.json().catch(() => ({}))) as { code?: unknown; detail?: unknown };
    const code = typeof p.code === "string" ? ` ${clean(p.code)}` : "";
    const detail = typeof p.detail === "string" ? `: ${clean(p.detail)}` : "";
    return `the gate refused (${res.status}${code})${detail}`;
  }
  if (res.status >= 300 && res.status < 400) return `the gate answered ${res.status} (a redirect, not followed): check --gate ${gate.origin}`;
  return `the gate answered ${res.status} ${clean(res.statusText)}: is ${gate.origin} an sts-gate?`.replace(/ +:/, ":");
}

function describe(e: RevocationEntry): string {
  if (e.accessKeyId !== undefined) return `access key ${e.accessKeyId}`;
  if (e.principal !== undefined) return `principal ${e.principal}`;
  return `account ${e.account}`;
}

function table(entries: RevocationEntry[]): string {
  if (entries.length === 0) return "no active revocations\n";
  const rows = [
    ["ID", "SELECTOR", "VALUE", "EXPIRES", "CREATED", "CREATED BY", "REASON"],
    ...entries.map((e) => {
      const [kind, value] = e.accessKeyId !== undefined ? ["accessKeyId", e.accessKeyId] : e.principal !== undefined ? ["principal", e.principal] : ["account", e.account];
      return [e.id, kind, value, e.expiresAt ?? "never", e.createdAt, e.createdBy, e.reason].map((v) => clean(String(v ?? "")));
    }),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n") + "\n";
}

/** What the gate sends is printed on a terminal: no control characters. */
function clean(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, "?").slice(0, 500);
}

/** The local check speaks of the API's fields; the operator typed flags. */
function flagNames(detail: string): string {
  return lowerFirst(
    detail
      .replace(/^accessKeyId:/, "--access-key:")
      .replace(/^principal:/, "--principal:")
      .replace(/^account:/, "--account:")
      .replace(/^reason:/, "--reason:")
      .replace(/^expiresAt:/, "--expires:")
      .replace(/\.$/, ""),
  );
}

type Values = Record<string, string | boolean | undefined>;

function parse(command: RevocationCommand, args: string[]): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args, options: OPTIONS[command], strict: true, allowPositionals: command === "unrevoke" || args.includes("--help") || args.includes("-h") });
  } catch (error) {
    const message = firstLine(error).replace(/\. To specify a positional.*$/, "");
    throw new CliError(`${lowerFirst(message)}; run 'sts-gate ${command} --help'`, 2);
  }
}

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}
