/**
 * Forward-auth with a real nginx (Debian's `nginx` package, ngx_http_auth_request_module) in front
 * of a local origin: nginx asks the gate in workerd with `auth_request`, then proxies to the origin
 * with the gate's identity headers (issue 21, docs/forward-auth.md). The nginx configuration is
 * the page's, with local addresses. Also `sts-gate whoami` against the same gate.
 * `.ci/run` installs nginx; under CI=true a missing nginx fails the run.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateAssertionKey } from "../../src/assertion/generate.ts";
import identities from "../emulator/identities.json";
import { AUDIENCE, decisionsSince, listen, ROOT, startGate, type GateHarness } from "./harness";

const NGINX = process.env.NGINX_PATH ?? "/usr/sbin/nginx";
const HAVE_NGINX = spawnSync(NGINX, ["-v"]).status === 0;
if (!HAVE_NGINX && process.env.CI) throw new Error(`CI=true, but there is no ${NGINX}: install Debian's nginx (apt-get install -y nginx; .ci/run does) or set NGINX_PATH`);
if (!HAVE_NGINX) console.warn(`test/origins: nginx forward-auth tests skipped, no ${NGINX} (apt-get install -y nginx)`);

const ALICE = "arn:aws:iam::111122223333:user/alice";
const POLICY = { rules: [{ name: "reports", methods: ["GET"], paths: ["/reports/**"], allow: [ALICE] }] };

async function freePort(): Promise<number> {
  const probe = createNetServer();
  const port = await listen(probe);
  await new Promise((done) => probe.close(done));
  return port;
}

/** The configuration of docs/forward-auth.md, on loopback ports, every path under `dir`. */
function nginxConf(dir: string, port: number, gatePort: number, originPort: number): string {
  const ask = `        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Original-Method $request_method;
        proxy_set_header X-Original-URI    $request_uri;
        proxy_set_header X-Forwarded-Method "";
        proxy_set_header X-Forwarded-Uri    "";`;
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    server {
        listen 127.0.0.1:${port};
        server_name localhost;

        location / {
            auth_request /_sts_gate_verify;
            auth_request_set $caller_arn       $upstream_http_x_caller_arn;
            auth_request_set $caller_principal $upstream_http_x_caller_principal;
            auth_request_set $caller_account   $upstream_http_x_caller_account;
            auth_request_set $caller_user_id   $upstream_http_x_caller_user_id;
            auth_request_set $caller_type      $upstream_http_x_caller_type;
            auth_request_set $caller_assertion $upstream_http_x_caller_assertion;
            auth_request_set $caller_role      $upstream_http_x_caller_role;
            auth_request_set $caller_session   $upstream_http_x_caller_session;
            auth_request_set $caller_pset      $upstream_http_x_caller_permission_set;
            auth_request_set $caller_user      $upstream_http_x_caller_user;
            proxy_set_header X-Caller-Arn       $caller_arn;
            proxy_set_header X-Caller-Principal $caller_principal;
            proxy_set_header X-Caller-Account   $caller_account;
            proxy_set_header X-Caller-User-Id   $caller_user_id;
            proxy_set_header X-Caller-Type      $caller_type;
            proxy_set_header X-Caller-Assertion $caller_assertion;
            proxy_set_header X-Caller-Role      $caller_role;
            proxy_set_header X-Caller-Session   $caller_session;
            proxy_set_header X-Caller-Permission-Set $caller_pset;
            proxy_set_header X-Caller-User      $caller_user;
            proxy_set_header Authorization      "";
            error_page 401 403 = @sts_gate_refusal;
            proxy_pass http://127.0.0.1:${originPort};
        }

        location = /_sts_gate_verify {
            internal;
            proxy_pass http://127.0.0.1:${gatePort}/.well-known/sts-gate/verify;
${ask}
        }

        location @sts_gate_refusal {
            rewrite ^ /.well-known/sts-gate/verify break;
            proxy_pass http://127.0.0.1:${gatePort};
            proxy_hide_header WWW-Authenticate;
${ask}
        }
    }
}
`;
}

interface Got {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

function send(port: number, method: string, path: string, headers: Record<string, string>): Promise<Got> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", fail);
    req.end();
  });
}

describe.skipIf(!HAVE_NGINX)("nginx auth_request in front of an origin, asking the gate in workerd", () => {
  let gate: GateHarness;
  let gatePort: number;
  let nginx: ChildProcess;
  let nginxPort: number;
  let dir: string;
  const originSaw: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  const origin = createServer((req, res) => {
    originSaw.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ origin: true }));
  });

  beforeAll(async () => {
    const originPort = await listen(origin);
    const key = await generateAssertionKey("EdDSA");
    gate = await startGate(originPort, { ORIGIN_URL: "http://origin.local", POLICY, FORWARD_AUTH: "true", ASSERTION_PRIVATE_JWK: JSON.stringify(key.privateJwk) });
    gatePort = Number(new URL(gate.url).port);
    dir = await mkdtemp(join(tmpdir(), "sts-gate-nginx-"));
    nginxPort = await freePort();
    await writeFile(join(dir, "nginx.conf"), nginxConf(dir, nginxPort, gatePort, originPort));
    let log = "";
    nginx = spawn(NGINX, ["-c", join(dir, "nginx.conf"), "-p", dir, "-e", join(dir, "error.log")], { stdio: ["ignore", "ignore", "pipe"] });
    nginx.stderr!.on("data", (c: Buffer) => (log += c.toString("utf8")));
    for (let i = 0; i < 100; i++) {
      const up = await send(nginxPort, "GET", "/", {}).then(
        () => true,
        () => false,
      );
      if (up) break;
      if (nginx.exitCode !== null) throw new Error(`nginx exited: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 120_000);

  afterAll(async () => {
    nginx?.kill();
    await gate?.dispose();
    origin.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("a valid token reaches the origin, with the gate's identity headers set by nginx", async () => {
    originSaw.length = 0;
    const from = gate.lines.length;
    const res = await send(nginxPort, "GET", "/reports/q1?format=csv", {
      authorization: `Bearer ${await gate.token("alice")}`,
      "x-caller-arn": "forged",
      // Facts an IAM user's identity lacks: the client's own must not stand in for them.
      "x-caller-user": "ceo@example.com",
      "x-caller-permission-set": "AdministratorAccess",
      x_caller_role: "admin",
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
    expect(saw.headers["x-caller-user"]).toBeUndefined();
    expect(saw.headers["x-caller-permission-set"]).toBeUndefined();
    expect(Object.keys(saw.headers).filter((h) => h.includes("_"))).toEqual([]);
    expect(decodeJwt(String(saw.headers["x-caller-assertion"]))).toMatchObject({ htm: "GET", htu: "/reports/q1?format=csv", arn: ALICE });
    expect(decisionsSince(gate, from)).toEqual([expect.objectContaining({ mode: "forward-auth", outcome: "allow", method: "GET", path: "/reports/q1" })]);
  });

  it("a missing token gets the gate's 401 and never reaches the origin", async () => {
    originSaw.length = 0;
    const res = await send(nginxPort, "GET", "/reports/q1", {});
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(res.text)).toMatchObject({ code: "authorization_missing" });
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="sts-gate"');
    expect(originSaw).toHaveLength(0);
  });

  it("a token the policy refuses gets the gate's 403 and never reaches the origin", async () => {
    originSaw.length = 0;
    const res = await send(nginxPort, "GET", "/admin/x", { authorization: `Bearer ${await gate.token("alice")}` });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toMatchObject({ code: "policy_denied" });
    const deployer = await send(nginxPort, "GET", "/reports/q1", { authorization: `Bearer ${await gate.token("deployer")}` });
    expect(deployer.status).toBe(403);
    expect(originSaw).toHaveLength(0);
  });

  it.each([
    ["X-Original-URI", { "x-original-uri": "/reports/q1", "x-original-method": "GET" }],
    ["X-Forwarded-Uri", { "x-forwarded-uri": "/reports/q1", "x-forwarded-method": "GET" }],
    ["both", { "x-original-uri": "/reports/q1", "x-original-method": "GET", "x-forwarded-uri": "/reports/q1", "x-forwarded-method": "GET" }],
  ])("a client's own %s cannot change what is decided", async (_name, forged) => {
    originSaw.length = 0;
    const from = gate.lines.length;
    const res = await send(nginxPort, "GET", "/admin/x", { authorization: `Bearer ${await gate.token("alice")}`, ...forged });
    expect(res.status).toBe(403);
    expect(originSaw).toHaveLength(0);
    expect(decisionsSince(gate, from)[0]).toMatchObject({ mode: "forward-auth", method: "GET", path: "/admin/x", code: "policy_denied" });
  });
});

describe("sts-gate whoami against the gate in workerd", () => {
  let gate: GateHarness;
  beforeAll(async () => {
    gate = await startGate(1, { ORIGIN_URL: "http://origin.local", POLICY: { allow: ["arn:aws:iam::111122223333:user/nobody"] } });
  }, 120_000);
  afterAll(async () => gate?.dispose());

  function whoami(args: string[], who: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const c = identities.identities.find((i) => i.name === who)!;
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: "/nonexistent",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_CONFIG_FILE: "/nonexistent/config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
      AWS_ACCESS_KEY_ID: c.accessKeyId,
      AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
      ...((c as { sessionToken?: string }).sessionToken ? { AWS_SESSION_TOKEN: (c as { sessionToken?: string }).sessionToken } : {}),
    };
    return new Promise((done) => {
      execFile(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/sts-gate.ts"), "whoami", ...args], { env: env as unknown as typeof process.env, cwd: ROOT, timeout: 60_000, encoding: "utf8" }, (error, stdout, stderr) => {
        done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr });
      });
    });
  }

  it("prints the identity the gate sees, one field a line, though the policy would refuse the caller", async () => {
    const r = await whoami(["--gate", gate.url, "--audience", AUDIENCE], "deployer");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^arn: arn:aws:sts::111122223333:assumed-role\/deployer\/ci-run-42\nprincipal: arn:aws:iam::111122223333:role\/deployer\naccount: 111122223333\nuserId: AROA\S+\ntype: assumed-role\n$/,
    );
  });

  it("says what the gate answered when it refuses, in one line, exit 1", async () => {
    const r = await whoami(["--gate", gate.url, "--audience", "another-audience"], "alice");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^sts-gate: the gate refused \(401 sts_refused\)/);
  });
});
