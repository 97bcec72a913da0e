import { build, type Plugin } from "esbuild";
import { join } from "node:path";

/**
 * Bundles a Worker entry point as wrangler would resolve it for Workers, for a Miniflare started
 * from Node (test/cli/revoke-setup.ts; `npm run bench` too). `root` is the repository.
 */
export async function bundleWorker(root: string, entry: string, outfile: string, plugins: Plugin[] = []): Promise<string> {
  await build({
    plugins,
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    // What wrangler resolves for Workers.
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    target: "es2024",
    // The Workers runtime's own modules (cloudflare:workers and the like) are not bundled.
    external: ["cloudflare:*"],
    logLevel: "error",
  });
  return outfile;
}
