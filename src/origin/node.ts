/**
 * Express / Node `http` middleware for origins behind sts-gate. No Node imports: the request
 * and response are typed by the few members used, so this module loads in any runtime.
 *
 *   app.use(requireCaller({ jwks: "https://gate.example.com/.well-known/jwks.json",
 *                           issuer: "urn:sts-gate:payments-api-prod",
 *                           audience: "https://origin.example.com" }));
 *   app.get("/x", (req, res) => res.json({ hello: req.caller.principal }));
 */
import { callerProblem } from "./problem.ts";
import { CallerVerificationError, createCallerVerifier, type VerifiedCaller, type VerifyCallerOptions } from "./verify.ts";

/** The members of `http.IncomingMessage` (and Express's `Request`) this middleware reads. */
export interface NodeRequestLike {
  method?: string;
  /** The request target as received, e.g. `/base/x?y=1`. */
  url?: string;
  /** Express: the URL before any router mount point was stripped from `url`. */
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  caller?: VerifiedCaller;
}

/** The members of `http.ServerResponse` this middleware writes. */
export interface NodeResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

export interface NodeRequireCallerOptions extends VerifyCallerOptions {
  /**
   * The path and query the gate sent, if a proxy between the gate and this process rewrites
   * them. Default: `req.originalUrl` (Express) or `req.url`.
   */
  urlOf?: (req: NodeRequestLike) => string;
}

/**
 * `(req, res, next)`: verifies the assertion; on success sets `req.caller` and calls `next()`,
 * on failure answers 401 (503 if the gate's keys cannot be fetched) `application/problem+json`
 * and does not call `next`. An unexpected error (a bug, a bad option) goes to `next(error)`.
 */
export function requireCaller(options: NodeRequireCallerOptions) {
  const verify = createCallerVerifier(options);
  const urlOf = options.urlOf ?? ((req: NodeRequestLike) => req.originalUrl ?? req.url ?? "/");
  return async function requireCallerMiddleware(req: NodeRequestLike, res: NodeResponseLike, next: (error?: unknown) => void): Promise<void> {
    let caller: VerifiedCaller;
    try {
      caller = await verify({ method: req.method ?? "GET", url: urlOf(req), headers: { get: (name) => header(req, name) } });
    } catch (error) {
      if (!(error instanceof CallerVerificationError)) return next(error);
      const problem = callerProblem(error);
      res.statusCode = problem.status;
      for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
      res.end(problem.body);
      return;
    }
    req.caller = caller;
    next();
  };
}

/** Node lower-cases header names; a repeated header arrives joined or as an array, and fails. */
function header(req: NodeRequestLike, name: string): string | null {
  const value = req.headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
}

export { CallerVerificationError, type VerifiedCaller, type VerifyCallerOptions };
