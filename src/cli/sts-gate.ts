/**
 * `sts-gate`: the command line. `sts-gate token` prints a token for a gate, made with the
 * caller's AWS credentials from the SDK's default chain; `sts-gate doctor` checks a deploy
 * configuration offline; `sts-gate probe` runs the gate's own code against real STS. Errors
 * are one line on stderr and a non-zero exit status (1: failure, 2: bad usage); never a stack
 * trace.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import { checkAudience, createToken, resolveStsEndpoint, StsGateClientError, type GateToken } from "../client/token.ts";
import { CALLER_OPTIONS, CliError, firstLine, loadCredentials, lowerFirst, resolveAwsSettings } from "./aws-config.ts";
import { allowedOrigin, identifyWithSts, loopbackListenAddress, PROXY_DEFAULT_HOST, PROXY_DEFAULT_PORT, proxyGateUrl, startProxy } from "./proxy.ts";
import { isRevocationCommand, revocationCommand } from "./revoke.ts";
import { runDoctor } from "./doctor.ts";
import { runProbe } from "./probe.ts";
import { whoamiCommand } from "./whoami.ts";
import { deployedScope, readDeployTarget, WranglerConfigError } from "./wrangler-config.ts";

const MAIN_HELP = `Usage: sts-gate <command> [options]

Call an sts-gate with your AWS identity.

Commands:
  token        Print a bearer token for a gate (the token \`aws eks get-token\` makes)
  doctor       Check a gate's deploy configuration (wrangler.toml) offline
  probe        Mint a token and run the gate's validation, STS exchange, identity and
               policy code on it against the real STS endpoint
  proxy        Listen on this machine and forward every request to a gate with your
               identity, so curl, a browser or any HTTP client can call through it
  revoke       Revoke an access key, principal or account at a gate (admins only)
  revocations  List a gate's active revocations
  unrevoke     Delete a revocation
  whoami       Ask a gate who it thinks you are (whatever its policy says)

Options:
  -h, --help    Show this help. \`sts-gate <command> --help\` shows a command's options.

Example:
  sts-gate token --audience payments-api-prod --format header | curl -H @- https://gate.example.com/
`;

const DOCTOR_HELP = `Usage: sts-gate doctor [--config wrangler.toml] [--env NAME]

Check a gate's deploy configuration offline, before \`wrangler deploy\`. Reports, one
line each: a placeholder or missing IDENTITY_CACHE KV namespace; a missing AUDIENCE; a
missing, non-https or example ORIGIN_URL (*.example.com, localhost); an invalid POLICY or
one that admits no one; an STS or ORIGIN service binding (development only); a private
key in vars (it belongs in \`wrangler secret put\`); and anything the gate itself would
refuse at its first request. With APPS, each app's origin, hosts and policy are checked
the same way, and each problem is named by its app: APPS[1] (docs): ...

Options:
  --config <file>  The wrangler configuration. Default: wrangler.toml.
  --env <name>     The environment to check ([env.<name>]). Default: the top level, which
                   is what \`wrangler deploy --env=""\` deploys.
  -h, --help       Show this help.

Exit status: 0 and the policy summary \`npm run policy -- check\` prints when the
configuration is sound, 1 with one line per problem otherwise, 2 for bad usage or a file
that cannot be read.
`;

const PROBE_HELP = `Usage: sts-gate probe --audience <audience> [options]

Verify the production path before a deploy, on a machine with internet access and AWS
credentials: mint a token, then run the gate's own code on it: its local validation, the
STS exchange against the real STS endpoint, and its identity rules. Prints the HTTP status
and content type STS answered with, the identity, whether the gate's policy admits it
(with --config), and every difference from what the gate expects.

Options:
  --audience <audience>  The gate's audience. Default with --config: its AUDIENCE (with
                         APPS, the app's audience).
  --region <region>      The STS Region (as for \`sts-gate token\`).
  --global               Use the global endpoint sts.amazonaws.com.
  --profile <profile>    The AWS profile. Default: AWS_PROFILE, then "default".
  --config <file>        The gate's wrangler configuration, for its POLICY and AUDIENCE.
  --env <name>           The environment of --config. Default: the top level.
  --app <name>           With APPS in --config (required there): the app whose audience,
                         path prefix, public paths and policy are asked.
  --method <method>      The request to ask the policy about. Default: GET.
  --path <path>          Default: the app's pathPrefix, or /.
  -h, --help             Show this help.

Exit status: 0 when STS answered as the gate expects and (with --config) the policy admits
the caller or the path is public, 1 otherwise, 2 for bad usage.
`;

const TOKEN_HELP = `Usage: sts-gate token --audience <audience> [options]

Print a bearer token for the gate whose AUDIENCE is <audience>: a presigned
sts:GetCallerIdentity request, signed locally with your AWS credentials (nothing is
sent to AWS). A gate accepts it for up to 15 minutes (less where it sets
TOKEN_MAX_AGE_SECONDS); it is reported as expiring after 14.

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

const PROXY_HELP = `Usage: sts-gate proxy --gate <url> --audience <audience> [options]

Listen on a loopback address and forward every request to the gate with
"Authorization: Bearer <token>", so curl, Postman, a browser, k6 or any HTTP client can
call through it. Everything else passes as sent: method, path, query, headers and body,
streamed both ways; WebSocket upgrades too. One token is reused and a fresh one minted
before the old one is 5 minutes old, from the same credentials as \`sts-gate token\`.

Options:
  --gate <url>             The gate's URL, https (http only for a loopback host). Required.
  --audience <audience>    The gate's audience. Required.
  --port <port>            The port to listen on. Default: 8181 (0: any free port).
  --host <address>         The loopback address to listen on: 127.0.0.1 (default),
                           another 127.x.x.x, ::1 or localhost. Any other exits 2.
  --allow-origin <origin>  A web page origin (scheme://host[:port]) allowed to call the
                           proxy from a browser, besides the proxy's own. Repeatable.
  --region <region>        The STS Region (as for \`sts-gate token\`).
  --global                 Use the global endpoint sts.amazonaws.com.
  --profile <profile>      The AWS profile. Default: AWS_PROFILE, then "default".
  -h, --help               Show this help.

When it is ready it prints one line on stdout:
  sts-gate proxy: http://127.0.0.1:<port> -> <gate> as <arn>
then one line per request on stderr: method, path, status, milliseconds. A request
whose Host is not the proxy's own address, or whose Origin is another web page's, is
answered 403 and forwarded nowhere. No token is ever printed.

Exit status: 0 after Ctrl-C (SIGINT) or SIGTERM, 1 if no token could be made or the
gate could not be reached, 2 for bad usage.
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
    if (command === "doctor") return doctorCommand(rest, out);
    if (command === "probe") return await probeCommand(rest, env, out);
    if (command === "proxy") return await proxyCommand(rest, env, out);
    if (command === "whoami") return await whoamiCommand(rest, env, out);
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
  const values = parse("token", args, { ...CALLER_OPTIONS, format: { type: "string" } });
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
  const signing = await signingSetup(values, audience, env, out);
  const token = await createToken(signing);
  out.stdout(render(token, format));
  return 0;
}

/** The audience, Region and credentials to sign with, checked in that order. */
async function signingSetup(values: Values, audience: string, env: Record<string, string | undefined>, out: Output) {
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
  return { credentials, audience, region, global };
}

