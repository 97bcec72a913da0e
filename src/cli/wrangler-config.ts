/**
 * wrangler.toml as `wrangler deploy` reads it, for the commands that check a deployment
 * offline (`sts-gate doctor`, `npm run policy -- check wrangler.toml`). Pure: text in, values
 * out, so it is tested in workerd like the rest of the gate.
 */
import { parse } from "smol-toml";
import { parseConfig, type ConfigResult, type GateEnv } from "../config.ts";
import { normalPrefix } from "../gate/apps.ts";

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

/** One app of `[[vars.APPS]]` as the tools see it: where it is, how messages name it, its policy. */
export interface AppEntry {
  index: number;
  /** Its name, if it has one that is a string. */
  name: string | undefined;
  /** `APPS[1] (docs)`: how messages name the app. */
  ref: string;
  /** Its policy as the gate receives it, as JSON text; undefined: it has none. */
  policyText: string | undefined;
  /** The app's table as written, for the fields a command reads itself (`sts-gate probe`). */
  fields: Readonly<Record<string, unknown>>;
}

/** How messages name an app: its place in APPS and, if it has one, its name. */
export function appRef(index: number, name: string | undefined): string {
  return name === undefined ? `APPS[${index}]` : `APPS[${index}] (${name})`;
}

/**
 * APPS as the gate receives it (a `[[vars.APPS]]` list of tables, or JSON text); undefined
 * without APPS, an empty list when it is set but is not a list of tables (the gate's own
 * validation says why).
 */
export function appsOf(target: DeployTarget): AppEntry[] | undefined {
  let apps = target.vars.APPS;
  if (apps === undefined) return undefined;
  if (typeof apps === "string") {
    try {
      apps = JSON.parse(apps) as unknown;
    } catch {
      return [];
    }
  }
  if (!Array.isArray(apps)) return [];
  return apps.flatMap((app: unknown, index) => {
    if (!isTable(app)) return [];
    const name = typeof app.name === "string" ? app.name : undefined;
    const policy = app.policy;
    // As POLICY: a table, or the document as JSON text.
    return [{ index, name, ref: appRef(index, name), policyText: policy === undefined ? undefined : typeof policy === "string" ? policy : JSON.stringify(policy), fields: app }];
  });
}

/** ADMINS as JSON text, as the gate receives it; undefined: none. */
export function adminsText(target: DeployTarget): string | undefined {
  const admins = target.vars.ADMINS;
  if (admins === undefined) return undefined;
  return typeof admins === "string" ? admins : JSON.stringify(admins);
}

/**
 * The gate's own validation of a deploy target's vars, as the deployed gate would run it: the
 * KV binding is not in the file, so a stand-in takes its place. For `sts-gate doctor` and
 * `sts-gate probe --app`.
 */
export function parseDeployedVars(vars: Readonly<Record<string, unknown>>): ConfigResult {
  return parseConfig({ ...vars, IDENTITY_CACHE: { get: () => null } } as unknown as GateEnv);
}

/** The names of the apps that have one, for messages that list them. */
function appNames(apps: readonly AppEntry[]): string {
  return apps.flatMap((a) => (a.name === undefined ? [] : [a.name])).join(", ");
}

/** APPS set, but not as a list of tables: the gate's own validation (sts-gate doctor) says why. */
function notAppList(file: string, target: DeployTarget): string {
  return `${file}: ${target.varsTable} APPS is not a list of apps (run sts-gate doctor)`;
}

/** `--app NAME` that no app of APPS has, for every command that takes `--app`. */
function noSuchApp(file: string, target: DeployTarget, apps: readonly AppEntry[], app: string): string {
  return `${file}: ${target.varsTable} has no app named ${app} (its apps: ${appNames(apps)})`;
}

/** One policy for the policy command: the name it goes by, its text (absent: read the file), and its app. */
export interface PolicySource {
  file: string;
  text?: string;
  /** With APPS: how messages name the app (`APPS[1] (docs)`). */
  app?: string;
  /** With APPS: the gate's ADMINS as JSON text, which decide its own API for every app. */
  admins?: string;
  /** With APPS: the app has no policy (the check reports it). */
  missing?: true;
}

/** The one policy of a wrangler.toml without APPS, or of a policy file: policySources for one source. */
export function policySource(file: string, env: string | undefined, readText: (file: string) => string): { file: string; text?: string } | { error: string; exitCode: number } {
  const result = policySources(file, { env, command: "check" }, readText);
  if ("error" in result) return result;
  if (result.sources.length !== 1 || result.sources[0]!.app !== undefined) return { error: `${file}: has APPS; each app has its own policy`, exitCode: 1 };
  return result.sources[0]!;
}

