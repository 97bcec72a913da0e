import { exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import fixtures from "../fixtures/aws-cli-tokens.json";
import type { Echo } from "../support/types";
import { stsCallsFor } from "../support/emulator";
import { decodeToken } from "../support/tokens";
import type { CliRun } from "./runs";
import "./runs";

const runs = inject("cliRuns");

function ran(name: string): CliRun {
  const r = runs[name];
  if (r === undefined) throw new Error(`no CLI run named ${name}`);
  return r;
}

/** The token a successful run printed, whatever the format. */
function tokenOf(r: CliRun): string {
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const out = r.stdout.trimEnd();
  if (out.startsWith("{")) return (JSON.parse(out) as { status: { token: string } }).status.token;
  if (out.startsWith("Authorization: Bearer ")) return out.slice("Authorization: Bearer ".length);
  return out;
}

async function throughGate(token: string): Promise<Response> {
  return exports.default.fetch("https://localhost/cli", { headers: { authorization: `Bearer ${token}` } });
}

function hostOf(token: string): string {
  return new URL(decodeToken(token)).host;
}

describe("sts-gate token: accepted by the gate through the STS emulator", () => {
  it.each([
    ["profile-flag", "arn:aws:iam::111122223333:user/alice", "sts.us-west-2.amazonaws.com"],
    ["profile-env-session", "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42", "sts.eu-west-1.amazonaws.com"],
    ["profile-region-from-env", "arn:aws:iam::111122223333:user/alice", "sts.ap-southeast-2.amazonaws.com"],
    ["env-exec-credential", "arn:aws:iam::111122223333:user/alice", "sts.us-east-1.amazonaws.com"],
    ["env-session-global", "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42", "sts.amazonaws.com"],
    ["env-default-region", "arn:aws:iam::111122223333:user/alice", "sts.ca-central-1.amazonaws.com"],
    ["env-region-flag", "arn:aws:iam::111122223333:user/alice", "sts.us-west-1.amazonaws.com"],
    ["source-env", "arn:aws:iam::111122223333:user/alice", "sts.sa-east-1.amazonaws.com"],
  ])("%s → %s via %s", async (name, arn, host) => {
    const token = tokenOf(ran(name));
    expect(hostOf(token)).toBe(host);
    const res = await throughGate(token);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Echo).headers["x-caller-arn"]).toBe(arn);
    expect(await stsCallsFor(token)).toBe(1);
  });

  it("prints `Authorization: Bearer <token>` and a newline for --format header (curl -H @-)", () => {
    expect(ran("profile-env-session").stdout).toMatch(/^Authorization: Bearer k8s-aws-v1\.[A-Za-z0-9_-]+\n$/);
  });

  it("prints the token and a newline by default", () => {
    expect(ran("profile-flag").stdout).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+\n$/);
  });

  it("prints the ExecCredential JSON byte for byte as aws eks get-token (aws-cli/2.9.19) does", () => {
    const out = ran("env-exec-credential").stdout;
    expect(out).toMatch(
      /^\{"kind": "ExecCredential", "apiVersion": "client\.authentication\.k8s\.io\/v1beta1", "spec": \{\}, "status": \{"expirationTimestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "token": "k8s-aws-v1\.[A-Za-z0-9_-]+"\}\}\n$/,
    );
    const parsed = JSON.parse(out) as { status: { expirationTimestamp: string; token: string } };
    // The expiration is the signing time plus what the recorded CLI output adds to it (14 minutes).
    const amzDate = /X-Amz-Date=(\d{8}T\d{6}Z)/.exec(decodeToken(parsed.status.token))![1]!;
    const signedAt = Date.parse(amzDate.replace(/(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z/, "$1-$2-$3T$4:$5:$6Z"));
    const recorded = fixtures.tokens[0]!;
    expect(Date.parse(parsed.status.expirationTimestamp) - signedAt).toBe(Date.parse(recorded.expirationTimestamp) - Date.parse(recorded.signedAt));
  });

  it("writes URLs with the recorded CLI's parameter order and encoding", () => {
    const names = (token: string) => [...decodeToken(token).split("?")[1]!.matchAll(/(?:^|&)([^=&]+)=/g)].map((m) => m[1]);
    const withSession = fixtures.tokens.find((t) => t.name === "deployer-eu-west-1")!;
    const without = fixtures.tokens.find((t) => t.name === "alice-us-east-1")!;
    expect(names(tokenOf(ran("profile-env-session")))).toEqual(names(withSession.token));
    expect(names(tokenOf(ran("profile-flag")))).toEqual(names(without.token));
  });
});

describe("sts-gate errors: one line on stderr, non-zero exit, no stack trace", () => {
  it.each([
    ["no-credentials", 1, /^sts-gate: no AWS credentials found \(.*\); set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n$/],
    ["unknown-profile-flag", 1, /^sts-gate: the profile "nope" was not found in .*config or .*credentials\n$/],
    ["unknown-profile-env", 1, /^sts-gate: the profile "nope" was not found in .*config or .*credentials\n$/],
    ["credential-process-fails", 1, /^sts-gate: could not load AWS credentials for profile "broken": Command failed: .+\n$/],
    ["bad-region-flag", 2, /^sts-gate: unknown region "mars-west-1": no STS endpoint is known for it \(the region came from --region\)\n$/],
    ["bad-region-env", 2, /^sts-gate: unknown region "Nowhere": no STS endpoint is known for it \(the region came from AWS_REGION\)\n$/],
    ["bad-audience", 2, /^sts-gate: the audience must be 1 to 256 visible ASCII characters\.\n$/],
    ["missing-audience", 2, /^sts-gate: --audience is required; run 'sts-gate token --help'\n$/],
    ["bad-format", 2, /^sts-gate: --format must be one of token, header, exec-credential\n$/],
    ["unknown-option", 2, /^sts-gate: unknown option '--cluster'.*; run 'sts-gate token --help'\n$/],
    ["unknown-command", 2, /^sts-gate: unknown command "frobnicate"; run 'sts-gate --help'\n$/],
  ])("%s exits %i", (name, code, message) => {
    const r = ran(name);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split("\n").filter((l) => l !== "")).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+|Error:/);
  });

  it("never echoes a secret in an error", () => {
    for (const r of Object.values(runs)) expect(r.stderr).not.toContain("Secret000");
  });
});

describe("sts-gate --help", () => {
  it("documents the commands", () => {
    const r = ran("help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: sts-gate <command> [options]");
    expect(r.stdout).toContain("token");
  });

  it.each(["token-help", "token-help-source"])("documents token's options (%s)", (name) => {
    const r = ran(name);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    for (const flag of ["--audience", "--region", "--global", "--profile", "--format", "exec-credential", "header"]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it("prints the usage on stderr and exits 2 with no arguments", () => {
    const r = ran("no-arguments");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Usage: sts-gate <command>");
  });
});
