/**
 * Runs in Node before the workerd tests. Builds the CLI exactly as `npm run build:cli` does
 * (the published `bin`), runs it as a child process in isolated environments (temporary
 * shared config and credentials files, no inherited AWS_* variables, no instance metadata),
 * and provides the results to the tests (`inject("cliRuns")`), which send the tokens through
 * the gate and the STS emulator.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import type { TestProject } from "vitest/node";
import identities from "../emulator/identities.json";
import type { CliRun, CliRuns } from "./runs";
import "./runs";

const ROOT = resolve(".");
const BIN = join(ROOT, "dist/cli/sts-gate.js");
const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");
export const AUDIENCE = "sts-gate-test";

function creds(name: string): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  const found = identities.identities.find((i) => i.name === name);
  if (!found) throw new Error(`no emulator identity ${name}`);
  return found;
}

function envCreds(name: string): Record<string, string> {
  const c = creds(name);
  return {
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    ...(c.sessionToken ? { AWS_SESSION_TOKEN: c.sessionToken } : {}),
  };
}

interface Case {
  args: string[];
  env?: Record<string, string>;
  /** Run the TypeScript source with tsx (`npm run sts-gate`) instead of the built bin. */
  source?: boolean;
  /** Point AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE at files that do not exist. */
  noFiles?: boolean;
  /** Another TypeScript entry point, run with tsx (`npm run policy` is src/cli/policy.ts). */
  script?: string;
  /** Execute the built bin itself, as a shell does (so it must be executable), not through node. */
  direct?: boolean;
  /** Record (and refuse) every outgoing connection: network-watch.mjs, preloaded. */
  watchNetwork?: boolean;
}

const token = (...more: string[]) => ["token", "--audience", AUDIENCE, ...more];

const CASES: Record<string, Case> = {
  // Credentials from a named profile in the shared credentials file; Region from the profile.
  "profile-flag": { args: token("--profile", "gate-alice") },
  // The same through AWS_PROFILE, with a session token, as a curl header.
  "profile-env-session": { args: token("--format", "header"), env: { AWS_PROFILE: "gate-deployer" } },
  // AWS_REGION beats the profile's region.
  "profile-region-from-env": { args: token("--profile", "gate-alice"), env: { AWS_REGION: "ap-southeast-2" } },
  // Credentials from environment variables; no Region anywhere: us-east-1.
  "env-exec-credential": { args: token("--format", "exec-credential"), env: envCreds("alice"), noFiles: true },
  "env-session-global": { args: token("--global"), env: { ...envCreds("deployer"), AWS_REGION: "eu-west-1" }, noFiles: true },
  "env-default-region": { args: token(), env: { ...envCreds("alice"), AWS_DEFAULT_REGION: "ca-central-1" }, noFiles: true },
  "env-region-flag": { args: token("--region", "us-west-1"), env: { ...envCreds("alice"), AWS_REGION: "eu-west-1" }, noFiles: true },
  // The development path: the TypeScript source through tsx.
  "source-env": { args: token("--region", "sa-east-1"), env: envCreds("alice"), noFiles: true, source: true },
  // Errors.
  "no-credentials": { args: token(), noFiles: true },
  "unknown-profile-flag": { args: token("--profile", "nope") },
  "unknown-profile-env": { args: token(), env: { AWS_PROFILE: "nope" } },
  "credential-process-fails": { args: token("--profile", "broken") },
  "bad-region-flag": { args: token("--region", "mars-west-1"), env: envCreds("alice"), noFiles: true },
  "bad-region-env": { args: token(), env: { ...envCreds("alice"), AWS_REGION: "Nowhere" }, noFiles: true },
  "bad-audience": { args: ["token", "--audience", "has space"], env: envCreds("alice"), noFiles: true },
  "missing-audience": { args: ["token"], env: envCreds("alice"), noFiles: true },
  "bad-format": { args: token("--format", "yaml"), env: envCreds("alice"), noFiles: true },
  "unknown-option": { args: token("--cluster", "x"), env: envCreds("alice"), noFiles: true },
  "unknown-command": { args: ["frobnicate"] },
  // Help.
  "help": { args: ["--help"] },
  "token-help": { args: ["token", "--help"] },
  "token-help-source": { args: ["token", "-h"], source: true },
  "no-arguments": { args: [] },
  // The built bin is executable: run as a command, not as an argument to node.
  "bin-direct": { args: ["--help"], direct: true },
  // sts-gate doctor on sample configurations (test/fixtures/deploy/).
  "doctor-sound": { args: ["doctor", "--config", "test/fixtures/deploy/sound.toml"] },
  "doctor-sound-env": { args: ["doctor", "--config", "test/fixtures/deploy/sound.toml", "--env", "staging"] },
  "doctor-broken": { args: ["doctor", "--config", "test/fixtures/deploy/broken.toml"] },
  "doctor-no-one": { args: ["doctor", "--config", "test/fixtures/deploy/broken.toml", "--env", "no-one"] },
  "doctor-invalid": { args: ["doctor", "--config", "test/fixtures/deploy/broken.toml", "--env=invalid"] },
  "doctor-unknown-env": { args: ["doctor", "--config", "test/fixtures/deploy/sound.toml", "--env", "prod"] },
  "doctor-missing-file": { args: ["doctor", "--config", "test/fixtures/deploy/nope.toml"] },
  "doctor-help": { args: ["doctor", "--help"] },
  "doctor-source": { args: ["doctor", "--config", "test/fixtures/deploy/sound.toml"], source: true },
  // sts-gate probe: what can be checked without the network (tests reach STS through runProbe).
  "probe-help": { args: ["probe", "--help"] },
  "probe-missing-audience": { args: ["probe"], env: envCreds("alice"), noFiles: true, watchNetwork: true },
  "probe-no-credentials": { args: ["probe", "--audience", AUDIENCE], noFiles: true, watchNetwork: true },
  "probe-bad-config": { args: ["probe", "--config", "test/fixtures/deploy/sound.toml", "--env", "prod"], env: envCreds("alice"), noFiles: true, watchNetwork: true },
  // With APPS, --app picks the app: its audience is the default (nothing else can be, so no --audience here).
  "probe-apps-no-app": { args: ["probe", "--config", "test/fixtures/deploy/apps.toml"], env: envCreds("alice"), noFiles: true, watchNetwork: true },
  "probe-apps-unknown-app": { args: ["probe", "--config", "test/fixtures/deploy/apps.toml", "--app", "blog"], env: envCreds("alice"), noFiles: true, watchNetwork: true },
  "probe-app-single-app": { args: ["probe", "--config", "test/fixtures/deploy/sound.toml", "--app", "docs"], env: envCreds("alice"), noFiles: true, watchNetwork: true },
  "probe-app-no-config": { args: ["probe", "--audience", AUDIENCE, "--app", "docs"], env: envCreds("alice"), noFiles: true, watchNetwork: true },
  "probe-app-reaches-sts": { args: ["probe", "--config", "test/fixtures/deploy/apps.toml", "--app", "docs", "--region", "eu-west-1"], env: envCreds("alice"), noFiles: true, watchNetwork: true },
  // The watch's control: a probe that gets as far as STS (the watch refuses the connection).
  "probe-reaches-sts": { args: ["probe", "--audience", AUDIENCE, "--region", "eu-west-1"], env: envCreds("alice"), noFiles: true, watchNetwork: true },
  // npm run policy -- check on a wrangler.toml.
  "policy-toml": { args: ["check", "test/fixtures/deploy/sound.toml"], script: "src/cli/policy.ts" },
  "policy-toml-env": { args: ["check", "test/fixtures/deploy/sound.toml", "--env", "staging"], script: "src/cli/policy.ts" },
  "policy-toml-no-one": { args: ["check", "test/fixtures/deploy/broken.toml", "--env", "no-one"], script: "src/cli/policy.ts" },
};

