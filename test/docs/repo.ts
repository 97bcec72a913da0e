/** The repository on disk, for the documentation checks that run on the real tree. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Tree } from "./checks.ts";

export const ROOT = resolve(import.meta.dirname, "../..");

export function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), "utf8");
}

export const repoTree: Tree = {
  read(path) {
    const full = join(ROOT, path);
    return existsSync(full) && statSync(full).isFile() ? readFileSync(full, "utf8") : undefined;
  },
  exists: (path) => existsSync(join(ROOT, path)),
};

/** The pages whose links must resolve: the front page, the root documents and everything in docs/. */
export function documentationPages(): string[] {
  const docs = (readdirSync(join(ROOT, "docs"), { recursive: true }) as string[])
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f.split("\\").join("/")}`)
    .sort();
  return ["README.md", "SECURITY.md", "BENCHMARKS.md", "CHANGELOG.md", ...docs];
}

/** A tree in memory, for the checks' own failing cases. */
export function memoryTree(files: Record<string, string>): Tree {
  return {
    read: (path) => files[path],
    exists: (path) => path in files || Object.keys(files).some((f) => f.startsWith(`${path}/`)),
  };
}