/**
 * `npm run policy -- check wrangler.toml [--env NAME] [--app NAME]`: the policy command reads
 * policy JSON, so a wrangler.toml argument becomes its `[vars.POLICY]` (or `[env.NAME.vars.POLICY]`)
 * as JSON, under a label that says where it came from; with APPS, each app's policy (or, with
 * `--app`, that app's). Other files are read as they are (no `text`); `--env` and `--app` are
 * only for wrangler.toml.
 */
export function policySources(
  file: string,
  options: { env?: string; app?: string; command: "check" | "explain" },
  readText: (file: string) => string,
): { sources: PolicySource[] } | { error: string; exitCode: number } {
  const { env, app } = options;
  if (!file.endsWith(".toml")) {
    if (env !== undefined) return { error: "--env applies to a wrangler.toml file only", exitCode: 2 };
    if (app !== undefined) return { error: "--app applies to a wrangler.toml file with APPS only", exitCode: 2 };
    return { sources: [{ file }] };
  }
  let target: DeployTarget;
  try {
    target = readDeployTarget(readText(file), env);
  } catch (error) {
    return { error: `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, exitCode: 1 };
  }
  const apps = appsOf(target);
  if (apps === undefined) {
    if (app !== undefined) return { error: `${file}: ${target.varsTable} has no APPS; --app picks one app of a gate with APPS`, exitCode: 2 };
    const text = policyText(target);
    if (text === undefined) return { error: `${file}: ${target.varsTable} has no POLICY`, exitCode: 1 };
    return { sources: [{ file: policyLabel(file, target), text }] };
  }
  if (apps.length === 0) return { error: notAppList(file, target), exitCode: 1 };
  let chosen = apps;
  if (app !== undefined) {
    chosen = apps.filter((a) => a.name === app);
    if (chosen.length === 0) return { error: noSuchApp(file, target, apps, app), exitCode: 2 };
  } else if (options.command === "explain") {
    return { error: `${file}: ${target.varsTable} has APPS, each with its own policy: explain needs --app NAME (its apps: ${appNames(apps)})`, exitCode: 2 };
  }
  const missing = chosen.find((a) => a.policyText === undefined);
  if (missing !== undefined && options.command === "explain") return { error: `${file}: ${target.varsTable} ${missing.ref} has no policy`, exitCode: 1 };
  const admins = adminsText(target);
  return {
    sources: chosen.map((a) => ({
      file: `${file} ${target.varsTable} ${a.ref}`,
      text: a.policyText ?? "",
      app: a.ref,
      ...(admins === undefined ? {} : { admins }),
      ...(a.policyText === undefined ? { missing: true } : {}),
    })),
  };
}

/** What one deployment decides a request with: its single-app vars, or one app of APPS. */
export interface DeployedScope {
  /** Where the policy is, for messages: `wrangler.toml [vars.POLICY]`, `wrangler.toml [vars] APPS[1] (docs)`. */
  label: string;
  /** The audience the gate sends STS; undefined: not set (or not a string). */
  audience: string | undefined;
  /** The policy as JSON text; undefined: there is none. */
  policyText: string | undefined;
  /** With APPS: the app's place in APPS, its name, ref and path prefix (`/` if it has none or it is not a string). */
  app?: { index: number; name: string; ref: string; pathPrefix: string };
}

/**
 * The scope `sts-gate probe --config FILE [--app NAME]` asks about: without APPS, the single-app
 * vars (and no `--app`); with APPS, the app `--app` names, which is then required, because each
 * app has its own audience and policy.
 */
export function deployedScope(file: string, target: DeployTarget, app: string | undefined): DeployedScope | { error: string } {
  const apps = appsOf(target);
  if (apps === undefined) {
    if (app !== undefined) return { error: `${file}: ${target.varsTable} has no APPS; --app picks one app of a gate with APPS` };
    const audience = target.vars.AUDIENCE;
    return { label: policyLabel(file, target), audience: typeof audience === "string" ? audience : undefined, policyText: policyText(target) };
  }
  if (apps.length === 0) return { error: notAppList(file, target) };
  if (app === undefined) return { error: `${file}: ${target.varsTable} has APPS, each with its own audience and policy: pass --app NAME (its apps: ${appNames(apps)})` };
  const chosen = apps.find((a) => a.name === app);
  if (chosen === undefined) return { error: noSuchApp(file, target, apps, app) };
  const { audience, pathPrefix } = chosen.fields;
  const prefix = normalPrefix(typeof pathPrefix === "string" ? pathPrefix : undefined);
  return {
    label: `${file} ${target.varsTable} ${chosen.ref}`,
    audience: typeof audience === "string" ? audience : undefined,
    policyText: chosen.policyText,
    app: { index: chosen.index, name: app, ref: chosen.ref, pathPrefix: prefix },
  };
}