function run(file: string, args: string[], env: Record<string, string>, direct = false): Promise<Omit<CliRun, "args">> {
  return new Promise((done) => {
    // The cast: worker-configuration.d.ts types process.env as the Worker's vars.
    const options = { env: env as typeof process.env, cwd: ROOT, timeout: 30_000, encoding: "utf8" as const };
    const [command, argv] = direct ? [file, args] : [process.execPath, [file, ...args]];
    execFile(command, argv, options, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      done({ code, stdout, stderr });
    });
  });
}

function npmRun(script: string): Promise<void> {
  // Under `npm test`, npm_execpath is npm's own CLI script; otherwise npm is on PATH.
  const npm = process.env.npm_execpath;
  const [file, args] = npm ? [process.execPath, [npm, "run", "--silent", script]] : ["npm", ["run", "--silent", script]];
  return new Promise((done, fail) => {
    execFile(file, args as string[], { cwd: ROOT, env: process.env, timeout: 60_000, encoding: "utf8" }, (error, _stdout, stderr) => {
      if (error) fail(new Error(`npm run ${script} failed: ${stderr}`));
      else done();
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // `npm run mutation` runs only the tests of the gate's rules, thousands of times over: it
  // skips building and running the CLI, which no test outside test/cli needs.
  if (process.env.STS_GATE_SKIP_CLI_SETUP === "1") return async () => {};
  const dir = await mkdtemp(join(tmpdir(), "sts-gate-cli-"));
  const alice = creds("alice");
  const deployer = creds("deployer");
  await writeFile(
    join(dir, "credentials"),
    [
      "[gate-alice]",
      `aws_access_key_id = ${alice.accessKeyId}`,
      `aws_secret_access_key = ${alice.secretAccessKey}`,
      "",
      "[gate-deployer]",
      `aws_access_key_id = ${deployer.accessKeyId}`,
      `aws_secret_access_key = ${deployer.secretAccessKey}`,
      `aws_session_token = ${deployer.sessionToken}`,
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "config"),
    [
      "[profile gate-alice]",
      "region = us-west-2",
      "",
      "[profile gate-deployer]",
      "region = eu-west-1",
      "",
      "[profile broken]",
      "credential_process = sh -c 'echo credential helper exploded >&2; exit 3'",
      "",
    ].join("\n"),
  );

  await npmRun("build:cli");

  const runs: CliRuns = {};
  await Promise.all(
    Object.entries(CASES).map(async ([name, c]) => {
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        USERPROFILE: dir,
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_CONFIG_FILE: join(dir, c.noFiles ? "missing-config" : "config"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, c.noFiles ? "missing-credentials" : "credentials"),
        ...c.env,
      };
      const networkLog = join(dir, `network-${name}.log`);
      if (c.watchNetwork) {
        await writeFile(networkLog, "");
        env.STS_GATE_NETWORK_LOG = networkLog;
        env.NODE_OPTIONS = `--import=${pathToFileURL(join(ROOT, "test/cli/network-watch.mjs")).href}`;
      }
      const source = c.script ?? (c.source ? "src/cli/sts-gate.ts" : undefined);
      const result = source !== undefined ? await run(TSX, [join(ROOT, source), ...c.args], env) : await run(BIN, c.args, env, c.direct);
      const connections = c.watchNetwork ? (await readFile(networkLog, "utf8")).split("\n").filter((l) => l !== "") : undefined;
      runs[name] = { args: c.args, ...result, ...(connections ? { connections } : {}) };
    }),
  );
  project.provide("cliRuns", runs);

  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
