/**
 * The packed tarball, installed into a fresh Node project and a fresh Worker project, as a
 * user would. Runs on Node (the "node" vitest project): it packs, installs from the npm
 * registry, type-checks, bundles with wrangler and runs the Worker in Miniflare.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { AwsV4Signer } from "aws4fetch";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateAssertionKey } from "../../src/assertion/generate.ts";
import { assertionSignerFor } from "../../src/assertion/signer.ts";
import { createToken } from "../../src/client/token.ts";

const root = resolve(import.meta.dirname, "../..");
const bin = (name: string) => join(root, "node_modules/.bin", name);
const work = mkdtempSync(join(tmpdir(), "sts-gate-package-"));
let tarball = "";

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" } as NodeJS.ProcessEnv });
}

function project(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

beforeAll(() => {
  run("npm", ["pack", "--pack-destination", work], root);
  tarball = join(work, readdirSync(work).find((f) => f.endsWith(".tgz"))!);
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the packed tarball", () => {
  it("installs in a fresh Node project: client, origin verifier and CLI import, run and type-check", () => {
    const dir = project("node-app", {
      "package.json": JSON.stringify({ name: "node-app", private: true, type: "module" }),
      "tsconfig.json": JSON.stringify({
        compilerOptions: { target: "es2022", module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true, types: ["node"], lib: ["es2022", "dom"] },
        include: ["check.ts"],
      }),
      "check.ts": `
import { createToken } from "sts-gate/client";
import { verifyCaller, CallerVerificationError } from "sts-gate/origin";
import { requireCaller } from "sts-gate/origin/node";
const { token, expiresAt } = await createToken({
  credentials: { accessKeyId: "AKIAEMULATORALICE001", secretAccessKey: "emulator/alice/Secret0000000000000000000" },
  audience: "package-test",
  region: "eu-west-1",
});
let code = "";
try {
  await verifyCaller(new Request("https://origin.example/x"), { jwks: { keys: [] }, issuer: "urn:sts-gate:t", audience: "https://origin.example" });
} catch (e) {
  if (e instanceof CallerVerificationError) code = e.code;
}
console.log(JSON.stringify({ prefix: token.slice(0, 11), expires: expiresAt instanceof Date, code, middleware: typeof requireCaller }));
`,
    });
    run("npm", ["install", tarball, "typescript@7.0.2", "@types/node@22"], dir);
    run(bin("tsc"), ["-p", "."], dir);
    const out = JSON.parse(run(process.execPath, ["--experimental-strip-types", "check.ts"], dir)) as Record<string, unknown>;
    expect(out).toEqual({ prefix: "k8s-aws-v1.", expires: true, code: "assertion_missing", middleware: "function" });
    expect(run(join(dir, "node_modules/.bin/sts-gate"), ["--help"], dir)).toContain("sts-gate token");
  }, 240_000);

  it("installs in a fresh Worker project: sts-gate/hono protects a Hono app in workerd", async () => {
    const dir = project("worker-app", {
      "package.json": JSON.stringify({ name: "worker-app", private: true, type: "module" }),
      "wrangler.toml": 'name = "worker-app"\nmain = "src/index.ts"\ncompatibility_date = "2026-11-01"\n',
      "src/index.ts": `
import { Hono } from "hono";
import { stsAuth, GateProblem, type StsAuthVariables } from "sts-gate/hono";
type Env = { Bindings: { STS: { fetch(r: Request): Promise<Response> } }; Variables: StsAuthVariables };
const app = new Hono<Env>();
app.use("*", stsAuth((c) => ({ audience: "package-test", policy: { allow: ["arn:aws:iam::111122223333:user/*"] }, sts: (r: Request) => c.env.STS.fetch(r) })));
app.get("/whoami", (c) => c.json({ arn: c.var.caller.arn, rule: c.var.caller.rule }));
app.onError((e) => (e instanceof GateProblem ? e.getResponse() : new Response("bug", { status: 500 })));
export default app;
`,
    });
    run("npm", ["install", tarball], dir);
    run(bin("wrangler"), ["deploy", "--dry-run", "--outdir", "out"], dir);
    // Hermetic: an STS stand-in that skips SigV4 and admits every token (the emulator is not in the package).
    const stsSkippingSigV4 = async () =>
      new Response(
        JSON.stringify({ GetCallerIdentityResponse: { GetCallerIdentityResult: { Arn: "arn:aws:iam::111122223333:user/pkg", Account: "111122223333", UserId: "AIDAPACKAGETEST00001" } } }),
        { headers: { "content-type": "application/json" } },
      );
    const mf = new Miniflare(
      convertV4MiniflareOptions({
        workers: [{ name: "worker-app", modules: true, modulesRoot: join(dir, "out"), scriptPath: join(dir, "out/index.js"), compatibilityDate: "2026-11-01", serviceBindings: { STS: stsSkippingSigV4 } }],
      }),
    );
    try {
      const refused = await mf.dispatchFetch("https://app.test/whoami");
      expect(refused.status).toBe(401);
      expect(refused.headers.get("content-type")).toBe("application/problem+json");
      const signer = new AwsV4Signer({
        url: "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
        headers: { "x-k8s-aws-id": "package-test" },
        accessKeyId: "AKIAPACKAGETEST00001",
        secretAccessKey: "any",
        service: "sts",
        region: "us-east-1",
        signQuery: true,
      });
      const token = `k8s-aws-v1.${Buffer.from((await signer.sign()).url.toString()).toString("base64url")}`;
      const admitted = await mf.dispatchFetch("https://app.test/whoami", { headers: { authorization: `Bearer ${token}` } });
      expect(admitted.status).toBe(200);
      expect(await admitted.json()).toEqual({ arn: "arn:aws:iam::111122223333:user/pkg", rule: "allow" });
    } finally {
      await mf.dispose();
    }
  }, 240_000);

  it("the client and the origin verifier run the same on Node 20, Node 22, Bun and Deno", async () => {
    const dir = project("runtimes", {
      "package.json": JSON.stringify({ name: "runtimes", private: true, type: "module" }),
      "check.mjs": `
import input from "./input.json" with { type: "json" };
import { createToken } from "sts-gate/client";
import { verifyCaller, CallerVerificationError } from "sts-gate/origin";
const { token } = await createToken({ credentials: input.credentials, audience: "sts-gate-test", region: "eu-west-1", now: () => input.now });
const options = { jwks: input.jwks, issuer: input.issuer, audience: input.audience };
const headers = { "x-caller-assertion": input.assertion };
const caller = await verifyCaller(new Request("https://origin.example/x?y=1", { headers }), options);
let replayed = "";
try {
  await verifyCaller(new Request("https://origin.example/x?y=1", { method: "POST", headers }), options);
} catch (e) {
  if (e instanceof CallerVerificationError) replayed = e.code;
}
console.log(JSON.stringify({ token, arn: caller.arn, principal: caller.principal, replayed }));
`,
    });
    // Bun and Deno come from the npm registry with their binaries inside (no install script needed).
    run("npm", ["install", tarball, "bun@1", "deno@2"], dir);

    const now = Date.now();
    const credentials = { accessKeyId: "AKIAEMULATORALICE001", secretAccessKey: "emulator/alice/Secret0000000000000000000" };
    const key = await generateAssertionKey("EdDSA");
    const signer = await assertionSignerFor({ privateJwk: key.privateJwk as never, previousPublicJwk: undefined, issuer: "urn:sts-gate:runtimes", audience: "https://origin.example" });
    const identity = { arn: "arn:aws:sts::111122223333:assumed-role/deployer/ci", account: "111122223333", userId: "AROAEMULATORDEPLOYER1:ci", type: "assumed-role" as const, principal: "arn:aws:iam::111122223333:role/deployer", partition: "aws" as const };
    const assertion = await signer.sign(identity, { method: "GET", htu: "/x?y=1" }, now);
    writeFileSync(
      join(dir, "input.json"),
      JSON.stringify({ now, credentials, assertion, jwks: JSON.parse(signer.jwksBody), issuer: signer.issuer, audience: signer.audience }),
    );
    const expected = {
      token: (await createToken({ credentials, audience: "sts-gate-test", region: "eu-west-1", now: () => now })).token,
      arn: identity.arn,
      principal: identity.principal,
      replayed: "assertion_wrong_request",
    };

    const runtimes: Array<[string, string, string[]]> = [
      ["Node 22", process.execPath, ["check.mjs"]],
      ["Bun", join(dir, "node_modules/.bin/bun"), ["check.mjs"]],
      ["Deno", join(dir, "node_modules/.bin/deno"), ["run", "--quiet", "--allow-read", "--allow-env", "check.mjs"]],
    ];
    // The machine's own Node, where it is 20 (as on this project's machines): the oldest we support.
    // Elsewhere it is left out, but not under CI=true, where a missing Node 20 fails the run (as
    // a missing browser does in test/browser/): CI must not pass without the oldest runtime.
    const system = "/usr/bin/node";
    const node20 = existsSync(system) && run(system, ["--version"], dir).startsWith("v20.");
    if (node20) runtimes.push(["Node 20", system, ["check.mjs"]]);
    else if (process.env.CI) expect.fail(`CI=true, but ${system} is not Node 20: install Node 20 there (the machine's Debian node package), so the oldest supported runtime is checked`);
    for (const [name, cmd, args] of runtimes) {
      const out = JSON.parse(run(cmd, args, dir).trim().split("\n").at(-1)!) as typeof expected;
      expect({ runtime: name, ...out }).toEqual({ runtime: name, ...expected });
    }
  }, 300_000);
});
