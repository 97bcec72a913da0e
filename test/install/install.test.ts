/**
 * The install path of a fresh clone (Node): `.ci/run` uses `npm ci` and fails on a stale
 * worker-configuration.d.ts with the project's own `wrangler types` arguments, and `npm run
 * dev` does not suggest a bare `wrangler types` (which would type the top level and break the
 * typecheck).
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };

/** `npm run types`' arguments, after `wrangler types`. */
const typesArgs = pkg.scripts.types!.replace(/^wrangler types\s*/, "").split(/\s+/).filter(Boolean);

function wrangler(args: string[], cwd: string) {
  return spawnSync(process.execPath, [WRANGLER, ...args], { cwd, env: ENV, encoding: "utf8", timeout: 120_000 });
}

describe(".ci/run", () => {
  const ci = readFileSync(join(ROOT, ".ci/run"), "utf8");

  it("installs with npm ci and checks the types with npm run types -- --check", () => {
    expect(ci).toMatch(/^npm ci\b/m);
    expect(ci).not.toMatch(/^npm install\b/m);
    expect(ci).toMatch(/^npm run types -- --check$/m);
    expect(pkg.scripts.types).toBe("wrangler types --env test");
  });

  it("the committed worker-configuration.d.ts is up to date", () => {
    const r = wrangler(["types", ...typesArgs, "--check"], ROOT);
    expect(r.stdout + r.stderr).toMatch(/up to date/);
    expect(r.status).toBe(0);
  }, 120_000);

  it("the same check fails once wrangler.toml has changed", () => {
    mkdirSync(join(ROOT, "dist"), { recursive: true });
    const dir = mkdtempSync(join(ROOT, "dist/types-check-"));
    try {
      for (const f of ["wrangler.toml", "worker-configuration.d.ts", "src"]) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
      const toml = readFileSync(join(dir, "wrangler.toml"), "utf8");
      writeFileSync(join(dir, "wrangler.toml"), toml.replace('AUDIENCE = "sts-gate-test"', 'AUDIENCE = "sts-gate-renamed"'));
      const r = wrangler(["types", ...typesArgs, "--check"], dir);
      expect(r.stdout + r.stderr).toMatch(/out of date/);
      expect(r.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("npm run dev", () => {
  it("starts without suggesting a wrangler types invocation", async () => {
    const args = pkg.scripts.dev!.replace(/^wrangler /, "").split(/\s+/);
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const child = spawn(process.execPath, [WRANGLER, ...args, "--port", port, "--inspector-port", String(Number(port) + 1)], {
      cwd: ROOT,
      env: { ...ENV, CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    try {
      await new Promise<void>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`wrangler dev did not get ready:\n${output}`)), 100_000);
        const poll = setInterval(() => {
          if (/Ready on/.test(output)) {
            clearTimeout(timer);
            clearInterval(poll);
            done();
          }
        }, 200);
        child.on("exit", () => {
          clearTimeout(timer);
          clearInterval(poll);
          fail(new Error(`wrangler dev exited:\n${output}`));
        });
      });
    } finally {
      child.kill("SIGTERM");
    }
    expect(output).not.toMatch(/wrangler types/);
  }, 120_000);
});
