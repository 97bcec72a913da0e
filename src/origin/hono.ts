/**
 * Hono middleware for origins behind sts-gate (a Worker, Deno, Bun or Node with Hono).
 *
 *   app.use("*", requireCaller({ jwks: { keys: [...] }, issuer: "urn:sts-gate:…", audience: "https://…" }));
 *   app.get("/x", (c) => c.json({ hello: c.var.caller.principal }));
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import { callerProblem } from "./problem.ts";
import { CallerVerificationError, verifyCaller, type VerifiedCaller, type VerifyCallerOptions } from "./verify.ts";

export type CallerVariables = { caller: VerifiedCaller };

/**
 * Verifies `c.req.raw` and sets `c.var.caller`. A refusal is thrown as an `HTTPException`
 * (401, or 503 if the keys cannot be fetched) whose response is the problem+json body, so an
 * app's `onError` sees it like any other. `options` may be a function of the context, for
 * values that come from bindings; return the same object each time (key sets are cached by it).
 */
export function requireCaller(options: VerifyCallerOptions | ((c: Context) => VerifyCallerOptions)) {
  return createMiddleware<{ Variables: CallerVariables }>(async (c, next) => {
    const o = typeof options === "function" ? options(c) : options;
    try {
      c.set("caller", await verifyCaller(c.req.raw, o));
    } catch (error) {
      if (!(error instanceof CallerVerificationError)) throw error;
      const problem = callerProblem(error);
      const res = new Response(problem.body, { status: problem.status, headers: problem.headers });
      throw new HTTPException(problem.status, { res, message: error.message, cause: error });
    }
    await next();
  });
}

export { CallerVerificationError, type VerifiedCaller, type VerifyCallerOptions };
