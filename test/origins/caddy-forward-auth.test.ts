/**
 * Forward-auth with a real Caddy (Debian's `caddy` package, `forward_auth`) in front of a local
 * origin: Caddy asks the gate in workerd, then proxies to the origin with the headers it copied
 * from the gate's answer (issue 21, docs/forward-auth.md). The Caddyfile is the page's, with local
 * addresses. `.ci/run` installs caddy; under CI=true a missing caddy fails the run.
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe } from "vitest";
import { forwardAuthContract, startFronted, startProxy, type Fronted } from "./fronting-proxy";
import { freePort } from "./harness";

const CADDY = process.env.CADDY_PATH ?? "/usr/bin/caddy";
const HAVE_CADDY = spawnSync(CADDY, ["version"]).status === 0;
if (!HAVE_CADDY && process.env.CI) throw new Error(`CI=true, but there is no ${CADDY}: install Debian's caddy (apt-get install -y caddy; .ci/run does) or set CADDY_PATH`);
if (!HAVE_CADDY) console.warn(`test/origins: Caddy forward-auth tests skipped, no ${CADDY} (apt-get install -y caddy)`);

/** docs/forward-auth.md's Caddyfile, on loopback ports: only the addresses and the gate's Host differ. */
function caddyfile(port: number, gatePort: number, originPort: number): string {
  return `{
    admin off
    auto_https off
}

http://127.0.0.1:${port} {
    # In this order: route keeps Caddy from sorting forward_auth before request_header.
    route {
        request_header -X-Caller-*
        request_header -X_Caller_*
        forward_auth 127.0.0.1:${gatePort} {
            uri /.well-known/sts-gate/verify
            header_up Host {upstream_hostport}
            header_up -X-Original-Method
            header_up -X-Original-URI
            copy_headers X-Caller-Arn X-Caller-Principal X-Caller-Account X-Caller-User-Id X-Caller-Type X-Caller-Role X-Caller-Session X-Caller-Permission-Set X-Caller-User X-Caller-Assertion
        }
        # Before Caddy 2.10, copy_headers sets a header the answer lacks to its own placeholder text.
        @no_role header X-Caller-Role "{http.*"
        request_header @no_role -X-Caller-Role
        @no_session header X-Caller-Session "{http.*"
        request_header @no_session -X-Caller-Session
        @no_permission_set header X-Caller-Permission-Set "{http.*"
        request_header @no_permission_set -X-Caller-Permission-Set
        @no_user header X-Caller-User "{http.*"
        request_header @no_user -X-Caller-User
        @no_assertion header X-Caller-Assertion "{http.*"
        request_header @no_assertion -X-Caller-Assertion
        request_header -Authorization
        reverse_proxy 127.0.0.1:${originPort}
    }
}
`;
}

describe.skipIf(!HAVE_CADDY)("Caddy forward_auth in front of an origin, asking the gate in workerd", () => {
  let fronted: Fronted;
  let caddy: ChildProcess;
  let caddyPort: number;
  let dir: string;

  beforeAll(async () => {
    fronted = await startFronted();
    dir = await mkdtemp(join(tmpdir(), "sts-gate-caddy-"));
    caddyPort = await freePort();
    await writeFile(join(dir, "Caddyfile"), caddyfile(caddyPort, fronted.gatePort, fronted.originPort));
    // Caddy keeps its state under $HOME and the XDG directories: all of them in the temp dir.
    const env = { PATH: process.env.PATH ?? "", HOME: dir, XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config") };
    caddy = await startProxy(CADDY, ["run", "--config", join(dir, "Caddyfile"), "--adapter", "caddyfile"], caddyPort, env as unknown as NodeJS.ProcessEnv);
  }, 120_000);

  afterAll(async () => {
    caddy?.kill();
    await fronted?.gate.dispose();
    fronted?.origin.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  forwardAuthContract("Caddy", () => fronted, () => caddyPort);
});
