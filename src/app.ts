import { Hono } from "hono";
import type { IdentityCache } from "./cache";
import { parseConfig, type GateConfig, type GateEnv } from "./config";
import { forwardToOrigin } from "./forward";
import { log } from "./log";
import { stsAuth, type StsAuthVariables } from "./middleware";
import { GateProblem, problemResponse } from "./problem";

export interface GateAppOptions {
  now?: () => number;
  cache?: IdentityCache;
}

type AppEnv = { Bindings: GateEnv; Variables: StsAuthVariables & { config: GateConfig } };

/** The gate: the stsAuth middleware configured from the Worker's env, then forwarding. */
export function createGateApp(options: GateAppOptions = {}) {
  const app = new Hono<AppEnv>();

  app.use("*", async (c, next) => {
    const config = configFor(c.env);
    if (config instanceof GateProblem) return config.getResponse();
    c.set("config", config);
    await next();
  });
  app.use(
    "*",
    stsAuth((c) => {
      const config = c.get("config") as GateConfig;
      return {
        audience: config.audience,
        policy: config.policy,
        kv: config.identityCache,
        sts: config.sts,
        timeoutMs: config.stsTimeoutMs,
        ...options,
      };
    }),
  );
  app.all("*", (c) => forwardToOrigin(c.req.raw, c.var.caller, { originUrl: c.var.config.originUrl, origin: c.var.config.origin }));

  app.onError((error) => {
    if (error instanceof GateProblem) return error.getResponse();
    log({ event: "internal", level: "error", message: "unexpected error", error: error.name });
    return problemResponse("internal_error");
  });
  return app;
}

// The env object is stable for an isolate's life, so configuration is parsed once per env.
const configs = new WeakMap<object, GateConfig | GateProblem>();

function configFor(env: GateEnv | undefined): GateConfig | GateProblem {
  const key = env ?? {};
  let config = configs.get(key);
  if (config === undefined) {
    const parsed = parseConfig(key);
    if (parsed.ok) {
      config = parsed.config;
    } else {
      // Each issue names the field; values are never printed, since vars may hold secrets.
      for (const issue of parsed.issues) log({ event: "config", level: "error", message: issue, code: "misconfigured" });
      config = new GateProblem("misconfigured", "The gate's configuration is invalid; its logs name the field.");
    }
    configs.set(key, config);
  }
  return config;
}
