import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { CORS_MAX_AGE_SECONDS } from "../../src/cors";
import { logLines, through } from "../support/gate";
import { bearer, mintToken } from "../support/tokens";

const APP = "https://app.example.com";
const LOCAL = "http://localhost:5173";

/** The test env with CORS configured, and STS and the origin counted. */
function corsEnv(overrides: Record<string, unknown> = {}, origin?: () => Promise<Response>) {
  const calls = { sts: 0, origin: 0 };
  const testEnv = {
    ...env,
    CORS_ALLOWED_ORIGINS: `${APP}, ${LOCAL}`,
    STS: { fetch: (input: RequestInfo, init?: RequestInit) => (calls.sts++, env.STS.fetch(input, init)) },
    ORIGIN: { fetch: (input: RequestInfo, init?: RequestInit) => (calls.origin++, origin ? origin() : env.ORIGIN.fetch(input, init)) },
    ...overrides,
  };
  const gate = createGateApp();
  const send = async (init: RequestInit & { path?: string }) => {
    const res = await through(gate, testEnv, new Request(`https://localhost${init.path ?? "/cors"}`, init));
    return res;
  };
  return { calls, send };
}

function corsHeaders(res: Response): string[] {
  return [...res.headers.keys()].filter((k) => k.startsWith("access-control-"));
}

const preflight = (origin: string, requestHeaders = "authorization, content-type") => ({
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": requestHeaders },
});

afterEach(() => vi.restoreAllMocks());

describe("CORS preflight", () => {
  it.each([APP, LOCAL])("answers a preflight from %s itself: 204, no token, nothing reaches STS or the origin", async (origin) => {
    const { calls, send } = corsEnv();
    const res = await send(preflight(origin));
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(res.headers.get("access-control-allow-origin")).toBe(origin);
    expect(res.headers.get("access-control-allow-methods")?.split(", ")).toEqual(expect.arrayContaining(["GET", "POST", "PUT", "DELETE"]));
    const allowHeaders = res.headers.get("access-control-allow-headers")?.toLowerCase().split(/,\s*/);
    expect(allowHeaders).toEqual(expect.arrayContaining(["authorization", "content-type"]));
    expect(res.headers.get("access-control-max-age")).toBe(String(CORS_MAX_AGE_SECONDS));
    expect(res.headers.get("vary")).toContain("Origin");
    expect(calls).toEqual({ sts: 0, origin: 0 });
  });

  it("always allows Authorization, even when the page did not list it", async () => {
    const res = await corsEnv().send(preflight(APP, "x-trace-id"));
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization, x-trace-id");
  });

  it("drops requested header names that are not HTTP tokens", async () => {
    const res = await corsEnv().send(preflight(APP, "x-ok, bad name, \"quoted\""));
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization, x-ok");
  });

  it.each([
    ["another origin", "https://evil.example.com"],
    ["a look-alike with a path", `${APP}/`],
    ["another scheme", "http://app.example.com"],
    ["another port", "https://app.example.com:8443"],
    ["the null origin", "null"],
  ])("gives %s no CORS headers: the preflight goes to authentication and is refused", async (_why, origin) => {
    const { calls, send } = corsEnv();
    const res = await send(preflight(origin));
    expect(res.status).toBe(401);
    expect(corsHeaders(res)).toEqual([]);
    expect(calls).toEqual({ sts: 0, origin: 0 });
  });

  it.each([["/.well-known/sts-gate/whoami"], ["/.well-known/sts-gate/revocations"]])("answers a preflight to the gate's own %s too", async (path) => {
    const { calls, send } = corsEnv();
    const res = await send({ ...preflight(APP), path });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(calls).toEqual({ sts: 0, origin: 0 });
  });

  it("answers no preflight when CORS_ALLOWED_ORIGINS is not set", async () => {
    const res = await corsEnv({ CORS_ALLOWED_ORIGINS: undefined }).send(preflight(APP));
    expect(res.status).toBe(401);
    expect(corsHeaders(res)).toEqual([]);
  });

  it("treats an OPTIONS request without Access-Control-Request-Method as an ordinary request", async () => {
    const { calls, send } = corsEnv();
    const res = await send({ method: "OPTIONS", headers: { origin: APP } });
    expect(res.status).toBe(401);
    expect(calls.origin).toBe(0);
    // Still an answer to an allowed origin, so the page can read the refusal.
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
  });
});

