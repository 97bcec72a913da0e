/**
 * `sts-gate probe --app`: what the deployed gate would do with the probe's request before any
 * policy is asked. It is the gate's own code on the deploy configuration: `parseConfig` (a
 * problem anywhere in it makes the gate answer 500 to every request), then the routing of
 * src/gate/routes.ts (`chooseApp`, public paths), so that a probe never asks an
 * app's policy about a request the gate would send to another app, refuse, or let through.
 */
import { chooseApp } from "../gate/routes.ts";
import { parseDeployedVars } from "./wrangler-config.ts";

export interface ProbedApp {
  /** Its place in APPS, its name, and how messages name it (`APPS[1] (docs)`). */
  index: number;
  name: string;
  ref: string;
}

export interface ProbeRoute {
  /** What differs from "this app serves the request": one line each. */
  differences: string[];
  /** The path is one of the app's public paths: the gate forwards it without asking the policy. */
  isPublic: boolean;
}

export function routeOfProbe(vars: Readonly<Record<string, unknown>>, app: ProbedApp, path: string): ProbeRoute {
  const parsed = parseDeployedVars(vars);
  if (!parsed.ok) {
    // The app's own policy has its own line in the probe's output.
    const own = `APPS[${app.index}].policy`;
    const issues = parsed.issues.filter((i) => !(i.startsWith(`${own}:`) || i.startsWith(`${own}.`) || i.startsWith(`${own}[`)));
    if (issues.length === 0) return { differences: [], isPublic: false };
    const more = issues.length > 1 ? `, and ${issues.length - 1} more` : "";
    return { differences: [`config: ${issues[0]}${more}; the gate would answer 500 misconfigured to every request (sts-gate doctor lists them)`], isPublic: false };
  }
  const apps = parsed.config.apps;
  const compiled = apps.find((a) => a.name === app.name);
  // APPS names are unique once parsed, and the probed app came from this list.
  if (compiled === undefined) return { differences: [`config: no app named ${app.name} after parsing`], isPublic: false };
  // A request on the app's first host; a wildcard host stands for one of its names.
  const host = (compiled.hosts?.[0] ?? "").replace(/^\*\./, "probe.");
  const chosen = chooseApp(apps, host, path);
  if (chosen.kind === "noApp" || chosen.app !== compiled) {
    const to = chosen.kind === "noApp" ? "no app (404 no_app)" : `the app ${chosen.app.name}`;
    return { differences: [`path: on ${host} the gate sends ${path} to ${to}, not to ${app.ref}`], isPublic: false };
  }
  if (chosen.kind === "appAmbiguous") {
    return { differences: [`path: on ${host} the gate refuses ${path} (400 app_ambiguous): another app's prefix could read it`], isPublic: false };
  }
  return { differences: [], isPublic: compiled.publicPaths.some((matches) => matches(path)) };
}
