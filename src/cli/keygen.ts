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
import process from "node:process";
import { parseArgs } from "node:util";
import { generateAssertionKey, type AssertionKeyAlgorithm as Alg } from "../assertion/generate.ts";

const USAGE = `usage: npm run keygen -- [--alg EdDSA|ES256] [--private-only]

  --alg EdDSA     an Ed25519 key (default)
  --alg ES256     a P-256 key
  --private-only  print only the private JWK, for piping into \`wrangler secret put\`
`;

/** The options, or a message for stderr ("" for --help). */
function readArgs(args: string[]): { alg: Alg; privateOnly: boolean } | string {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: { alg: { type: "string", default: "EdDSA" }, "private-only": { type: "boolean", default: false }, help: { type: "boolean", short: "h" } },
    }));
  } catch (error) {
    // parseArgs' messages are one line; the first sentence is the useful part.
    return (error instanceof Error ? error.message : String(error)).split("\n")[0]!.replace(/\. To specify a positional.*$/, "");
  }
  if (values.help) return "";
  if (values.alg !== "EdDSA" && values.alg !== "ES256") return `--alg must be EdDSA or ES256, not ${values.alg}`;
  return { alg: values.alg, privateOnly: values["private-only"] };
}

async function main(): Promise<void> {
  const args = readArgs(process.argv.slice(2));
  if (typeof args === "string") {
    process.stderr.write(args === "" ? USAGE : `keygen: ${args}\n\n${USAGE}`);
    process.exitCode = args === "" ? 0 : 2;
    return;
  }
  const key = await generateAssertionKey(args.alg);
  const privateLine = JSON.stringify(key.privateJwk);
  if (args.privateOnly) {
    process.stdout.write(`${privateLine}\n`);
    return;
  }
  process.stdout.write(`# sts-gate assertion signing key: ${args.alg}, kid ${key.kid}
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