describe("CORS on actual responses", () => {
  it("an allowed origin's request is authenticated and forwarded, and the answer carries ACAO and Vary: Origin", async () => {
    const { calls, send } = corsEnv();
    const res = await send({ headers: { origin: APP, ...bearer(await mintToken("alice")) } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("vary")?.split(/,\s*/)).toContain("Origin");
    expect(res.headers.get("access-control-expose-headers")).toContain("WWW-Authenticate");
    expect(((await res.json()) as { caller: { arn: string } }).caller.arn).toBe("arn:aws:iam::111122223333:user/alice");
    expect(calls).toEqual({ sts: 1, origin: 1 });
  });

  it("a refusal to an allowed origin carries ACAO too, so the page can read the code", async () => {
    const res = await corsEnv().send({ headers: { origin: APP } });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("vary")).toBe("Origin");
    expect(((await res.json()) as { code: string }).code).toBe("authorization_missing");
  });

  it("keeps the origin's own Vary and adds Origin to it", async () => {
    const origin = async () => new Response("ok", { headers: { vary: "Accept-Encoding" } });
    const res = await corsEnv({}, origin).send({ headers: { origin: APP, ...bearer(await mintToken("alice")) } });
    expect(res.headers.get("vary")).toBe("Accept-Encoding, Origin");
  });

  it("gives another origin's request no CORS headers, though it is served", async () => {
    const res = await corsEnv().send({ headers: { origin: "https://evil.example.com", ...bearer(await mintToken("alice")) } });
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual([]);
    expect(res.headers.get("vary") ?? "").not.toContain("Origin");
  });

  it("lets no Access-Control-* header from the origin through: the list is the gate's", async () => {
    const origin = async () =>
      new Response("ok", { headers: { "access-control-allow-origin": "*", "access-control-allow-credentials": "true" } });
    const token = await mintToken("alice");
    const other = await corsEnv({}, origin).send({ headers: { origin: "https://evil.example.com", ...bearer(token) } });
    expect(other.status).toBe(200);
    expect(corsHeaders(other)).toEqual([]);
    const allowed = await corsEnv({}, origin).send({ headers: { origin: APP, ...bearer(token) } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe(APP);
    expect(allowed.headers.get("access-control-allow-credentials")).toBeNull();
  });
});

describe("CORS_ALLOWED_ORIGINS configuration", () => {
  it.each([
    ["'*'", "*", "CORS_ALLOWED_ORIGINS[0]"],
    ["'*' among origins", `${APP},*`, "CORS_ALLOWED_ORIGINS[1]"],
    ["a wildcard subdomain", "https://*.example.com", "CORS_ALLOWED_ORIGINS[0]"],
    ["a trailing slash", `${APP}/`, "CORS_ALLOWED_ORIGINS[0]"],
    ["a path", `${APP}/app`, "CORS_ALLOWED_ORIGINS[0]"],
    ["a bare host", "app.example.com", "CORS_ALLOWED_ORIGINS[0]"],
    ["an empty entry", `${APP},,${LOCAL}`, "CORS_ALLOWED_ORIGINS[1]"],
    ["a list instead of a string", [APP], "CORS_ALLOWED_ORIGINS"],
  ])("refuses %s: 500 misconfigured, every request, with a log line naming the entry", async (_why, value, field) => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const { calls, send } = corsEnv({ CORS_ALLOWED_ORIGINS: value });
    const res = await send(preflight(APP));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe("misconfigured");
    expect(corsHeaders(res)).toEqual([]);
    expect(calls).toEqual({ sts: 0, origin: 0 });
    const lines = logLines<{ event: string; message: string }>(log);
    expect(lines.some((l) => l.event === "config" && l.message.startsWith(`${field}:`))).toBe(true);
  });
});
