import { describe, expect, inject, it } from "vitest";
import type { CliRun } from "./runs";
import "./runs";

const { runs, calls, lines } = inject("revokeRuns");

function ran(name: string): CliRun {
  const r = runs[name];
  if (r === undefined) throw new Error(`no CLI run named ${name}`);
  return r;
}

function ok(name: string): string {
  const r = ran(name);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout;
}

describe("sts-gate revoke, revocations, unrevoke against the gate in workerd", () => {
  it("revokes the deployer's access key: the gate then refuses it with 403 revoked", () => {
    expect(calls.before!.status).toBe(200);
    const entry = JSON.parse(ok("revoke")) as Record<string, string>;
    expect(entry).toMatchObject({ accessKeyId: "ASIAEMULATORDEPLOY01", reason: "leaked in a CI log", createdBy: "arn:aws:iam::111122223333:user/alice" });
    expect(entry.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(calls.revoked!.status).toBe(403);
    expect(JSON.parse(calls.revoked!.body)).toMatchObject({ code: "revoked" });
  });

  it("prints one line for a revocation without --json", () => {
    expect(ok("revoke-text")).toMatch(/^revoked [0-9a-f-]{36}: account 444455556666, until 2999-01-01T00:00:00\.000Z\n$/);
  });

  it("lists the entries as a table, and as the gate's JSON with --json", () => {
    const table = ok("revocations").trimEnd().split("\n");
    expect(table[0]).toMatch(/^ID\s+SELECTOR\s+VALUE\s+EXPIRES\s+CREATED\s+CREATED BY\s+REASON$/);
    expect(table).toHaveLength(3);
    expect(table.some((l) => /accessKeyId\s+ASIAEMULATORDEPLOY01\s+never\s+\S+\s+arn:aws:iam::111122223333:user\/alice\s+leaked in a CI log$/.test(l))).toBe(true);
    expect(table.some((l) => /account\s+444455556666\s+2999-01-01T00:00:00\.000Z/.test(l))).toBe(true);
    const json = JSON.parse(ok("revocations-json")) as { revocations: Array<{ id: string }> };
    expect(json.revocations).toHaveLength(2);
  });

  it("unrevokes by id: the deployer is let in again; a second unrevoke finds nothing", () => {
    expect(ok("unrevoke")).toMatch(/^unrevoked [0-9a-f-]{36}\n$/);
    expect(calls.unrevoked!.status).toBe(200);
    const again = ran("unrevoke-again");
    expect(again.code).toBe(1);
    expect(again.stderr).toBe("sts-gate: the gate refused (404 revocation_not_found): No revocation has this id.\n");
  });

  it.each([
    ["revoke-not-admin", 1, /^sts-gate: the gate refused \(403 not_admin\): arn:aws:iam::111122223333:role\/deployer \(assumed-role\) is not allowed to POST \/\.well-known\/sts-gate\/revocations\.\n$/],
    ["gate-not-https", 2, /^sts-gate: --gate must be an https URL \(http only for a loopback host, e\.g\. http:\/\/127\.0\.0\.1:8787\); run 'sts-gate revocations --help'\n$/],
    ["two-selectors", 2, /^sts-gate: give exactly one of --access-key, --principal or --account; run 'sts-gate revoke --help'\n$/],
    ["no-selector", 2, /^sts-gate: give exactly one of --access-key, --principal or --account/],
    ["no-reason", 2, /^sts-gate: --reason is required; run 'sts-gate revoke --help'\n$/],
    ["bad-key", 2, /^sts-gate: --access-key: must be an access key ID as CloudTrail shows it/],
    ["past-expiry", 2, /^sts-gate: --expires: must be in the future\n$/],
    ["no-gate", 2, /^sts-gate: --gate is required; run 'sts-gate revocations --help'\n$/],
    ["unreachable", 1, /^sts-gate: could not reach the gate at http:\/\/127\.0\.0\.1:9: .+\n$/],
    ["no-credentials", 1, /^sts-gate: no AWS credentials found/],
  ])("%s: one line on stderr, exit %i", (name, code, message) => {
    const r = ran(name);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split("\n").filter((l) => l !== "")).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+|Error:|Secret0/);
  });

  it("leaves the gate's audit trail: one admin line per action, naming alice and never a token", () => {
    const admin = lines.filter((l) => l.event === "admin");
    expect(admin.map((l) => l.action)).toEqual(["revoke", "revoke", "list", "list", "unrevoke"]);
    for (const l of admin) expect(l).toMatchObject({ level: "info", actor: "arn:aws:iam::111122223333:user/alice", actorAccessKeyId: "AKIAEMULATORALICE001" });
    expect(admin[0]!.entry).toMatchObject({ accessKeyId: "ASIAEMULATORDEPLOY01", reason: "leaked in a CI log" });
    // The refused revocation is a denied decision, not an admin action.
    expect(lines.some((l) => l.event === "decision" && l.code === "not_admin" && l.principal === "arn:aws:iam::111122223333:role/deployer")).toBe(true);
    expect(JSON.stringify(lines)).not.toMatch(/X-Amz-Signature|Bearer /i);
  });

  it("documents its options", () => {
    const help = ok("revoke-help");
    for (const flag of ["--gate", "--audience", "--access-key", "--principal", "--account", "--reason", "--expires"]) expect(help).toContain(flag);
  });
});
