/**
 * What every fronting proxy of docs/forward-auth.md must do with the gate's forward-auth, run
 * against each real proxy (nginx-forward-auth.test.ts, caddy-forward-auth.test.ts): one set of
 * cases, so that a proxy's configuration is held to exactly the same contract as the others.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { decodeJwt } from "jose";
import { expect, it } from "vitest";
import { generateAssertionKey } from "../../src/assertion/generate.ts";
import { decisionsSince, listen, send, startGate, type GateHarness } from "./harness";

export const ALICE = "arn:aws:iam::111122223333:user/alice";
const POLICY = { rules: [{ name: "reports", methods: ["GET"], paths: ["/reports/**"], allow: [ALICE, { permissionSet: "AdministratorAccess", account: "111122223333" }] }] };

/** The only names with "caller" in them that may reach the origin: the gate's, as the gate spells them. */
const GATE_NAMES = new Set(
  ["arn", "principal", "account", "user-id", "type", "role", "session", "permission-set", "user", "assertion"].map((n) => `x-caller-${n}`),
);

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** The origin behind the proxy, which records what reaches it, and the gate the proxy asks. */
export interface Fronted {
  origin: Server;
  originPort: number;
  originSaw: Seen[];
  gate: GateHarness;
  gatePort: number;
}

export async function startFronted(): Promise<Fronted> {
  const originSaw: Seen[] = [];
  const origin = createServer((req, res) => {
    originSaw.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ origin: true }));
  });
  const originPort = await listen(origin);
  const key = await generateAssertionKey("EdDSA");
  const gate = await startGate(originPort, { ORIGIN_URL: "http://origin.local", POLICY, FORWARD_AUTH: "true", ASSERTION_PRIVATE_JWK: JSON.stringify(key.privateJwk) });
  return { origin, originPort, originSaw, gate, gatePort: Number(new URL(gate.url).port) };
}

