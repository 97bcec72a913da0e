/** A wrangler.toml with a POLICY at the top level, one in [env.staging] and none in [env.empty], and a policy JSON file beside it. */
export const WRANGLER_TOML = `
[vars]
AUDIENCE = "top"
[vars.POLICY]
allow = ["arn:aws:iam::111122223333:role/deployer"]

[env.staging.vars]
POLICY = '{"allow":["arn:aws:iam::111122223333:user/alice"]}'

[env.empty.vars]
AUDIENCE = "x"
`;

const FILES: Record<string, string> = { "wrangler.toml": WRANGLER_TOML, "p.json": '{"allow":["arn:aws:iam::111122223333:user/bob"]}' };

/** Reads those two files; any other throws as a missing file does. */
export function readTomlFixture(file: string): string {
  const text = FILES[file];
  if (text === undefined) throw new Error(`ENOENT: ${file}`);
  return text;
}