function doctorCommand(args: string[], out: Output): number {
  const values = parse("doctor", args, { config: { type: "string" }, env: { type: "string" }, help: { type: "boolean", short: "h" } });
  if (values.help === true) {
    out.stdout(DOCTOR_HELP);
    return 0;
  }
  const file = stringFlag(values, "config") ?? "wrangler.toml";
  const outcome = runDoctor(file, readConfig(file), stringFlag(values, "env"));
  out.stdout(outcome.stdout);
  out.stderr(outcome.stderr);
  return outcome.exitCode;
}

async function probeCommand(args: string[], env: Record<string, string | undefined>, out: Output): Promise<number> {
  const values = parse("probe", args, {
    ...CALLER_OPTIONS,
    config: { type: "string" },
    env: { type: "string" },
    app: { type: "string" },
    method: { type: "string" },
    path: { type: "string" },
  });
  if (values.help === true) {
    out.stdout(PROBE_HELP);
    return 0;
  }
  const file = stringFlag(values, "config");
  const app = stringFlag(values, "app");
  let config: { file: string; target: ReturnType<typeof readDeployTarget>; app?: string } | undefined;
  if (file !== undefined) {
    try {
      config = { file, target: readDeployTarget(readConfig(file), stringFlag(values, "env")), ...(app === undefined ? {} : { app }) };
    } catch (error) {
      if (error instanceof WranglerConfigError) throw new CliError(`${file} ${error.message}`, 2);
      throw error;
    }
  } else if (stringFlag(values, "env") !== undefined || app !== undefined) {
    throw new CliError(`${app === undefined ? "--env" : "--app"} needs --config; run 'sts-gate probe --help'`, 2);
  }
  // Checked before any signing: which audience and policy the probe asks about.
  const scope = config && deployedScope(config.file, config.target, config.app);
  if (scope !== undefined && "error" in scope) throw new CliError(scope.error, 2);
  const audience = stringFlag(values, "audience") ?? scope?.audience;
  if (audience === undefined && scope?.app !== undefined) throw new CliError(`${scope.label} has no audience: the gate would answer 500 misconfigured (run sts-gate doctor), or pass --audience`, 2);
  if (audience === undefined) throw new CliError("--audience is required (or --config with an AUDIENCE, or with APPS and --app); run 'sts-gate probe --help'", 2);
  const method = (stringFlag(values, "method") ?? "GET").toUpperCase();
  const path = stringFlag(values, "path");
  if (path !== undefined && !path.startsWith("/")) throw new CliError("--path must start with /", 2);
  const signing = await signingSetup(values, audience, env, out);
  // The network's fetch, always: the probe exists to reach the real STS endpoint.
  const outcome = await runProbe({ ...signing, config, method, path }, { fetch: (request) => fetch(request) });
  out.stdout(outcome.stdout);
  out.stderr(outcome.stderr);
  return outcome.exitCode;
}

