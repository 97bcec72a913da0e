/**
 * `npm run keygen [-- --alg EdDSA|ES256] [-- --private-only]`: a new assertion signing key.
 *
 * Prints the private JWK to stdout, with the `wrangler secret put` command that stores it,
 * and the public JWK / key set for origins. Writes no file: the private key exists only in
 * this output and, once stored, in the Workers secret.
 *
 * `--private-only` prints the private JWK alone, for a pipe that keeps it off the screen:
 *   npm run --silent keygen -- --private-only | npx wrangler secret put ASSERTION_PRIVATE_JWK
 */
import { generateAssertionKey, type AssertionKeyAlgorithm as Alg } from "../assertion/generate.ts";

// Typed by hand: the project has no @types/node (the gate itself needs nothing from Node).
interface NodeProcess {
  argv: string[];
  stdout: { write(text: string): boolean };
  stderr: { write(text: string): boolean };
  exitCode?: number;
}
const proc = (globalThis as unknown as { process: NodeProcess }).process;

const USAGE = `usage: npm run keygen -- [--alg EdDSA|ES256] [--private-only]

  --alg EdDSA     an Ed25519 key (default)
  --alg ES256     a P-256 key
  --private-only  print only the private JWK, for piping into \`wrangler secret put\`
`;

function parseArgs(argv: string[]): { alg: Alg; privateOnly: boolean } | string {
  let alg: Alg = "EdDSA";
  let privateOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--private-only") privateOnly = true;
    else if (arg === "--alg" || arg.startsWith("--alg=")) {
      const value = arg === "--alg" ? argv[++i] : arg.slice("--alg=".length);
      if (value !== "EdDSA" && value !== "ES256") return `--alg must be EdDSA or ES256, not ${value ?? "nothing"}`;
      alg = value;
    } else if (arg === "--help" || arg === "-h") return "";
    else return `unknown argument ${arg}`;
  }
  return { alg, privateOnly };
}

async function main(): Promise<void> {
  const args = parseArgs(proc.argv.slice(2));
  if (typeof args === "string") {
    proc.stderr.write(args === "" ? USAGE : `keygen: ${args}\n\n${USAGE}`);
    proc.exitCode = args === "" ? 0 : 2;
    return;
  }
  const key = await generateAssertionKey(args.alg);
  const privateLine = JSON.stringify(key.privateJwk);
  if (args.privateOnly) {
    proc.stdout.write(`${privateLine}\n`);
    return;
  }
  proc.stdout.write(`# sts-gate assertion signing key: ${args.alg}, kid ${key.kid}
# This key was generated in memory and written to no file. Treat the next lines as a secret.
#
# 1. Store the PRIVATE key as a Workers secret of the gate. Run
#
#      npx wrangler secret put ASSERTION_PRIVATE_JWK --env=""
#
#    and paste this single line when it asks for the value:

${privateLine}

#    (Or keep it off the screen entirely:
#      npm run --silent keygen -- --alg ${args.alg} --private-only | npx wrangler secret put ASSERTION_PRIVATE_JWK --env=""
#     and read the public key from https://<gate>/.well-known/jwks.json afterwards.)
#
#    Rotating? Put the CURRENT public key in ASSERTION_PREVIOUS_PUBLIC_JWK first:
#    README, "Origin trust: signed assertions", "Rotating the key".
#
# 2. The PUBLIC key. The gate publishes it at /.well-known/jwks.json once the secret is set.
#    Origins that use a static key set instead of that URL configure this key set:

${JSON.stringify({ keys: [key.publicJwk] })}

# Clear your terminal's scrollback if others can read it.
`);
}

await main();
