/**
 * `StsGate.verify(request)`: the gate's decision for another Worker, over a service binding's RPC
 * (issue 21). The same verifier and policy as a proxied request, deciding on the request's
 * `Authorization`, method, path and host (which picks the app); nothing is forwarded. It
 * resolves to a plain verdict, never a thrown error, and writes one decision line, mode `rpc`.
 */
import { authorize } from "../../authorize.ts";
import { GateError, PROBLEMS, type ProblemCode } from "../../errors.ts";
import { errorName, log } from "../../log.ts";
import { Decision, requestIdFrom } from "../../observe/decision.ts";
import { logMisconfiguration, Misconfiguration } from "../../observe/misconfigured.ts";
import { refusalOf } from "../../problem.ts";
import type { GateEnv } from "../../config.ts";
import { assignApp } from "../decision-app.ts";
import { APP_AMBIGUOUS_DETAIL, chooseApp, NO_APP_DETAIL, readiness } from "../routes.ts";
import type { Runtime } from "../runtime.ts";
import { RequestContext } from "./context.ts";
import { identityBody, type WhoamiBody } from "./whoami.ts";

export type RpcVerdict =
  | { allowed: true; caller: WhoamiBody; rule: string }
  | { allowed: false; status: number; code: ProblemCode; detail: string };

export async function rpcVerify(request: Request, prepared: Runtime | Misconfiguration, execution: ExecutionContext | undefined, env: GateEnv | undefined): Promise<RpcVerdict> {
  let url: URL;
  let decision: Decision;
  try {
    url = new URL(request.url);
    decision = new Decision(requestIdFrom(request.headers), request.method, url.pathname);
  } catch (error) {
    // Not a Request at all (a caller's mistake): refused without a line to attach it to.
    log({ event: "internal", level: "error", message: "StsGate.verify was not given a Request", error: errorName(error) });
    return refusal("internal_error", "StsGate.verify needs a Request.");
  }
  decision.mode = "rpc";
  try {
    const ready = readiness(prepared, url.hostname);
    if (ready instanceof Misconfiguration) {
      assignApp(decision, ready, undefined, env);
      logMisconfiguration(ready, decision.requestId);
      const problem = new GateError("misconfigured", `The gate's configuration is invalid (${ready.settings.join(", ") || "the environment"}); its logs say why.`);
      decision.finish({ status: problem.status, settings: ready.settings, error: problem });
      return refusal(problem.code, problem.detail);
    }
    decision.logAllowed = ready.config.logAllowed;
    // The request's own host and path pick the app, by the same choice as over HTTP.
    const chosen = chooseApp(ready.config.apps, url.hostname, url.pathname);
    assignApp(decision, ready, chosen.kind === "noApp" ? undefined : chosen.app, env);
    if (chosen.kind === "noApp") throw new GateError("no_app", NO_APP_DETAIL);
    if (chosen.kind === "appAmbiguous") throw new GateError("app_ambiguous", APP_AMBIGUOUS_DETAIL);
    const config = chosen.app;
    const app = ready.of(config);
    const ctx = new RequestContext(request, url, ready, decision, execution);
    const caller = await authorize(app.verifier, config.policy, ctx.authorizeRequest(), decision);
    decision.finish({ status: 200 });
    return { allowed: true, caller: identityBody(caller), rule: caller.rule };
  } catch (error) {
    const known = refusalOf(error);
    if (known === undefined) log({ event: "internal", level: "error", message: "unexpected error", error: errorName(error), requestId: decision.requestId });
    const verdict = known === undefined ? refusal("internal_error") : refusal(known.code, known.detail);
    decision.finish({ status: verdict.status, error: known ?? error });
    return verdict;
  }
}

function refusal(code: ProblemCode, detail?: string): Extract<RpcVerdict, { allowed: false }> {
  const { status, title } = PROBLEMS[code];
  return { allowed: false, status, code, detail: detail ?? title };
}
