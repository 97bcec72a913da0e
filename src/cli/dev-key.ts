/**
 * `npm run dev` runs this first (its `predev` script): the development signing key, made on first use and kept in
 * git-ignored `.dev.vars.dev` files (the `dev` environment's own, so `npm run types`, which reads
 * `--env test`, never sees them), so no private key is ever committed (ATTACKS #23). wrangler dev
 * reads them beside each Worker's config: the gate gets ASSERTION_PRIVATE_JWK, the echo
 * origin the matching public key set. An existing key is kept, so restarts keep one key.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateAssertionKey } from "../assertion/generate.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const GATE_VARS = join(root, ".dev.vars.dev");
const ORIGIN_VARS = join(root, "test/echo-origin/.dev.vars.dev");

function readVar(file: string, name: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, "utf8").split("\n").find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1);
}

/** Adds or replaces one `NAME=value` line, leaving the file's other lines as they were. */
function writeVar(file: string, name: string, value: string): void {
  const kept = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((l) => l !== "" && !l.startsWith(`${name}=`)) : [];
  writeFileSync(file, [...kept, `${name}=${value}`, ""].join("\n"), { mode: 0o600 });
}

export async function ensureDevKey(): Promise<"kept" | "created"> {
  if (readVar(GATE_VARS, "ASSERTION_PRIVATE_JWK") !== undefined && readVar(ORIGIN_VARS, "ASSERTION_JWKS") !== undefined) return "kept";
  const key = await generateAssertionKey("EdDSA");
  writeVar(GATE_VARS, "ASSERTION_PRIVATE_JWK", JSON.stringify(key.privateJwk));
  writeVar(ORIGIN_VARS, "ASSERTION_JWKS", JSON.stringify({ keys: [key.publicJwk] }));
  return "created";
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outcome = await ensureDevKey();
  if (outcome === "created") console.log("dev-key: a new development signing key is in .dev.vars.dev (git-ignored; never deploy it)");
}
