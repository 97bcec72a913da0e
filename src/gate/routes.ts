/**
 * The one classification of a request, in an explicit order (oauth2-proxy's router, Pomerium's
 * routes): misconfiguration first, then the gate's own paths, then the app the host and path
 * pick, then what that app does with it. Every request is classified once; each rule that
 * decides a class lives here and nowhere else.
 */
import { admittedOrigin, isPreflight } from "../cors.ts";
import { isLoopbackHost } from "../edge/dev-wiring.ts";
import { Misconfiguration } from "../observe/misconfigured.ts";
import { foldPath, GATE_PREFIX, isGatePath } from "../revocation/paths.ts";
import { appIsAmbiguous, appsForHost, matchApp, type AppConfig } from "./apps.ts";
import type { Runtime } from "./runtime.ts";

/** For uptime checks: no token, never reaches STS or the origin. */
export const HEALTH_PATH = "/.well-known/sts-gate/health";
/** Where the gate publishes its assertion keys; answered before authentication, on every app's hosts. */
export const JWKS_PATH = "/.well-known/jwks.json";
/** Who the gate thinks the caller is, policy aside (issue 21). */
export const WHOAMI_PATH = `${GATE_PREFIX}/whoami`;
/** Forward-auth for a fronting proxy (nginx auth_request, Caddy forward_auth, Traefik forwardAuth); off unless turned on. */
export const VERIFY_PATH = `${GATE_PREFIX}/verify`;

export type Route =
  /** An invalid configuration, or development wiring addressed by another host. */
  | { kind: "misconfigured"; failure: Misconfiguration }
  /** `app`: the app that serves the host, when the gate is ready and one does (named in the line). */
  | { kind: "health"; ready: Runtime | Misconfiguration; app: AppConfig | undefined }
  /** No app serves the host and path: 404 no_app, before any token work. */
  | { kind: "noApp" }
  /** A lenient origin would read the path as another app's: 400 app_ambiguous, before any token work. */
  | { kind: "appAmbiguous"; app: AppConfig }
  | { kind: "jwks"; app: AppConfig }
  /** Under /.well-known/sts-gate/: the admin API, or 404/405. Never forwarded. */
  | { kind: "gate"; app: AppConfig }
  | { kind: "whoami"; app: AppConfig }
  /** Answered only when the app has forward-auth on (rule `forwardAuthOff`); else 404 not_found. */
  | { kind: "forwardAuth"; app: AppConfig }
  | { kind: "preflight"; app: AppConfig; origin: string }
  /** A public path of the app: forwarded without verification. */
  | { kind: "public"; app: AppConfig }
  | { kind: "proxy"; app: AppConfig };

/**
 * Whether requests to this host are served, or refused as misconfigured: an invalid
 * configuration, or development wiring (rule `devWiringLoopbackOnly`) addressed by a host that
 * is not a loopback one. Health asks exactly this question.
 */
/**
 * Every spelling isGatePath reads as the gate's has an escape or `/.well-known` in it, in any
 * case: without an escape (the URL parser has escaped everything else that folds, NUL and `ſ`
 * included), the segment that becomes `.well-known` must begin with it, whatever `;` parameters,
 * trailing dots or repeated slashes surround it. So the full reading runs only for the few
 * paths that could need it.
 */
const GATE_PATH_HINT = /%|\/\.well-known/i;

function mayBeGatePath(pathname: string): boolean {
  return GATE_PATH_HINT.test(pathname);
}

export function readiness(ready: Runtime | Misconfiguration, hostname: string): Runtime | Misconfiguration {
  if (ready instanceof Misconfiguration) return ready;
  return ready.devWiring !== undefined && !isLoopbackHost(hostname) ? ready.devWiring : ready;
}

export function classify(request: Request, url: URL, prepared: Runtime | Misconfiguration): Route {
  const { pathname, hostname } = url;
  const readOnly = request.method === "GET" || request.method === "HEAD";
  const ready = readiness(prepared, hostname);
  // Health answers on any host, misconfigured or not: it is how an operator learns which.
  if (pathname === HEALTH_PATH && readOnly) return { kind: "health", ready, app: ready instanceof Misconfiguration ? undefined : hostApp(ready.config.apps, hostname, pathname) };
  if (ready instanceof Misconfiguration) return { kind: "misconfigured", failure: ready };
  const apps = ready.config.apps;
  // Rule `gatePrefix`: the gate's own paths, in every spelling, on every host an app serves.
  if ((pathname === JWKS_PATH && readOnly) || mayBeGatePath(pathname)) {
    const app = hostApp(apps, hostname, pathname);
    if (pathname === JWKS_PATH && readOnly) return app === undefined ? { kind: "noApp" } : { kind: "jwks", app };
    if (isGatePath(pathname)) {
      if (app === undefined) return { kind: "noApp" };
      // A page on an allowed origin may call the gate's own API (whoami, revocations) too.
      const origin = admittedOrigin(request.headers, app.corsAllowedOrigins);
      if (isPreflight(request, origin)) return { kind: "preflight", app, origin };
      if (pathname === WHOAMI_PATH) return { kind: "whoami", app };
      if (pathname === VERIFY_PATH) return { kind: "forwardAuth", app };
      return { kind: "gate", app };
    }
  }
  const chosen = chooseApp(apps, hostname, pathname);
  if (chosen.kind !== "app") return chosen;
  const { app } = chosen;
  const origin = admittedOrigin(request.headers, app.corsAllowedOrigins);
  if (isPreflight(request, origin)) return { kind: "preflight", app, origin };
  // Rule `publicPathsStrict` (ATTACKS #30).
  if (app.publicPaths.some((matches) => matches(pathname))) return { kind: "public", app };
  return { kind: "proxy", app };
}

/** What `no_app` and `app_ambiguous` tell the client, over HTTP and over RPC alike. */
export const NO_APP_DETAIL = "No app of this gate serves this host and path.";
export const APP_AMBIGUOUS_DETAIL =
  "The path could be read under another app's path prefix (an escape, ';', '//', letter case or a trailing dot); send it as the app's own path.";

export type AppChoice = { kind: "noApp" } | { kind: "appAmbiguous"; app: AppConfig } | { kind: "app"; app: AppConfig };

/**
 * Rule `appByHost` (ATTACKS #26): the app the URL the runtime saw picks, never a header; and
 * rule `appByFoldedPath`: refused when a lenient origin could read the path as another app's.
 * The one choice of an app, for requests over HTTP and for `StsGate.verify` alike.
 */
export function chooseApp(apps: readonly AppConfig[], hostname: string, pathname: string): AppChoice {
  const app = matchApp(apps, hostname, pathname);
  if (app === undefined) return { kind: "noApp" };
  if (appIsAmbiguous(apps, hostname, pathname, app, foldPath)) return { kind: "appAmbiguous", app };
  return { kind: "app", app };
}

/**
 * The app whose hosts the gate's own paths (health, the JWKS, the admin API) answer on: the one
 * the path picks, or else the host's first, since those paths lie under no app's prefix.
 */
function hostApp(apps: readonly AppConfig[], hostname: string, pathname: string): AppConfig | undefined {
  return matchApp(apps, hostname, pathname) ?? appsForHost(apps, hostname)[0];
}
