/**
 * `sts-gate`: the caller's command line. `sts-gate token` prints a token for a gate, made
 * with the caller's AWS credentials from the SDK's default chain. Errors are one line on
 * stderr and a non-zero exit status (1: failure, 2: bad usage); never a stack trace.
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { checkAudience, createToken, resolveStsEndpoint, StsGateClientError, type GateToken } from "../client/token.ts";
import { CliError, firstLine, loadCredentials, resolveAwsSettings } from "./aws-config.ts";
import { isRevocationCommand, revocationCommand } from "./revoke.ts";

const MAIN_HELP = `Usage: sts-gate <command> [options]

Call an sts-gate with your AWS identity.

Commands:
  token        Print a bearer token for a gate (the token \`aws eks get-token\` makes)
  revoke       Revoke an access key, principal or account at a gate (admins only)
  revocations  List a gate's active revocations
  unrevoke     Delete a revocation

Options:
  -h, --help    Show this help. \`sts-gate <command> --help\` shows a command's options.

Example:
  sts-gate token --audience payments-api-prod --format header | curl -H @- https://gate.example.com/
`;

const TOKEN_HELP = `Usage: sts-gate token --audience <audience> [options]

Print a bearer token for the gate whose AUDIENCE is <audience>: a presigned
sts:GetCallerIdentity request, signed locally with your AWS credentials (nothing is
sent to AWS). The gate accepts it for 15 minutes; it is reported as expiring after 14.

Options:
  --audience <audience>  The gate's audience (required).
  --region <region>      The STS Region to sign for. Default: AWS_REGION, then
                         AWS_DEFAULT_REGION, then the profile's region, then us-east-1.
  --global               Use the global endpoint sts.amazonaws.com (signed for us-east-1).
  --profile <profile>    The AWS profile. Default: AWS_PROFILE, then "default".
  --format <format>      token            the token alone (default)
                         header           "Authorization: Bearer <token>", for curl -H @-
                         exec-credential  the ExecCredential JSON of \`aws eks get-token\`,
                                          for a kubeconfig exec plugin
  -h, --help             Show this help.

Credentials come from the AWS SDK's default chain: AWS_ACCESS_KEY_ID and friends, the
shared config and credentials files (profiles, SSO, credential_process, role assumption),
web identity, then container and instance metadata (AWS_EC2_METADATA_DISABLED=true skips
the instance metadata lookup).

Exit status: 0 on success, 1 if no token could be made, 2 for bad usage.
`;

const FORMATS = ["token", "header", "exec-credential"] as const;
type Format = (typeof FORMATS)[number];

interface Output {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export async function main(argv: string[], env: Record<string, string | undefined>, out: Output): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === "-h" || command === "--help" || command === "help") {
      out.stdout(MAIN_HELP);
      return 0;
    }
    if (command === undefined) {
      out.stderr(MAIN_HELP);
      return 2;
    }
    if (command === "token") return await tokenCommand(rest, env, out);
    if (isRevocationCommand(command)) return await revocationCommand(command, rest, env, out);
    throw new CliError(`unknown command ${JSON.stringify(command)}; run 'sts-gate --help'`, 2);
  } catch (error) {
    if (error instanceof CliError) {
      out.stderr(`sts-gate: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof StsGateClientError) {
      out.stderr(`sts-gate: ${lowerFirst(error.message)}\n`);
      return error.code === "region_invalid" || error.code === "audience_invalid" ? 2 : 1;
    }
    out.stderr(`sts-gate: ${firstLine(error)}\n`);
    return 1;
  }
}

async function tokenCommand(args: string[], env: Record<string, string | undefined>, out: Output): Promise<number> {
  const values = parse(args, {
    audience: { type: "string" },
    region: { type: "string" },
    global: { type: "boolean" },
    profile: { type: "string" },
    format: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help === true) {
    out.stdout(TOKEN_HELP);
    return 0;
  }
  const audience = stringFlag(values, "audience");
  if (audience === undefined) throw new CliError("--audience is required; run 'sts-gate token --help'", 2);
  const format = (stringFlag(values, "format") ?? "token") as Format;
  if (!FORMATS.includes(format)) {
    throw new CliError(`--format must be one of ${FORMATS.join(", ")}`, 2);
  }
  const settings = await resolveAwsSettings({ profile: stringFlag(values, "profile"), region: stringFlag(values, "region") }, env);
  const global = values.global === true;
  const region = settings.region;
  // Check the audience and Region before asking for credentials, which may run a
  // credential_process or call SSO.
  checkAudience(audience);
  try {
    resolveStsEndpoint(region, global);
  } catch (error) {
    if (error instanceof StsGateClientError) {
      throw new CliError(`${lowerFirst(error.message).replace(/\.$/, "")} (the region came from ${settings.regionSource})`, 2);
    }
    throw error;
  }
  const credentials = await loadCredentials(settings, env, (line) => out.stderr(`sts-gate: warning: ${line}\n`));
  const token = await createToken({ credentials, audience, region, global });
  out.stdout(render(token, format));
  return 0;
}

function render(token: GateToken, format: Format): string {
  switch (format) {
    case "token":
      return `${token.token}\n`;
    case "header":
      return `Authorization: Bearer ${token.token}\n`;
    case "exec-credential":
      return `${execCredential(token)}\n`;
  }
}

/**
 * The JSON `aws eks get-token` prints, byte for byte (Python's `json.dumps` separators,
 * checked against aws-cli/2.9.19): kubectl's client.authentication.k8s.io/v1beta1 ExecCredential.
 */
export function execCredential(token: GateToken): string {
  const expirationTimestamp = token.expiresAt.toISOString().replace(/\.\d{3}Z$/, "Z");
  const q = JSON.stringify;
  return (
    `{${q("kind")}: ${q("ExecCredential")}, ${q("apiVersion")}: ${q("client.authentication.k8s.io/v1beta1")}, ` +
    `${q("spec")}: {}, ${q("status")}: {${q("expirationTimestamp")}: ${q(expirationTimestamp)}, ${q("token")}: ${q(token.token)}}}`
  );
}

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

function parse(args: string[], options: OptionSpec): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // parseArgs' messages are one line; the first sentence is the useful part.
    const message = firstLine(error).replace(/\. To specify a positional.*$/, "");
    throw new CliError(`${lowerFirst(message)}; run 'sts-gate token --help'`, 2);
  }
}

function lowerFirst(text: string): string {
  return text.replace(/^[A-Z](?![A-Z])/, (c) => c.toLowerCase());
}

function stringFlag(values: Record<string, string | boolean | undefined>, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

process.exitCode = await main(process.argv.slice(2), process.env, {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
});
