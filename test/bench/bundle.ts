import { build } from "esbuild";
import { join } from "node:path";

/**
 * Bundles a Worker entry point as wrangler would resolve it for Workers, for a Miniflare started
 * from Node (`npm run bench`, test/cli/revoke-setup.ts). `root` is the repository.
 */
export async function bundleWorker(root: string, entry: string, outfile: string): Promise<string> {
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    // What wrangler resolves for Workers.
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    target: "es2024",
    // The Workers runtime's own modules (`StsGate` extends cloudflare:workers' WorkerEntrypoint).
    external: ["cloudflare:*"],
    logLevel: "error",
  });
  return outfile;
}
