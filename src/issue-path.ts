/**
 * The one formatter for where a zod issue is, as an operator writes it: `POLICY.rules[1].paths[0]`,
 * `POLICY.pin["arn:aws:iam::…"]` for a key that is not a plain name. Config and policy tooling
 * both use it, so a setting's path reads the same in the gate's log and in `npm run policy`.
 */
export function formatIssuePath(path: ReadonlyArray<PropertyKey>, root = ""): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    const name = String(key);
    if (!/^[A-Za-z_]\w*$/.test(name)) return `${out}[${JSON.stringify(name)}]`;
    return out === "" ? name : `${out}.${name}`;
  }, root);
}
