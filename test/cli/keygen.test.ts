import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { importJWK } from "jose";
import { describe, expect, it } from "vitest";

/** `npm run keygen` as it runs: src/cli/keygen.ts through tsx, in Node. */
const ROOT = join(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");

function keygen(...args: string[]) {
  const run = spawnSync(process.execPath, [TSX, "src/cli/keygen.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("npm run keygen", () => {
  it("prints a usable Ed25519 private JWK alone with --private-only", async () => {
    const out = keygen("--private-only");
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const jwk = JSON.parse(lines[0]!);
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
    expect(typeof jwk.d).toBe("string");
    await expect(importJWK(jwk, "EdDSA")).resolves.toBeDefined();
  });

  it("makes a P-256 key with --alg ES256 (and --alg=ES256), with the public key set for origins", () => {
    for (const alg of [["--alg", "ES256"], ["--alg=ES256"]]) {
      const out = keygen(...alg);
      expect(out.code).toBe(0);
      expect(out.stdout).toContain("npx wrangler secret put ASSERTION_PRIVATE_JWK");
      const set = out.stdout.split("\n").find((l) => l.startsWith('{"keys":'));
      const [pub] = JSON.parse(set!).keys;
      expect(pub).toMatchObject({ kty: "EC", crv: "P-256" });
      expect(pub.d).toBeUndefined();
    }
  });

  it.each([
    [["--alg", "RS256"], /^keygen: --alg must be EdDSA or ES256, not RS256$/m],
    [["--alg"], /^keygen: Option '--alg <value>' argument missing$/m],
    [["--verbose"], /^keygen: Unknown option '--verbose'$/m],
    [["extra"], /^keygen: Unexpected argument 'extra'/m],
  ])("refuses %j with exit 2, a line and the usage", (args, line) => {
    const out = keygen(...args);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe("");
    expect(out.stderr).toMatch(line);
    expect(out.stderr).toContain("usage: npm run keygen");
  });

  it("prints the usage for --help, exit 0", () => {
    expect(keygen("--help")).toMatchObject({ code: 0, stdout: "" });
    expect(keygen("-h").stderr).toContain("usage: npm run keygen");
  });
});
