/**
 * A real PHP origin (Debian's php-cli, `php -S`) behind the gate in workerd: PHP's own name
 * mangling is what the gate must defeat (ATTACKS #31). First the test shows the origin is
 * vulnerable when reached directly, then that through the gate the same spellings change nothing.
 * `.ci/run` installs php-cli; under CI=true a missing php fails the run.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decisionsSince, listen, rawRequest, ROOT, startGate, type GateHarness } from "./harness";

const PHP = process.env.PHP_PATH ?? "php";
const HAVE_PHP = spawnSync(PHP, ["--version"]).status === 0;
if (!HAVE_PHP && process.env.CI) throw new Error(`CI=true, but there is no ${PHP}: install Debian's php-cli (apt-get install -y php-cli; .ci/run does) or set PHP_PATH`);
if (!HAVE_PHP) console.warn(`test/origins: PHP tests skipped, no ${PHP} (apt-get install -y php-cli)`);

const ALICE = "arn:aws:iam::111122223333:user/alice";

interface PhpEcho {
  server: Record<string, string>;
  get: string[];
  method: string;
  uri: string;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((done) => probe.close(done));
  return port;
}

/** A request with header names exactly as given (Node's client allows any HTTP token character). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; json: () => unknown; text: string }> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        done({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text) as unknown });
      });
    });
    req.on("error", fail);
    req.end(body);
  });
}

describe.skipIf(!HAVE_PHP)("a PHP origin behind the gate (php -S)", () => {
  let php: ChildProcess;
  let phpPort: number;
  let gate: GateHarness;
  let gatePort: number;
  /** Requests PHP has logged (it prints one line per request to stderr). */
  let phpLog = "";

  beforeAll(async () => {
    phpPort = await freePort();
    php = spawn(PHP, ["-S", `127.0.0.1:${phpPort}`, join(ROOT, "test/origins/php/echo.php")], { stdio: ["ignore", "ignore", "pipe"] });
    php.stderr!.on("data", (c: Buffer) => (phpLog += c.toString("utf8")));
    for (let i = 0; i < 100 && !phpLog.includes("started"); i++) await new Promise((r) => setTimeout(r, 50));
    gate = await startGate(phpPort, {
      ORIGIN_URL: "http://php.local",
      POLICY: { rules: [{ name: "alice", methods: ["GET", "POST"], paths: ["/**"], allow: [ALICE] }] },
    });
    gatePort = Number(new URL(gate.url).port);
  }, 120_000);

  afterAll(async () => {
    await gate?.dispose();
    php?.kill();
  });

  async function viaGate(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
    return send(gatePort, method, path, { authorization: `Bearer ${await gate.token()}`, ...headers }, body);
  }

  describe("header names PHP rewrites (headerNameCharset)", () => {
    it("the origin is vulnerable on its own: PHP files X-Caller.Arn under HTTP_X_CALLER_ARN", async () => {
      const direct = (await send(phpPort, "GET", "/", { "X-Caller.Arn": "forged" })).json() as PhpEcho;
      expect(direct.server.HTTP_X_CALLER_ARN).toBe("forged");
    });

    it.each([
      ["X-Caller.Arn", "HTTP_X_CALLER_ARN"],
      ["X.Caller.Account", "HTTP_X_CALLER_ACCOUNT"],
      ["X-Caller.Type", "HTTP_X_CALLER_TYPE"],
      ["X.HTTP.Method.Override", "HTTP_X_HTTP_METHOD_OVERRIDE"],
      ["X.Original.URL", "HTTP_X_ORIGINAL_URL"],
      ["X-Forwarded.Host", "HTTP_X_FORWARDED_HOST"],
      ["X-Forwarded.For", "HTTP_X_FORWARDED_FOR"],
    ])("through the gate, %s never reaches $_SERVER['%s']", async (name, key) => {
      const res = await viaGate("GET", "/", { [name]: "forged" });
      expect(res.status).toBe(200);
      const echo = res.json() as PhpEcho;
      expect(echo.server[key]).not.toBe("forged");
      expect(JSON.stringify(echo.server)).not.toContain("forged");
      expect(echo.server.HTTP_X_CALLER_ARN).toBe(ALICE);
    });

    it("a space in a header name never reaches PHP either", async () => {
      const direct = await rawRequest(phpPort, "GET / HTTP/1.1\r\nHost: php.local\r\nX-Caller Arn: forged");
      const viaGateRaw = await rawRequest(gatePort, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${gatePort}\r\nAuthorization: Bearer ${await gate.token()}\r\nX-Caller Arn: forged`);
      // workerd refuses such a request outright, or the gate drops the name: either way PHP never sees it.
      expect(viaGateRaw.text).not.toContain("forged");
      // What PHP would have made of it, to show the name is not harmless.
      if (direct.status === 200) expect(direct.text).toContain("HTTP_X_CALLER_ARN");
    });
  });

  describe("query parameter names PHP rewrites (noMethodOverrideParameter)", () => {
    it("the origin is vulnerable on its own: POST ?.method=DELETE runs as DELETE", async () => {
      const direct = (await send(phpPort, "POST", "/deploy/app?.method=DELETE", {}, "x")).json() as PhpEcho;
      expect(direct.get).toEqual(["_method"]);
      expect(direct.method).toBe("DELETE");
    });

    it.each([[".method=DELETE"], ["%20_method=DELETE"], ["+_method=DELETE"], ["_method%00=DELETE"], ["_method[]=DELETE"], ["%2Emethod=DELETE"], ["_me%74hod=DELETE"]])(
      "POST ?%s: PHP alone would run another method; the gate refuses it with 400 method_override and PHP never sees it",
      async (query) => {
        const direct = (await send(phpPort, "POST", `/deploy/app?${query}`, {}, "x")).json() as PhpEcho;
        expect(direct.method).not.toBe("POST");
        const before = phpLog.length;
        const from = gate.lines.length;
        const res = await viaGate("POST", `/deploy/app?${query}`, {}, "x");
        expect(res.status).toBe(400);
        expect((res.json() as { code: string }).code).toBe("method_override");
        expect(phpLog.slice(before)).not.toContain("/deploy/app");
        expect(decisionsSince(gate, from)).toEqual([expect.objectContaining({ status: 400, code: "method_override" })]);
      },
    );

    it("ordinary names still pass, as PHP reads them", async () => {
      const echo = (await viaGate("POST", "/deploy/app?x.y=1&a[b]=2", {}, "x")).json() as PhpEcho;
      expect(echo.method).toBe("POST");
      expect(echo.get).toEqual(["x_y", "a"]);
    });
  });
});
