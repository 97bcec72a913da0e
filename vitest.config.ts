import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { build } from "esbuild";
import { defineConfig } from "vitest/config";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { generateAssertionKey } from "./src/assertion/generate.ts";

/**
 * The auxiliary Workers (the STS emulator and the echo origin) run beside the gate in the same
 * workerd, as in `npm run dev`. Miniflare takes them as JavaScript, so they are bundled here.
 */
async function bundle(entry: string, outfile: string): Promise<string> {
  await build({ entryPoints: [entry], outfile, bundle: true, format: "esm", platform: "neutral", target: "es2024", logLevel: "error" });
  return outfile;
}

/**
 * A fresh signing key per run: no private key is committed (ATTACKS #23). The gate gets the
 * private JWK, the echo origin the public key set, as the two halves `npm run dev` keeps in
 * .dev.vars.dev.
 */
const testKey = await generateAssertionKey("EdDSA");

/**
 * Tests of code that runs only in Node: command lines parsed with node:util parseArgs, which
 * workerd stubs, and `sts-gate proxy` as a child process in front of the gate in Miniflare.
 */
const NODE_ONLY = ["test/cli/policy-cli.test.ts", "test/cli/keygen.test.ts", "test/cli/proxy.test.ts"];

export default defineConfig({
  test: {
    // Decision logs are the product's output, but noise in a passing run.
    silent: "passed-only",
    projects: [
      {
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml", environment: "test" },
            miniflare: {
              bindings: { ASSERTION_PRIVATE_JWK: JSON.stringify(testKey.privateJwk) },
              // test/integration/rpc.test.ts calls the gate's StsGate entrypoint through this Worker.
              serviceBindings: { RPC_CALLER: "rpc-caller" },
              workers: [
                {
                  name: "rpc-caller",
                  modules: true,
                  scriptPath: await bundle("test/rpc-caller/worker.ts", "dist/test/rpc-caller.js"),
                  compatibilityDate: "2026-11-01",
                  // The gate runs as the pool's runner Worker (wrangler.toml [env.test]'s main), named after the project.
                  serviceBindings: { GATE: { name: "vitest-plugin-runner-workers", entrypoint: "StsGate" } },
                },
                {
                  name: "sts-emulator",
                  modules: true,
                  scriptPath: await bundle("test/emulator/worker.ts", "dist/test/sts-emulator.js"),
                  compatibilityDate: "2026-11-01",
                },
                {
                  name: "echo-origin",
                  modules: true,
                  scriptPath: await bundle("test/echo-origin/worker.ts", "dist/test/echo-origin.js"),
                  compatibilityDate: "2026-11-01",
                  // Its vars (the gate's test public key, issuer, audience) from its own wrangler.toml
                  // [env.test], so `npm run dev` and the tests read one source.
                  bindings: {
                    ...(unstable_getMiniflareWorkerOptions("test/echo-origin/wrangler.toml", "test").workerOptions.bindings as Record<string, string>),
                    ASSERTION_JWKS: JSON.stringify({ keys: [testKey.publicJwk] }),
                  },
                },
              ],
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/**/*.test.ts", "src/**/*.test.ts"],
          exclude: ["test/package/**", "test/browser/**", "test/install/**", "test/docs/**", "test/origins/**", ...NODE_ONLY],
          // Node side, before the workerd tests: builds and runs the caller's CLI, provides its tokens.
          // Then the revocation commands against the gate, itself in workerd (Miniflare).
          globalSetup: ["test/cli/global-setup.ts", "test/cli/revoke-setup.ts"],
        },
      },
      {
        // Node side: the packed tarball installed into fresh projects, the install path (types
        // check, npm run dev: test/install/), the command lines parsed with node:util, and the
        // documentation checks (test/docs/: links, configuration, problem codes, CLI help).
        test: { name: "node", include: ["test/package/**/*.test.ts", "test/install/**/*.test.ts", "test/docs/**/*.test.ts", ...NODE_ONLY], environment: "node" },
      },
      {
        // Node side: Chromium calls the gate with CORS (test/browser/cors.test.ts; skipped only
        // without a browser and without CI=true).
        test: { name: "browser", include: ["test/browser/**/*.test.ts"], environment: "node", testTimeout: 120_000, hookTimeout: 180_000 },
      },
      {
        // Node side: the gate in workerd in front of real origin servers in other processes (PHP's
        // php -S, a raw HTTP server, a servlet-style router), reached over HTTP as in production.
        test: { name: "origins", include: ["test/origins/**/*.test.ts"], environment: "node", testTimeout: 60_000, hookTimeout: 120_000 },
      },
    ],
  },
});
