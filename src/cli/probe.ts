/**
 * `sts-gate probe`: the production path before a deploy. Mints a token with the caller's
 * credentials and runs the gate's own code on it: the local validation (validateToken), the
 * STS exchange (exchangeWithSts) against the real endpoint, the identity rules
 * (identityFromSts) and, with a config, the policy. The tests here can only reach the
 * emulator; this is how a machine with internet access checks that real STS still answers
 * the way the gate expects. Pure apart from `fetch`, which the CLI gives as the network's.
 */
import { identityFromSts, type CallerIdentity, type StsAnswer } from "../identity.ts";
import { compilePolicy } from "../policy/index.ts";
import { isGatePath } from "../revocation/paths.ts";
import { routeOfProbe } from "./probe-route.ts";
import { checkAppPolicy, type CliOutcome } from "./policy-command.ts";
import { refusalOf } from "../problem.ts";
import { DEFAULT_STS_TIMEOUT_MS, exchangeWithSts, MAX_STS_BODY_BYTES } from "../sts/exchange.ts";
import { validateToken, type ValidatedToken } from "../token/validate.ts";
import { createToken, type AwsCredentials } from "../client/token.ts";
import { deployedScope, type DeployTarget } from "./wrangler-config.ts";

export interface ProbeOptions {
  credentials: AwsCredentials;
  audience: string;
  region: string;
  global?: boolean;
  /**
   * The gate's deploy configuration, for its policy and AUDIENCE (`--config`); with APPS, `app`
   * names the app whose audience and policy are asked (`--app`).
   */
  config?: { file: string; target: DeployTarget; app?: string };
  /** The request the policy is asked about; default GET, and the app's path prefix (or /). */
  method?: string;
  path?: string;
}

export interface ProbeRuntime {
  /**
   * How the exchange reaches STS. The CLI passes the network's fetch and nothing else;
   * only tests pass another (the emulator), so no configuration can point a probe elsewhere.
   */
  fetch: (request: Request) => Promise<Response>;
  now?: () => number;
}

interface Seen {
  url?: string;
  status?: number;
  contentType?: string | null;
  body?: Promise<string>;
}

