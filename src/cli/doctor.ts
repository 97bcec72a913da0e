/**
 * `sts-gate doctor`: checks a deploy configuration offline, before `wrangler deploy`. The
 * gate itself fails closed on a bad configuration (every request 500 misconfigured), so a
 * mistake shows up only after the deploy; this finds the usual ones first. Pure: the file's
 * text in, what to print and the exit status out.
 */
import { checkPolicyText } from "../policy/index.ts";
import { runPolicyCommand, type CliOutcome } from "./policy-command.ts";
import { whyAdmitsNoOne } from "../policy/reach.ts";
import { appsOf, parseDeployedVars, policyLabel, policyText, readDeployTarget, WranglerConfigError, type AppEntry, type DeployTarget } from "./wrangler-config.ts";

/** Names that only ever stand for examples or this machine. */
const EXAMPLE_HOST = /(^|\.)(example\.(com|net|org)|example|localhost|local|test|invalid)$|^127\.|^\[::1\]$|^0\.0\.0\.0$/i;

/** Vars the doctor checks itself, so the gate's own validation does not report them twice. */
const CHECKED_HERE = /^(IDENTITY_CACHE|POLICY|ASSERTION_PRIVATE_JWK)\b|^ASSERTION_PREVIOUS_PUBLIC_JWK: is set, but/;

export function runDoctor(file: string, text: string, env: string | undefined): CliOutcome {
  let target: DeployTarget;
  try {
    target = readDeployTarget(text, env);
  } catch (error) {
    if (!(error instanceof WranglerConfigError)) throw error;
    return { exitCode: 2, stdout: "", stderr: `sts-gate: ${file} ${error.message}\n` };
  }
  const where = target.env === undefined ? file : `${file} [env.${target.env}]`;
  const problems = deployProblems(target);
  if (problems.length > 0) {
    return { exitCode: 1, stdout: "", stderr: problems.map((p) => `${where}: ${p}\n`).join("") };
  }
  // Sound: say what would be deployed, in the words of `npm run policy -- check`; with APPS, for each app.
  const apps = appsOf(target);
  const checks =
    apps === undefined
      ? [runPolicyCommand({ command: "check", file: policyLabel(file, target) }, () => policyText(target) ?? "")]
      : apps.map((app) => runPolicyCommand({ command: "check", file: `${file} ${target.varsTable} ${app.ref}`, app: app.ref }, () => app.policyText ?? ""));
  const deploys = target.env === undefined ? `the top level, what wrangler deploy --env="" deploys` : `[env.${target.env}]`;
  const count = apps === undefined ? "" : `, ${apps.length} app${apps.length === 1 ? "" : "s"}: ${apps.map((a) => a.name).join(", ")}`;
  return {
    exitCode: 0,
    stdout: `${where}: no problems found (${deploys}${count})\n${checks.map((c) => c.stdout).join("")}`,
    stderr: checks.map((c) => c.stderr).join(""),
  };
}

/** One line per problem, each starting with the name it is about. */
export function deployProblems(target: DeployTarget): string[] {
  const problems: string[] = [];
  const prefix = target.env === undefined ? "" : `env.${target.env}.`;
  const { vars } = target;

  const kv = target.kvNamespaces.find((k) => k.binding === "IDENTITY_CACHE");
  const create = "create one with npx wrangler kv namespace create IDENTITY_CACHE and put the id it prints";
  if (kv === undefined) {
    problems.push(`IDENTITY_CACHE: no KV namespace is bound in [[${prefix}kv_namespaces]]; ${create} there`);
  } else if (kv.id === undefined || /^0+$/.test(kv.id)) {
    problems.push(`IDENTITY_CACHE: the KV namespace id is ${kv.id === undefined ? "missing" : `the placeholder ${kv.id}`}; ${create} in [[${prefix}kv_namespaces]]`);
  }

  const apps = appsOf(target);
  if (apps === undefined) problems.push(...singleAppProblems(target));
  else problems.push(...appsProblems(target, apps));

  for (const binding of ["STS", "ORIGIN"] as const) {
    const service = target.services.find((s) => s.binding === binding);
    if (service !== undefined) {
      const instead = binding === "STS" ? "the gate then calls the real STS endpoints" : "the gate then fetches ORIGIN_URL";
      problems.push(`${binding}: a service binding to ${service.service ?? "a Worker"} is for development and tests only; remove it from [[${prefix}services]] (${instead})`);
    }
  }

  for (const [name, value] of Object.entries(vars)) {
    if (name === "ASSERTION_PRIVATE_JWK" || looksLikePrivateKey(value)) {
      problems.push(
        `${name}: a private key in ${target.varsTable} is in git and shown in plain text in the dashboard; remove it and store it with npx wrangler secret put ${name === "ASSERTION_PRIVATE_JWK" ? name : "<NAME>"}`,
      );
    }
  }
  return problems;
}

/** The gate's own validation, for everything it checks. */
function gateIssues(vars: Record<string, unknown>): string[] {
  const parsed = parseDeployedVars(vars);
  return parsed.ok ? [] : parsed.issues.filter((i) => !CHECKED_HERE.test(i));
}

