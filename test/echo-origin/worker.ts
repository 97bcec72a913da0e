/**
 * The demo origin: verifies the gate's signed assertion (src/origin/hono.ts), refuses any
 * request without a valid one (401 problem+json), and answers with exactly what it received,
 * plus the verified caller, so a person (or a test) can see the whole chain of trust: which
 * headers the gate forwarded, which it stripped, and who the signature says is calling.
 */
import { Hono } from "hono";
import type { JSONWebKeySet } from "jose";
import { requireCaller, type CallerVariables, type VerifyCallerOptions } from "../../src/origin/hono";

interface EchoEnv {
  /** The gate's public key set, as JSON text or a table: `{"keys":[...]}`. */
  ASSERTION_JWKS?: unknown;
  /** The gate's ASSERTION_ISSUER. */
  ASSERTION_ISSUER?: string;
  /** This origin, as the gate names it (the gate's ASSERTION_AUDIENCE). */
  ASSERTION_AUDIENCE?: string;
}

// One options object per env, so the verifier's key set (and its imported keys) is built once.
const optionsByEnv = new WeakMap<object, VerifyCallerOptions>();

function verifierOptions(env: EchoEnv): VerifyCallerOptions {
  let options = optionsByEnv.get(env);
  if (options === undefined) {
    const jwks = (typeof env.ASSERTION_JWKS === "string" ? JSON.parse(env.ASSERTION_JWKS) : env.ASSERTION_JWKS) as JSONWebKeySet | undefined;
    if (!jwks || !env.ASSERTION_ISSUER || !env.ASSERTION_AUDIENCE) {
      throw new Error("echo-origin needs ASSERTION_JWKS, ASSERTION_ISSUER and ASSERTION_AUDIENCE (test/echo-origin/wrangler.toml)");
    }
    options = { jwks, issuer: env.ASSERTION_ISSUER, audience: env.ASSERTION_AUDIENCE };
    optionsByEnv.set(env, options);
  }
  return options;
}

const app = new Hono<{ Bindings: EchoEnv; Variables: CallerVariables }>();

app.use("*", requireCaller((c) => verifierOptions(c.env)));

app.all("*", async (c) => {
  const request = c.req.raw;
  if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
    // A WebSocket that echoes each message back with the verified caller's ARN, so a test sees
    // that the upgrade passed the gate and that the connection is the caller's.
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    server.accept();
    server.addEventListener("message", (event) => server.send(`${c.var.caller.arn}: ${String(event.data)}`));
    return new Response(null, { status: 101, webSocket: client });
  }
  if (new URL(request.url).pathname.endsWith("/redirect")) {
    return new Response(null, { status: 302, headers: { location: "https://elsewhere.example/next" } });
  }
  const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
  return Response.json({
    method: request.method,
    url: request.url,
    headers: Object.fromEntries(request.headers),
    body,
    caller: c.var.caller,
  });
});

export default app;
