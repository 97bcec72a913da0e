/**
 * wrangler.toml as `wrangler deploy` reads it, for the commands that check a deployment
 * offline (`sts-gate doctor`, `npm run policy -- check wrangler.toml`). Pure: text in, values
 * out, so it is tested in workerd like the rest of the gate.
 */
import { parse } from "smol-toml";

/** A problem reading the file itself: one line, for stderr. */
export class WranglerConfigError extends Error {
  override name = "WranglerConfigError";
}

export interface KvNamespace {
  binding: string;
  id: string | undefined;
}

export interface ServiceBinding {
  binding: string;
  service: string | undefined;
}

/** One environment of a wrangler.toml, with what it deploys. */
export interface DeployTarget {
  /** undefined: the top level (what `wrangler deploy --env=""` deploys). */
  env: string | undefined;
  /** Where its vars live in the file, for messages: `[vars]` or `[env.NAME.vars]`. */
  varsTable: string;
  vars: Record<string, unknown>;
  kvNamespaces: KvNamespace[];
  services: ServiceBinding[];
}

type Table = Record<string, unknown>;

const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

/**
 * The environment `env` names (empty or undefined: the top level). Like wrangler, vars and
 * bindings are not inherited: an `[env.NAME]` has only its own.
 */
export function readDeployTarget(text: string, env: string | undefined): DeployTarget {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
    throw new WranglerConfigError(`not valid TOML: ${message}`);
  }
  const name = env === "" ? undefined : env;
  let table: Table = doc;
  if (name !== undefined) {
    const envs = isTable(doc.env) ? doc.env : {};
    const found = envs[name];
    if (!isTable(found)) {
      const known = Object.keys(envs);
      throw new WranglerConfigError(`has no [env.${name}]${known.length ? ` (it has ${known.map((k) => `[env.${k}]`).join(", ")})` : ""}`);
    }
    table = found;
  }
  const prefix = name === undefined ? "" : `env.${name}.`;
  const vars = table.vars === undefined ? {} : table.vars;
  if (!isTable(vars)) throw new WranglerConfigError(`[${prefix}vars] is not a table`);
  return {
    env: name,
    varsTable: `[${prefix}vars]`,
    vars,
    kvNamespaces: listOf(table.kv_namespaces, `${prefix}kv_namespaces`).map((t) => ({ binding: String(t.binding ?? ""), id: typeof t.id === "string" ? t.id : undefined })),
    services: listOf(table.services, `${prefix}services`).map((t) => ({ binding: String(t.binding ?? ""), service: typeof t.service === "string" ? t.service : undefined })),
  };
}

function listOf(value: unknown, where: string): Table[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isTable)) throw new WranglerConfigError(`[[${where}]] is not a list of tables`);
  return value;
}

/** POLICY as the gate receives it: a table arrives as an object, a string as JSON text. */
export function policyText(target: DeployTarget): string | undefined {
  const policy = target.vars.POLICY;
  if (policy === undefined) return undefined;
  return typeof policy === "string" ? policy : JSON.stringify(policy);
}

/** How a policy in a wrangler.toml is named in messages: where it is in the file. */
export function policyLabel(file: string, target: DeployTarget): string {
  return `${file} ${target.varsTable.replace(/\]$/, ".POLICY]")}`;
}

/**
 * `npm run policy -- check wrangler.toml [--env NAME]`: the policy command reads policy JSON,
 * so a wrangler.toml argument becomes its `[vars.POLICY]` (or `[env.NAME.vars.POLICY]`) as
 * JSON, under a label that says where it came from. Other files are read as they are (no
 * `text`); `--env` is only for wrangler.toml.
 */
export function policySource(
  file: string,
  env: string | undefined,
  readText: (file: string) => string,
): { file: string; text?: string } | { error: string; exitCode: number } {
  if (!file.endsWith(".toml")) {
    if (env !== undefined) return { error: "--env applies to a wrangler.toml file only", exitCode: 2 };
    return { file };
  }
  try {
    const target = readDeployTarget(readText(file), env);
    const text = policyText(target);
    if (text === undefined) return { error: `${file}: ${target.varsTable} has no POLICY`, exitCode: 1 };
    return { file: policyLabel(file, target), text };
  } catch (error) {
    return { error: `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, exitCode: 1 };
  }
}