/** A gate without APPS: its one app, from AUDIENCE, ORIGIN_URL and POLICY. */
function singleAppProblems(target: DeployTarget): string[] {
  const problems: string[] = [];
  const { vars } = target;
  if (vars.AUDIENCE === undefined) {
    problems.push(`AUDIENCE: missing from ${target.varsTable}; set this gate's audience (callers mint with aws eks get-token --cluster-name <AUDIENCE>)`);
  }

  // A missing AUDIENCE or ORIGIN_URL has its own line (below and above), so not the schema's too.
  const missing = (i: string) => ["AUDIENCE", "ORIGIN_URL"].some((name) => vars[name] === undefined && i.startsWith(`${name}:`));
  const issues = gateIssues(vars).filter((i) => !missing(i));
  problems.push(...issues);

  const origin = vars.ORIGIN_URL;
  if (origin === undefined) {
    problems.push(`ORIGIN_URL: missing from ${target.varsTable}; set the https URL of the origin the gate protects`);
  } else if (!issues.some((i) => i.startsWith("ORIGIN_URL"))) {
    const url = new URL(String(origin));
    problems.push(...originProblems(url, "ORIGIN_URL", "the origin this gate protects"));
  }

  const text = policyText(target);
  if (text === undefined) {
    problems.push(`POLICY: missing from ${target.varsTable}; without it the gate admits no one (see npm run policy -- check)`);
  } else {
    const checked = checkPolicyText(text);
    if (!checked.ok) problems.push(...checked.issues);
    else {
      const noOne = whyAdmitsNoOne(checked.doc);
      if (noOne !== undefined) problems.push(`POLICY: admits no one: ${noOne}`);
    }
  }

  return problems;
}

/**
 * A gate with APPS: the gate's own validation with each issue named by its app (`APPS[1]
 * (docs): audience: …`), then, for each app, what the gate cannot see: an origin that is not
 * https or is an example, a host that is an example, a policy that admits no one.
 */
function appsProblems(target: DeployTarget, apps: AppEntry[]): string[] {
  const problems: string[] = [];
  const refs = new Map(apps.map((a) => [a.index, a.ref]));
  // `APPS[1].policy.rules[0]: …` becomes `APPS[1] (docs): policy.rules[0]: …`.
  const issues = gateIssues(target.vars).map((issue) =>
    issue
      .replace(/^APPS\[(\d+)\](?:\.([^:]*))?:/, (whole, i: string, field: string | undefined) => {
        const ref = refs.get(Number(i));
        if (ref === undefined) return whole;
        return field === undefined ? `${ref}:` : `${ref}: ${field}:`;
      })
      // And the other apps a message names (`is the audience of APPS[1] too`).
      .replace(/(?<=: .*)\bAPPS\[(\d+)\](?! \()/g, (whole, i: string) => refs.get(Number(i)) ?? whole),
  );
  problems.push(...issues);
  for (const app of apps) {
    const raw = target.vars.APPS as unknown[] | string;
    const doc = (typeof raw === "string" ? (JSON.parse(raw) as unknown[]) : raw)[app.index] as Record<string, unknown>;
    const said = (field: string) => issues.some((i) => i.startsWith(`${app.ref}: ${field}`));
    if (typeof doc.originUrl === "string" && !said("originUrl")) {
      problems.push(...originProblems(new URL(doc.originUrl), `${app.ref}: originUrl`, "the origin this app protects"));
    }
    if (Array.isArray(doc.hosts) && !said("hosts")) {
      doc.hosts.forEach((host: unknown, h) => {
        if (typeof host === "string" && EXAMPLE_HOST.test(host.replace(/^\*\./, ""))) problems.push(`${app.ref}: hosts[${h}]: ${host} is an example or local host; set a host this gate serves`);
      });
    }
    if (app.policyText === undefined) {
      if (!said("policy")) problems.push(`${app.ref}: policy: missing; without it the app admits no one (see npm run policy -- check)`);
    } else if (!said("policy")) {
      const checked = checkPolicyText(app.policyText);
      const noOne = checked.ok ? whyAdmitsNoOne(checked.doc) : undefined;
      if (noOne !== undefined) problems.push(`${app.ref}: policy: admits no one: ${noOne.replace(/\bPOLICY\b/g, "policy")}`);
    }
  }
  return problems;
}

/** An origin that is not https, or is an example or this machine. */
function originProblems(url: URL, name: string, what: string): string[] {
  const problems: string[] = [];
  if (url.protocol !== "https:") problems.push(`${name}: is ${url.protocol}//, not https: the identity headers and the origin's answers would cross the internet in clear text`);
  if (EXAMPLE_HOST.test(url.hostname)) problems.push(`${name}: ${url.hostname} is an example or local host; set ${what}`);
  return problems;
}

/** A private JWK (it has `d`), as an object or JSON text, or a PEM private key. */
function looksLikePrivateKey(value: unknown): boolean {
  let v = value;
  if (typeof v === "string") {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v)) return true;
    try {
      v = JSON.parse(v) as unknown;
    } catch {
      return false;
    }
  }
  return typeof v === "object" && v !== null && "kty" in v && "d" in v;
}
