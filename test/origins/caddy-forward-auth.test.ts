/**
 * Forward-auth with a real Caddy (Debian's `caddy` package, `forward_auth`) in front of a local
 * origin: Caddy asks the gate in workerd, then proxies to the origin with the headers it copied
 * from the gate's answer (issue 21, docs/forward-auth.md). The Caddyfile is read from the page,
 * with local addresses. `.ci/run` installs caddy; under CI=true a missing caddy fails the run.
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe } from "vitest";
import { forwardAuthContract, startFronted, startProxy, type Fronted } from "./fronting-proxy";
import { freePort, ROOT } from "./harness";

const CADDY = process.env.CADDY_PATH ?? "/usr/bin/caddy";
const HAVE_CADDY = spawnSync(CADDY, ["version"]).status === 0;
if (!HAVE_CADDY && process.env.CI) throw new Error(`CI=true, but there is no ${CADDY}: install Debian's caddy (apt-get install -y caddy; .ci/run does) or set CADDY_PATH`);
if (!HAVE_CADDY) console.warn(`test/origins: Caddy forward-auth tests skipped, no ${CADDY} (apt-get install -y caddy)`);

/**
 * docs/forward-auth.md's Caddyfile itself, read from the page: only its addresses are replaced
 * (each replacement must apply, so a changed page fails here rather than going untested), and a
 * global block turns off the admin endpoint and automatic HTTPS for a loopback test.
 */
async function caddyfile(port: number, gatePort: number, originPort: number): Promise<string> {
  const page = await readFile(join(ROOT, "docs/forward-auth.md"), "utf8");
  const block = /```caddyfile\n([\s\S]*?)```/.exec(page)?.[1];
  if (block === undefined) throw new Error("docs/forward-auth.md has no caddyfile block");
  const local: Array<[string, string]> = [
    ["api.example.com {", `http://127.0.0.1:${port} {`],
    ["forward_auth https://gate.example.com {", `forward_auth 127.0.0.1:${gatePort} {`],
    ["header_up Host gate.example.com", "header_up Host {upstream_hostport}"],
    ["reverse_proxy origin.internal:8080", `reverse_proxy 127.0.0.1:${originPort}`],
  ];
  let text = block;
  for (const [from, to] of local) {
    if (!text.includes(from)) throw new Error(`docs/forward-auth.md's Caddyfile no longer has ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return `{\n    admin off\n    auto_https off\n}\n\n${text}`;
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
    await writeFile(join(dir, "Caddyfile"), await caddyfile(caddyPort, fronted.gatePort, fronted.originPort));
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