async function proxyCommand(args: string[], env: Record<string, string | undefined>, out: Output): Promise<number> {
  const values = parse("proxy", args, {
    ...CALLER_OPTIONS,
    gate: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    "allow-origin": { type: "string", multiple: true },
  });
  if (values.help === true) {
    out.stdout(PROXY_HELP);
    return 0;
  }
  const host = stringFlag(values, "host") ?? PROXY_DEFAULT_HOST;
  // Checked first: a proxy on any other address is never started, whatever else is wrong.
  loopbackListenAddress(host);
  const gate = proxyGateUrl(stringFlag(values, "gate"));
  const audience = stringFlag(values, "audience");
  if (audience === undefined) throw new CliError("--audience is required; run 'sts-gate proxy --help'", 2);
  const portText = stringFlag(values, "port") ?? String(PROXY_DEFAULT_PORT);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new CliError(`--port must be a port number, 0 to 65535: ${JSON.stringify(portText.slice(0, 20))}`, 2);
  const allowOrigins = ((values["allow-origin"] as string[] | undefined) ?? []).map(allowedOrigin);
  const signing = await signingSetup(values, audience, env, out);
  const settings = await resolveAwsSettings({ profile: stringFlag(values, "profile"), region: stringFlag(values, "region") }, env);
  let first = true;
  const proxy = await startProxy({
    gate,
    audience,
    host,
    port: Number(portText),
    allowOrigins,
    // The first token uses the credentials already loaded; each later one loads them again (SSO credentials expire).
    credentials: async () => {
      if (first) {
        first = false;
        return signing.credentials;
      }
      return loadCredentials(settings, env, () => undefined);
    },
    region: signing.region,
    global: signing.global,
    identify: identifyWithSts(env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL, audience),
    stderr: out.stderr,
  });
  out.stdout(`sts-gate proxy: ${proxy.url} -> ${gate.href.replace(/\/$/, "")} as ${proxy.arn}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await proxy.close();
  return 0;
}

function readConfig(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${firstLine(error)}`, 2);
  }
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

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;
type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

function parse(command: string, args: string[], options: OptionSpec): Values {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // parseArgs' messages are one line; the first sentence is the useful part.
    const message = firstLine(error).replace(/\. To specify a positional.*$/, "");
    throw new CliError(`${lowerFirst(message)}; run 'sts-gate ${command} --help'`, 2);
  }
}

function stringFlag(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

process.exitCode = await main(process.argv.slice(2), process.env, {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
});
