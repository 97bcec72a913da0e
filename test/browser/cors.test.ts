/**
 * A real browser calls the gate: Debian's Chromium, headless, driven by playwright-core (no
 * browser download: CHROMIUM_PATH, default /usr/bin/chromium). A page served here mints a token
 * with sts-gate/client inside the browser, with the STS emulator's credentials, and calls the
 * gate (Miniflare: the gate, the emulator and the echo origin) across origins, so the browser
 * itself sends the CORS preflight and enforces the answer. `npm run test:browser`; `.ci/run`
 * installs chromium when it is missing. Under CI=true a missing browser fails the run.
 */
import { build } from "esbuild";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import process from "node:process";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import identities from "../emulator/identities.json";

const ROOT = resolve(import.meta.dirname, "../..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const AUDIENCE = "sts-gate-browser";
const ECHO = "http://echo-origin.local";
const HAVE_BROWSER = existsSync(CHROMIUM);

if (!HAVE_BROWSER && process.env.CI) {
  throw new Error(`CI=true, but there is no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`);
}
if (!HAVE_BROWSER) console.warn(`test/browser: skipped, no browser at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);

async function bundle(entry: string, outfile: string, platform: "neutral" | "browser"): Promise<string> {
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform,
    target: "es2022",
    conditions: platform === "neutral" ? ["workerd", "worker", "browser"] : ["browser"],
    mainFields: ["module", "main"],
    // The page imports the package's client entry point, as a web app would.
    alias: { "sts-gate/client": join(ROOT, "src/client/index.ts") },
    // The Workers runtime's own modules (`StsGate` extends cloudflare:workers' WorkerEntrypoint).
    external: ["cloudflare:*"],
    logLevel: "error",
  });
  return outfile;
}

async function assertionKeys(): Promise<{ privateJwk: string; jwks: string }> {
  const { privateKey } = await generateKeyPair("EdDSA", { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, "sha256");
  const pub = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: "EdDSA", use: "sig" };
  return { privateJwk: JSON.stringify({ ...pub, d: jwk.d }), jwks: JSON.stringify({ keys: [pub] }) };
}

function listen(server: Server): Promise<number> {
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done((server.address() as AddressInfo).port)));
}

describe.skipIf(!HAVE_BROWSER)("a browser calls the gate with CORS", () => {
  let tmp: string;
  let mf: Miniflare;
  let server: Server;
  let browser: Browser;
  let pagePort: number;
  let gateUrl: string;
  let originCalls = 0;

  beforeAll(async () => {
    await mkdir(join(ROOT, "dist/test"), { recursive: true });
    // Inside the repository: Miniflare names modules relative to the working directory.
    tmp = await mkdtemp(join(ROOT, "dist/test/browser-"));
    const [gateJs, emulatorJs, echoJs, pageJs, keys] = await Promise.all([
      bundle("src/worker.ts", join(tmp, "gate.js"), "neutral"),
      bundle("test/emulator/worker.ts", join(tmp, "sts-emulator.js"), "neutral"),
      bundle("test/echo-origin/worker.ts", join(tmp, "echo-origin.js"), "neutral"),
      bundle("test/browser/page.ts", join(tmp, "page.js"), "browser"),
      assertionKeys(),
    ]);

    const alice = identities.identities.find((i) => i.name === "alice")!;
    const page = await readFile(pageJs, "utf8");
    server = createServer((req, res) => {
      if (req.url?.startsWith("/page.js")) {
        res.writeHead(200, { "content-type": "text/javascript" }).end(page);
        return;
      }
      const input = { gate: gateUrl, audience: AUDIENCE, credentials: { accessKeyId: alice.accessKeyId, secretAccessKey: alice.secretAccessKey } };
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(
        `<!doctype html><title>sts-gate browser test</title>` +
          `<script id="input" type="application/json">${JSON.stringify(input)}</script>` +
          `<pre id="result"></pre><script type="module" src="/page.js"></script>`,
      );
    });
    pagePort = await listen(server);

    const date = /^compatibility_date\s*=\s*"([0-9-]+)"/m.exec(await readFile(join(ROOT, "wrangler.toml"), "utf8"))![1]!;
    const socket = [{ host: "127.0.0.1", port: 0 }];
    mf = new Miniflare(convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      workers: [
        {
          name: "gate",
          modules: true,
          scriptPath: gateJs,
          compatibilityDate: date,
          bindings: {
            AUDIENCE,
            ORIGIN_URL: ECHO,
            POLICY: { allow: ["arn:aws:iam::111122223333:user/alice"] },
            // Only the page's exact origin: http://localhost:<port> is another origin.
            CORS_ALLOWED_ORIGINS: `http://127.0.0.1:${pagePort}`,
            ASSERTION_PRIVATE_JWK: keys.privateJwk,
          },
          kvNamespaces: { IDENTITY_CACHE: "browser-identity-cache" },
          serviceBindings: {
            STS: "sts-emulator",
            // Counts what reaches the origin, then hands it to the echo origin.
            ORIGIN: async (request) => {
              originCalls++;
              const echo = (await mf.getWorker("echo-origin")) as unknown as { fetch(r: unknown): Promise<never> };
              return echo.fetch(request);
            },
          },
          unsafeDirectSockets: socket,
        },
        { name: "sts-emulator", modules: true, scriptPath: emulatorJs, compatibilityDate: date },
        {
          name: "echo-origin",
          modules: true,
          scriptPath: echoJs,
          compatibilityDate: date,
          bindings: { ASSERTION_JWKS: keys.jwks, ASSERTION_ISSUER: `urn:sts-gate:${AUDIENCE}`, ASSERTION_AUDIENCE: ECHO },
        },
      ],
    }));
    await mf.ready;
    gateUrl = new URL(await mf.unsafeGetDirectURL("gate")).origin;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await mf?.dispose();
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function resultOf(pageUrl: string): Promise<Record<string, unknown>> {
    const page = await browser.newPage();
    try {
      await page.goto(pageUrl);
      await page.waitForSelector("#result[data-done]", { timeout: 60_000 });
      return JSON.parse((await page.textContent("#result"))!) as Record<string, unknown>;
    } finally {
      await page.close();
    }
  }

  it("from an allowed origin: the preflight passes, the token minted in the page is verified, and the page reads the origin's answer", async () => {
    const before = originCalls;
    const result = await resultOf(`http://127.0.0.1:${pagePort}/`);
    expect(result.status).toBe(200);
    const body = result.body as { method: string; url: string; body: string; caller: { arn: string } };
    expect(body.method).toBe("POST");
    expect(body.url).toBe(`${ECHO}/from-the-browser?x=1`);
    expect(body.body).toBe('{"hello":"origin"}');
    // The echo origin verified the gate's signed assertion for this request and caller.
    expect(body.caller.arn).toBe("arn:aws:iam::111122223333:user/alice");
    // One request reached the origin: the preflight never did.
    expect(originCalls - before).toBe(1);
  }, 120_000);

  it("from another origin: the browser gets no CORS headers and the page cannot read anything", async () => {
    const before = originCalls;
    const result = await resultOf(`http://localhost:${pagePort}/`);
    expect(result.status).toBeUndefined();
    expect(String(result.error)).toMatch(/^TypeError: /);
    // The preflight was refused, so the browser never sent the request itself.
    expect(originCalls - before).toBe(0);
  }, 120_000);
});
