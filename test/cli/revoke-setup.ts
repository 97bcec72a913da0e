/**
 * Runs in Node after global-setup.ts has built the CLI: starts the gate in workerd (Miniflare,
 * with local KV and the STS emulator) on a loopback port, and drives `sts-gate revoke`,
 * `revocations` and `unrevoke` against it as child processes, in order, with the emulator's
 * credentials: alice is the gate's admin, deployer is not. Between steps it calls the gate with
 * the deployer's token, so the tests see the revocation take effect and lift. The results go to
 * the workerd tests as inject("revokeRuns").
 */
import { execFile } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import process from "node:process";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import type { TestProject } from "vitest/node";
import { bundleWorker } from "../support/bundle";
import { keepLogLines } from "../support/log-lines";
import identities from "../emulator/identities.json";
import type { CliRun, RevokeRuns } from "./runs";
import "./runs";

const ROOT = resolve(".");
const BIN = join(ROOT, "dist/cli/sts-gate.js");
const AUDIENCE = "sts-gate-test";
const A = "111122223333";

function envCreds(name: string): Record<string, string> {
  const c = identities.identities.find((i) => i.name === name)!;
  return {
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    ...(c.sessionToken ? { AWS_SESSION_TOKEN: c.sessionToken } : {}),
  };
}

function bundle(entry: string, outfile: string): Promise<string> {
  return bundleWorker(ROOT, entry, outfile);
}

function run(args: string[], who: string | null): Promise<CliRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: "/nonexistent",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/nonexistent/config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    ...(who === null ? {} : envCreds(who)),
  };
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env: env as unknown as typeof process.env, cwd: ROOT, timeout: 30_000, encoding: "utf8" }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      done({ args, code, stdout, stderr });
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.STS_GATE_SKIP_CLI_SETUP === "1") return async () => {};
  const dir = join(ROOT, "dist/test/revoke");
  await mkdir(dir, { recursive: true });
  const [gateJs, emulatorJs] = await Promise.all([bundle("src/worker.ts", join(dir, "gate.js")), bundle("test/emulator/worker.ts", join(dir, "sts-emulator.js"))]);
  const date = /^compatibility_date\s*=\s*"([0-9-]+)"/m.exec(await readFile(join(ROOT, "wrangler.toml"), "utf8"))![1]!;
  const runs: RevokeRuns = { runs: {}, calls: {}, lines: [] };
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      enableDevRegistry: false,
      // Kept for the tests (the admin API's audit lines), not printed into a passing run.
      handleStructuredLogs: keepLogLines(runs.lines),
      telemetry: { enabled: false },
      workers: [
        {
          name: "gate",
          modules: true,
          scriptPath: gateJs,
          compatibilityDate: date,
          bindings: {
            AUDIENCE,
            ORIGIN_URL: "http://origin.local",
            POLICY: JSON.stringify({ allow: [`arn:aws:iam::${A}:user/alice`, `arn:aws:iam::${A}:role/deployer`], admins: [`arn:aws:iam::${A}:user/alice`] }),
          },
          kvNamespaces: ["IDENTITY_CACHE"],
          serviceBindings: { STS: "sts-emulator", ORIGIN: "origin" },
        },
        { name: "sts-emulator", modules: true, scriptPath: emulatorJs, compatibilityDate: date },
        { name: "origin", modules: true, script: `export default { fetch: () => new Response("from the origin") };`, compatibilityDate: date },
      ],
    }),
  );
  const gate = (await mf.ready).toString().replace(/\/$/, "");
  const common = ["--gate", gate, "--audience", AUDIENCE];
  /** The deployer calls the gate, with a token the CLI makes. */
  const deployerCalls = async (): Promise<{ status: number; body: string }> => {
    const t = await run(["token", "--audience", AUDIENCE, "--format", "token"], "deployer");
    const res = await fetch(`${gate}/x`, { headers: { authorization: `Bearer ${t.stdout.trim()}` } });
    return { status: res.status, body: await res.text() };
  };

  const step = async (name: string, args: string[], who: string | null = "alice") => {
    runs.runs[name] = await run(args, who);
    return runs.runs[name]!;
  };
  try {
    runs.calls.before = await deployerCalls();
    const revoked = await step("revoke", ["revoke", ...common, "--access-key", "ASIAEMULATORDEPLOY01", "--reason", "leaked in a CI log", "--json"]);
    runs.calls.revoked = await deployerCalls();
    await step("revoke-text", ["revoke", ...common, "--account", "444455556666", "--reason", "a stranger's account", "--expires", "2999-01-01T00:00:00Z"]);
    await step("revocations", ["revocations", ...common]);
    await step("revocations-json", ["revocations", ...common, "--json"]);
    const id = (JSON.parse(revoked.stdout || "{}") as { id?: string }).id ?? "missing";
    await step("unrevoke", ["unrevoke", ...common, id]);
    runs.calls.unrevoked = await deployerCalls();
    await step("revoke-not-admin", ["revoke", ...common, "--account", A, "--reason", "r"], "deployer");
    await step("unrevoke-again", ["unrevoke", ...common, id]);
    // Errors, one line each.
    await step("gate-not-https", ["revocations", "--gate", "http://gate.example.com", "--audience", AUDIENCE]);
    await step("two-selectors", ["revoke", ...common, "--access-key", "ASIAEMULATORDEPLOY01", "--account", A, "--reason", "r"]);
    await step("no-selector", ["revoke", ...common, "--reason", "r"]);
    await step("no-reason", ["revoke", ...common, "--access-key", "ASIAEMULATORDEPLOY01"]);
    await step("bad-key", ["revoke", ...common, "--access-key", "not-a-key", "--reason", "r"]);
    await step("past-expiry", ["revoke", ...common, "--account", A, "--reason", "r", "--expires", "2001-01-01T00:00:00Z"]);
    await step("no-gate", ["revocations", "--audience", AUDIENCE]);
    await step("unreachable", ["revocations", "--gate", "http://127.0.0.1:9", "--audience", AUDIENCE]);
    await step("no-credentials", ["revocations", ...common], null);
    await step("revoke-help", ["revoke", "--help"], null);
  } finally {
    await mf.dispose();
  }
  project.provide("revokeRuns", runs);
  return async () => {};
}