/** Starts the proxy and waits until it answers on `port`; its stderr is in the error if it exits. */
export async function startProxy(command: string, args: string[], port: number, env?: NodeJS.ProcessEnv): Promise<ChildProcess> {
  let log = "";
  const child = spawn(command, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  child.stderr!.on("data", (c: Buffer) => (log += c.toString("utf8")));
  for (let i = 0; i < 200; i++) {
    const up = await send(port, "GET", "/", {}).then(
      () => true,
      () => false,
    );
    if (up) return child;
    if (child.exitCode !== null) throw new Error(`${command} exited: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error(`${command} did not answer on port ${port}: ${log}`);
}

/** The cases, for the proxy listening on `proxyPort()` in front of `fronted()`. */
export function forwardAuthContract(proxy: string, fronted: () => Fronted, proxyPort: () => number): void {
  it(`a valid token reaches the origin with the gate's identity headers set by ${proxy}, and none of the client's`, async () => {
    const { originSaw, gate } = fronted();
    originSaw.length = 0;
    const from = gate.lines.length;
    const res = await send(proxyPort(), "GET", "/reports/q1?format=csv", {
      authorization: `Bearer ${await gate.token("alice")}`,
      "x-caller-arn": "forged",
      // Facts an IAM user's identity lacks: the client's own must not stand in for them.
      "x-caller-user": "ceo@example.com",
      "x-caller-permission-set": "AdministratorAccess",
      x_caller_role: "admin",
      // Mixed spellings a CGI-style origin (PHP behind FastCGI) reads as X-Caller-User and X-Caller-Arn.
      "X-Caller_User": "ceo@example.com",
      "X_Caller-Arn": "forged",
      "X-Caller.User": "ceo@example.com",
    });
    expect(res.status, res.text).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ origin: true });
    expect(originSaw).toHaveLength(1);
    const saw = originSaw[0]!;
    expect(saw.url).toBe("/reports/q1?format=csv");
    expect(saw.headers["x-caller-arn"]).toBe(ALICE);
    expect(saw.headers["x-caller-principal"]).toBe(ALICE);
    expect(saw.headers["x-caller-account"]).toBe("111122223333");
    expect(saw.headers["x-caller-type"]).toBe("user");
    expect(saw.headers["x-caller-user-id"]).toMatch(/^AIDA/);
    expect(saw.headers.authorization).toBeUndefined();
    // Neither the client's value nor any stand-in (Caddy before 2.10 sends its placeholder text).
    for (const absent of ["x-caller-user", "x-caller-permission-set", "x-caller-role", "x-caller-session"]) expect(saw.headers[absent], absent).toBeUndefined();
    expect(Object.keys(saw.headers).filter((h) => h.includes("_"))).toEqual([]);
    expect(Object.keys(saw.headers).filter((h) => /caller/i.test(h) && !GATE_NAMES.has(h))).toEqual([]);
    expect(decodeJwt(String(saw.headers["x-caller-assertion"]))).toMatchObject({ htm: "GET", htu: "/reports/q1?format=csv", arn: ALICE });
    expect(decisionsSince(gate, from)).toEqual([expect.objectContaining({ mode: "forward-auth", outcome: "allow", method: "GET", path: "/reports/q1" })]);
  });

  it("an Identity Center session reaches the origin with every fact the gate knows, none removed", async () => {
    const { originSaw, gate } = fronted();
    originSaw.length = 0;
    const res = await send(proxyPort(), "GET", "/reports/q2", { authorization: `Bearer ${await gate.token("sso-admin")}`, "x-caller-user": "ceo@example.com" });
    expect(res.status, res.text).toBe(200);
    expect(originSaw).toHaveLength(1);
    expect(originSaw[0]!.headers).toMatchObject({
      "x-caller-type": "assumed-role",
      "x-caller-role": "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
      "x-caller-session": "Alice.Smith@example.com",
      "x-caller-permission-set": "AdministratorAccess",
      "x-caller-user": "Alice.Smith@example.com",
    });
    expect(decodeJwt(String(originSaw[0]!.headers["x-caller-assertion"]))).toMatchObject({ htu: "/reports/q2", user: "Alice.Smith@example.com" });
  });

  it("a missing token gets the gate's 401, problem+json, and never reaches the origin", async () => {
    const { originSaw } = fronted();
    originSaw.length = 0;
    const res = await send(proxyPort(), "GET", "/reports/q1", {});
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(res.text)).toMatchObject({ code: "authorization_missing" });
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="sts-gate"');
    expect(originSaw).toHaveLength(0);
  });

  it("a token the policy refuses gets the gate's 403 and never reaches the origin", async () => {
    const { originSaw, gate } = fronted();
    originSaw.length = 0;
    const res = await send(proxyPort(), "GET", "/admin/x", { authorization: `Bearer ${await gate.token("alice")}` });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toMatchObject({ code: "policy_denied" });
    const deployer = await send(proxyPort(), "GET", "/reports/q1", { authorization: `Bearer ${await gate.token("deployer")}` });
    expect(deployer.status).toBe(403);
    expect(originSaw).toHaveLength(0);
  });

  it.each([
    ["X-Original-URI", { "x-original-uri": "/reports/q1", "x-original-method": "GET" }],
    ["X-Forwarded-Uri", { "x-forwarded-uri": "/reports/q1", "x-forwarded-method": "GET" }],
    ["both", { "x-original-uri": "/reports/q1", "x-original-method": "GET", "x-forwarded-uri": "/reports/q1", "x-forwarded-method": "GET" }],
  ])("a client's own %s cannot change what is decided", async (_name, forged) => {
    const { originSaw, gate } = fronted();
    originSaw.length = 0;
    const from = gate.lines.length;
    const res = await send(proxyPort(), "GET", "/admin/x", { authorization: `Bearer ${await gate.token("alice")}`, ...forged });
    expect(res.status).toBe(403);
    expect(originSaw).toHaveLength(0);
    expect(decisionsSince(gate, from)[0]).toMatchObject({ mode: "forward-auth", method: "GET", path: "/admin/x", code: "policy_denied" });
  });
}