export async function runProbe(options: ProbeOptions, runtime: ProbeRuntime): Promise<CliOutcome> {
  const now = runtime.now ?? Date.now;
  const lines: string[] = [];
  const differences: string[] = [];
  const show = (name: string, value: string) => lines.push(`${`${name}:`.padEnd(14)}${value}`);

  const scope = options.config && deployedScope(options.config.file, options.config.target, options.config.app);
  if (scope !== undefined && "error" in scope) return { exitCode: 2, stdout: "", stderr: `${scope.error}\n` };
  if (scope?.app !== undefined) show("app", `${scope.app.ref}: audience ${scope.audience ?? "(none)"}, pathPrefix ${scope.app.pathPrefix}`);
  const token = await createToken({ credentials: options.credentials, audience: options.audience, region: options.region, global: options.global, now });
  const configAudience = scope?.audience;
  if (scope !== undefined && configAudience !== undefined && configAudience !== options.audience) {
    const where = scope.app === undefined ? `${options.config!.file} says AUDIENCE =` : `${scope.app.ref}'s audience is`;
    differences.push(`audience: the token is for ${options.audience}, but ${where} ${JSON.stringify(configAudience)}; this gate's STS call would be refused (sts_refused, SignatureDoesNotMatch)`);
  }

  let validated: ValidatedToken | undefined;
  try {
    validated = validateToken(token.token, now());
    show("endpoint", `https://${validated.endpoint.host}/ (${validated.endpoint.region})`);
  } catch (error) {
    differences.push(`validation: the gate refuses the token before STS: ${describe(error)}`);
  }

  let identity: CallerIdentity | undefined;
  const seen: Seen = {};
  if (validated !== undefined) {
    const watched = async (request: Request): Promise<Response> => {
      seen.url = request.url;
      const response = await runtime.fetch(request);
      seen.status = response.status;
      seen.contentType = response.headers.get("content-type");
      seen.body = readSome(response.clone(), MAX_STS_BODY_BYTES);
      return response;
    };
    let answer: StsAnswer | undefined;
    try {
      // As the gate would: it sends its own AUDIENCE, whatever the token was minted for.
      const audience = typeof configAudience === "string" ? configAudience : options.audience;
      answer = await exchangeWithSts(validated, { audience, fetch: watched, timeoutMs: DEFAULT_STS_TIMEOUT_MS });
    } catch (error) {
      differences.push(`sts: ${describe(error)}`);
      if (refusalOf(error)?.code === "sts_bad_response" && seen.body) {
        for (const d of shapeDifferences(await seen.body)) differences.push(`sts answer: ${d}`);
      }
    }
    show("status", seen.status === undefined ? "no answer" : String(seen.status));
    show("content-type", seen.contentType === undefined ? "no answer" : (seen.contentType ?? "none"));
    if (seen.contentType !== undefined && !/^application\/json\s*(;|$)/i.test(seen.contentType ?? "")) {
      differences.push(`content-type: the gate requires application/json, STS sent ${seen.contentType ?? "none"}`);
    }
    if (answer !== undefined) {
      try {
        identity = identityFromSts(answer, validated.endpoint.partition);
      } catch (error) {
        show("identity", `${answer.arn} (account ${answer.account}, UserId ${answer.userId})`);
        differences.push(`identity: ${describe(error)}`);
      }
    }
  }
  if (identity !== undefined) {
    show("identity", identity.arn);
    show("principal", `${identity.principal} (${identity.type}, account ${identity.account}, UserId ${identity.userId})`);
  }

  let admitted: boolean | undefined;
  if (scope !== undefined) {
    const { label, app } = scope;
    const checked = scope.policyText === undefined ? undefined : checkAppPolicy(scope.policyText, { app: app?.ref });
    const method = options.method ?? "GET";
    const path = options.path ?? app?.pathPrefix ?? "/";
    let isPublic = false;
    if (app !== undefined) {
      const route = routeOfProbe(options.config!.target.vars, app, path);
      differences.push(...route.differences);
      isPublic = route.isPublic;
    }
    if (checked === undefined) {
      show("policy", `${label} is missing`);
      differences.push(app === undefined ? `policy: ${options.config!.target.varsTable} has no POLICY; the gate would answer 500 misconfigured` : `policy: ${app.ref} has no policy; the gate would answer 500 misconfigured`);
    } else if (!checked.ok) {
      show("policy", `${label} is invalid (npm run policy -- check ${options.config!.file})`);
      differences.push(`policy: ${checked.issues[0]}`);
    } else if (app !== undefined && isGatePath(path)) {
      show("policy", `not asked: ${path} is the gate's own API, which ADMINS (and whoami any valid token) decide, not an app's policy`);
    } else if (isPublic) {
      show("policy", `not asked: ${path} is a public path of ${app!.ref}; the gate forwards it for any method without verification`);
    } else if (identity !== undefined) {
      const decision = compilePolicy(checked.doc).decide(identity, { method, path });
      admitted = decision.allowed;
      show(
        "policy",
        decision.allowed
          ? `admits ${method} ${path}: rule ${decision.rule}${decision.pattern === undefined ? "" : ` (pattern ${decision.pattern})`}`
          : `refuses ${method} ${path}: ${decision.code}: ${decision.reason}`,
      );
    } else {
      show("policy", "not asked: there is no identity");
    }
  } else {
    show("policy", "not checked (pass --config wrangler.toml)");
  }

  if (differences.length === 0) show("differences", "none: real STS answers the way the gate expects");
  const ok = differences.length === 0 && identity !== undefined && admitted !== false;
  return {
    exitCode: ok ? 0 : 1,
    stdout: [...lines, ...differences.map((d) => `difference:   ${d}`)].map((l) => `${l}\n`).join(""),
    stderr: "",
  };
}

function describe(error: unknown): string {
  const refusal = refusalOf(error);
  if (refusal) return `${refusal.code}: ${refusal.detail}`;
  return error instanceof Error ? `${error.name}: ${error.message.split("\n")[0]}` : String(error);
}

/** About the first `max` bytes of a body, as text; for describing an answer the gate refused. */
async function readSome(response: Response, max: number): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  while (size < max) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel().catch(() => {});
  return text;
}

/** The GetCallerIdentity answer the gate's schema accepts, field by field (`?`: optional). */
const EXPECTED: Shape = {
  GetCallerIdentityResponse: {
    GetCallerIdentityResult: { Arn: "string", Account: "string", UserId: "string" },
    "ResponseMetadata?": { RequestId: "string" },
  },
};
type Shape = { [key: string]: Shape | "string" };

/** How a body differs from what the gate's schema accepts, in field names. */
export function shapeDifferences(body: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return [`the body is not JSON; it starts ${JSON.stringify(body.slice(0, 60))}`];
  }
  const out: string[] = [];
  const walk = (expected: Shape, actual: unknown, at: string) => {
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) {
      out.push(`${at || "the body"} is not an object`);
      return;
    }
    const keys = new Set(Object.keys(actual));
    for (const [rawKey, want] of Object.entries(expected)) {
      const key = rawKey.replace(/\?$/, "");
      const path = at ? `${at}.${key}` : key;
      const value = (actual as Record<string, unknown>)[key];
      keys.delete(key);
      if (value === undefined) {
        if (!rawKey.endsWith("?")) out.push(`missing field ${path}`);
      } else if (want === "string") {
        if (typeof value !== "string") out.push(`${path} is a ${typeof value}, not a string`);
      } else walk(want, value, path);
    }
    for (const extra of keys) out.push(`unexpected field ${at ? `${at}.${extra}` : extra}`);
  };
  walk(EXPECTED, json, "");
  return out;
}
