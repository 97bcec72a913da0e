/**
 * Forward-auth with a real nginx (Debian's `nginx` package, ngx_http_auth_request_module) in front
 * of a local origin: nginx asks the gate in workerd with `auth_request`, then proxies to the origin
 * with the gate's identity headers (issue 21, docs/forward-auth.md). The nginx configuration is
 * the page's, with local addresses. Also `sts-gate whoami` against the same gate.
 * `.ci/run` installs nginx; under CI=true a missing nginx fails the run.
 */
import { execFile, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import identities from "../emulator/identities.json";
import { forwardAuthContract, startFronted, startProxy, type Fronted } from "./fronting-proxy";
import { AUDIENCE, freePort, ROOT, startGate, type GateHarness } from "./harness";

const NGINX = process.env.NGINX_PATH ?? "/usr/sbin/nginx";
const HAVE_NGINX = spawnSync(NGINX, ["-v"]).status === 0;
if (!HAVE_NGINX && process.env.CI) throw new Error(`CI=true, but there is no ${NGINX}: install Debian's nginx (apt-get install -y nginx; .ci/run does) or set NGINX_PATH`);
if (!HAVE_NGINX) console.warn(`test/origins: nginx forward-auth tests skipped, no ${NGINX} (apt-get install -y nginx)`);

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

describe.skipIf(!HAVE_NGINX)("nginx auth_request in front of an origin, asking the gate in workerd", () => {
  let fronted: Fronted;
  let nginx: ChildProcess;
  let nginxPort: number;
  let dir: string;

  beforeAll(async () => {
    fronted = await startFronted();
    dir = await mkdtemp(join(tmpdir(), "sts-gate-nginx-"));
    nginxPort = await freePort();
    await writeFile(join(dir, "nginx.conf"), nginxConf(dir, nginxPort, fronted.gatePort, fronted.originPort));
    nginx = await startProxy(NGINX, ["-c", join(dir, "nginx.conf"), "-p", dir, "-e", join(dir, "error.log")], nginxPort);
  }, 120_000);

  afterAll(async () => {
    nginx?.kill();
    await fronted?.gate.dispose();
    fronted?.origin.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  forwardAuthContract("nginx", () => fronted, () => nginxPort);
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
