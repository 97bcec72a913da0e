/**
 * `sts-gate whoami`: who the gate thinks the caller is. Signs a token for the gate's audience
 * with the caller's AWS credentials (as `sts-gate token` does) and asks
 * /.well-known/sts-gate/whoami, which answers whether or not the policy would let the caller in.
 */
import { parseArgs } from "node:util";
import { checkAudience, createToken, resolveStsEndpoint, StsGateClientError } from "../client/token.ts";
import { CALLER_OPTIONS, CliError, firstLine, loadCredentials, resolveAwsSettings } from "./aws-config.ts";
import { gateUrl } from "./gate-url.ts";
import { refusal } from "./revoke.ts";

export const WHOAMI_HELP = `Usage: sts-gate whoami --gate <url> --audience <audience> [options]

Ask the gate who it thinks you are: it verifies a token made with your AWS credentials
and prints the identity it sees, one field a line (arn, principal, account, userId,
type), whether or not its policy would let you in. The first thing to run when the
gate says 403.

Options:
  --gate <url>           The gate's URL, https (http only for a loopback host). Required.
  --audience <audience>  The gate's audience (of the app serving that host). Required.
  --region <region>      The STS Region to sign for (default as for \`sts-gate token\`).
  --global               Use the global endpoint sts.amazonaws.com.
  --profile <profile>    The AWS profile. Default: AWS_PROFILE, then "default".
  -h, --help             Show this help.

Exit status: 0 on success, 1 if the gate could not be reached or refused the token,
2 for bad usage.
`;

type Env = Record<string, string | undefined>;
type Fetch = (input: string, init: RequestInit) => Promise<Response>;
interface Output {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const FIELDS = ["arn", "principal", "account", "userId", "type"] as const;
const WHOAMI_PATH = "/.well-known/sts-gate/whoami";

export async function whoamiCommand(args: string[], env: Env, out: Output, fetchImpl: Fetch = fetch): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args, options: { gate: { type: "string" }, ...CALLER_OPTIONS }, strict: true, allowPositionals: false }).values as typeof values;
  } catch (error) {
    throw new CliError(`${firstLine(error).replace(/\. To specify a positional.*$/, "").replace(/^[A-Z](?![A-Z])/, (c) => c.toLowerCase())}; run 'sts-gate whoami --help'`, 2);
  }
  if (values.help === true) {
    out.stdout(WHOAMI_HELP);
    return 0;
  }
  const usage = (message: string) => new CliError(`${message}; run 'sts-gate whoami --help'`, 2);
  const gate = gateUrl(typeof values.gate === "string" ? values.gate : undefined, usage);
  const audience = typeof values.audience === "string" ? values.audience : undefined;
  if (audience === undefined) throw usage("--audience is required");
  const settings = await resolveAwsSettings({ profile: typeof values.profile === "string" ? values.profile : undefined, region: typeof values.region === "string" ? values.region : undefined }, env);
  const global = values.global === true;
  try {
    checkAudience(audience);
    resolveStsEndpoint(settings.region, global);
  } catch (error) {
    if (error instanceof StsGateClientError) throw new CliError(error.message.replace(/^[A-Z](?![A-Z])/, (c) => c.toLowerCase()).replace(/\.$/, ""), 2);
    throw error;
  }
  const credentials = await loadCredentials(settings, env, (line) => out.stderr(`sts-gate: warning: ${line}\n`));
  const { token } = await createToken({ credentials, audience, region: settings.region, global });
  let res: Response;
  try {
    res = await fetchImpl(new URL(WHOAMI_PATH, gate).toString(), {
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
      // The token is for this gate only: never follow it elsewhere.
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new CliError(`could not reach the gate at ${gate.origin}: ${firstLine(error)}`);
  }
  if (res.status !== 200) throw new CliError(await refusal(res, gate));
  const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (body === undefined || FIELDS.some((f) => typeof body[f] !== "string")) throw new CliError(`the gate answered ${res.status} without an identity: is ${gate.origin} an sts-gate with whoami?`);
  // Printed on a terminal: no control characters.
  out.stdout(FIELDS.map((f) => `${f}: ${String(body[f]).replace(/[\x00-\x1f\x7f]/g, "?")}\n`).join(""));
  return 0;
}
