import { describe, expect, it } from "vitest";
import { createGateApp, type GateWorker } from "../../src/gate/dispatch";
import { countedEnv, linesDuring, problemCode, through } from "../support/gate";
import { ALICE } from "../support/revocation";
import { bearer, mintToken } from "../support/tokens";

/**
 * A regression table for the one request path: each hostile request gets the same answer from the
 * gate configured with the single-app vars and from the same app written as APPS. Same status,
 * same problem code, same decision, and for a forwarded request the same target and the same
 * header names at the origin. (Before the dispatcher, the same table held the plain path and the
 * Hono app to one answer.)
 */
const POLICY = { rules: [{ name: "pdfs", methods: ["GET"], paths: ["/files/*.pdf"], allow: [ALICE] }, { name: "rest", methods: ["GET", "POST", "DELETE"], paths: ["/app/**"], allow: [ALICE] }] };

const HOSTILE: ReadonlyArray<[string, string, Record<string, string>]> = [
  ["GET", "/files/report.pdf", {}],
  ["GET", "/files/salaries.xlsx;.pdf", {}],
  ["GET", "/files/salaries.xlsx%3B.pdf", {}],
  ["GET", "/files/..;/admin.pdf", {}],
  ["GET", "/files/%2e%2e%2fadmin.pdf", {}],
  ["GET", "/files/a%00.pdf", {}],
  ["POST", "/app/x?.method=DELETE", {}],
  ["POST", "/app/x?_method%00=DELETE", {}],
  ["POST", "/app/x?%20_method=DELETE", {}],
  ["POST", "/app/x?_method[]=DELETE", {}],
  ["GET", "/app/x", { "X-Caller.Arn": "arn:aws:iam::111122223333:role/admin" }],
  ["GET", "/app/x", { "X.HTTP.Method.Override": "DELETE", "X_Original_URL": "/admin", "X-Forwarded.Host": "evil.example" }],
  ["GET", "/app/..%2fadmin", {}],
  ["GET", "/app/%252e%252e/admin", {}],
  ["GET", "/.well-known/sts-gate;/revocations", {}],
  ["GET", "/.well-known;/sts-gate/revocations", {}],
  ["GET", "/.well-known/sts-gate./revocations", {}],
  ["GET", "/.well-known/%C5%BFts-gate/revocations", {}],
  ["GET", "/.well-known/sts-gate/nothing", {}],
  ["DELETE", "/.well-known/sts-gate/revocations", {}],
  ["GET", "/elsewhere", {}],
];

interface Answer {
  status: number;
  code: string | undefined;
  line: Record<string, unknown> | undefined;
  forwarded: { url: string; headers: string[] } | undefined;
  origin: number;
}

/** The test gate's one app, written as APPS: its defaults (issuer, assertion audience) are the single-app ones. */
const AS_APPS = {
  AUDIENCE: undefined,
  ORIGIN_URL: undefined,
  POLICY: undefined,
  APPS: [{ name: "default", hosts: ["localhost"], audience: "sts-gate-test", originUrl: "http://echo-origin.local/base", policy: POLICY }],
};

async function answer(gate: GateWorker, method: string, path: string, headers: Record<string, string>, token: string, overrides: Record<string, unknown>): Promise<Answer> {
  const { env, calls } = countedEnv({ POLICY, ...overrides });
  const { result: res, decisions } = await linesDuring(() =>
    through(gate, env, `https://localhost${path}`, { method, headers: { ...(bearer(token) as Record<string, string>), ...headers }, body: method === "POST" ? "x" : undefined }),
  );
  const code = await problemCode(res);
  const echo = res.status === 200 && code === undefined ? ((await res.json()) as { url: string; headers: Record<string, string> }) : undefined;
  const line = decisions.length === 1 ? decisions[0] : undefined;
  const { requestId: _id, totalMs: _t, originMs: _o, stsMs: _s, cache: _c, ...stable } = line ?? {};
  return {
    status: res.status,
    code,
    line: line && stable,
    forwarded: echo && { url: echo.url, headers: Object.keys(echo.headers).sort() },
    origin: calls.origin,
  };
}

describe("the single-app gate and the same app as APPS answer every hostile request alike", () => {
  it.each(HOSTILE)("%s %s", async (method, path, headers) => {
    const token = await mintToken("alice");
    const plain = await answer(createGateApp(), method, path, headers, token, {});
    const routed = await answer(createGateApp(), method, path, headers, token, AS_APPS);
    expect(routed).toEqual(plain);
    // Each request was decided, once, with the status the client got.
    expect(plain.line).toMatchObject({ status: plain.status });
  });
});
