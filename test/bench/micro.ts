/**
 * `npm run bench:micro`: the pieces of the gate's request path, timed one by one in Node (same
 * V8 as workerd, but a clock that resolves microseconds; workerd's does not advance while code
 * runs). Plain timing loops: warm up, then as many calls as fit in the time, sequentially.
 * For finding where the time goes, not for targets; BENCHMARKS.md, "Where the time goes".
 *
 *   npm run bench:micro [-- --time 500]
 */
import process from "node:process";
import { exportJWK, generateKeyPair } from "jose";
import { Hono } from "hono";
import { createGateApp } from "../../src/gate/dispatch";
import { AssertionSigner } from "../../src/assertion/signer";
import { cacheKey } from "../../src/verify/cache-key";
import { IdentityCache } from "../../src/verify/isolate-cache";
import { forwardToOrigin, originHeaders, originTarget } from "../../src/forward";
import { identityFromSts } from "../../src/identity";
import { compilePolicy, PolicySchema } from "../../src/policy";
import { buildStsRequest, exchangeWithSts } from "../../src/sts/exchange";
import { bearerToken } from "../../src/token/bearer";
import { decodeBase64url, decodeUtf8, stripPrefix } from "../../src/token/decode";
import { parsePresignedUrl } from "../../src/token/presigned-url";
import { parseStrictQuery } from "../../src/token/query";
import { validateAuthorization } from "../../src/token/validate";
import { BENCH_AUDIENCE, distinctMint, mintBenchToken } from "./tokens";

const argTime = process.argv.indexOf("--time");
const TIME_MS = argTime === -1 ? 400 : Number(process.argv[argTime + 1]);

interface Row {
  name: string;
  opsPerSec: number;
  usPerOp: number;
}
const rows: Row[] = [];
// Captured before any silencing: the whole-app rows run with console.log switched off.
const print = console.log.bind(console);

async function time(name: string, fn: () => unknown): Promise<void> {
  const isAsync = fn() instanceof Promise;
  const run = async (ms: number) => {
    let n = 0;
    const start = performance.now();
    const end = start + ms;
    while (performance.now() < end) {
      // Batches of 16 keep the clock reads out of the figure.
      for (let i = 0; i < 16; i++) {
        if (isAsync) await fn();
        else fn();
      }
      n += 16;
    }
    return { n, elapsed: performance.now() - start };
  };
  await run(TIME_MS / 4);
  const { n, elapsed } = await run(TIME_MS);
  const row = { name, opsPerSec: (n / elapsed) * 1000, usPerOp: (elapsed * 1000) / n };
  rows.push(row);
  print(`${row.usPerOp.toFixed(2).padStart(9)} µs  ${Math.round(row.opsPerSec).toLocaleString("en-US").padStart(11)} /s  ${name}`);
}

const now = Date.now();
const token = await mintBenchToken({ ...distinctMint(0, now) });
const sessionToken = await mintBenchToken({ ...distinctMint(1, now), identity: "deployer" });
const header = `Bearer ${token}`;
const validated = validateAuthorization(header, now);
const identity = identityFromSts({ arn: "arn:aws:iam::111122223333:user/alice", account: "111122223333", userId: "AIDAEMULATORALICE0001" }, "aws");
const policy = compilePolicy(PolicySchema.parse({ allow: ["arn:aws:iam::111122223333:user/alice"] }));
const stsBody = JSON.stringify({
  GetCallerIdentityResponse: {
    GetCallerIdentityResult: { Arn: identity.arn, Account: identity.account, UserId: identity.userId },
    ResponseMetadata: { RequestId: "00000000-0000-4000-8000-000000000000" },
  },
});
const stsFetch = async () => new Response(stsBody, { headers: { "content-type": "application/json" } });
const inbound = new Headers({
  accept: "*/*",
  "user-agent": "autocannon",
  authorization: header,
  "x-request-id": "abc",
  "x-caller-arn": "spoofed",
  "content-type": "application/json",
});
const decision = {
  event: "decision",
  outcome: "allow",
  status: 200,
  method: "GET",
  path: "/bench",
  principal: identity.principal,
  arn: identity.arn,
  type: identity.type,
  account: identity.account,
  cache: "memory",
  rule: "arn:aws:iam::111122223333:user/alice",
};

console.log(`Node ${process.version}, ${TIME_MS} ms per piece\n\n-- token validation (every request)`);
await time("validateAuthorization, long-term key token", () => validateAuthorization(header, now));
await time("validateAuthorization, session token", () => validateAuthorization(`Bearer ${sessionToken}`, now));
await time("  bearerToken (header shape, 4 KiB cap)", () => bearerToken(header));
await time("  stripPrefix + decodeBase64url + decodeUtf8", () => decodeUtf8(decodeBase64url(stripPrefix(token))));
const url = decodeUtf8(decodeBase64url(stripPrefix(token)));
await time("  parsePresignedUrl", () => parsePresignedUrl(url));
const rawQuery = parsePresignedUrl(url).rawQuery;
await time("  parseStrictQuery", () => parseStrictQuery(rawQuery));

console.log("\n-- cache, policy, log (every request)");
await time("cacheKey (SHA-256 of audience + token, hex)", () => cacheKey(BENCH_AUDIENCE, token));
const bytes = new TextEncoder().encode(`sts-gate/v1\n${BENCH_AUDIENCE}\n${token}`);
await time("  crypto.subtle.digest alone", () => crypto.subtle.digest("SHA-256", bytes));
const cache = new IdentityCache();
const key = await cacheKey(BENCH_AUDIENCE, token);
cache.identities.set(key, { identity, accessKeyId: validated.accessKeyId, signedAt: validated.signedAt }, validated.expiresAt);
await time("IdentityCache.remembered, memory hit (what a cached request does after cacheKey)", () => cache.remembered(key, now));
await time("policy.decide", () => policy.decide(identity, { method: "GET", path: "/bench" }));
await time("JSON.stringify(decision log entry)", () => JSON.stringify(decision));

console.log("\n-- forwarding (every admitted request)");
await time("originTarget + new URL", () => new URL(originTarget(new URL("http://127.0.0.1:1/"), new URL("http://localhost/bench?x=1"))));
await time("originHeaders (copy, strip, add X-Caller-*)", () => originHeaders(inbound, identity, { ip: "192.0.2.1", url: new URL("https://localhost/bench") }));
const originFetcher = { fetch: async () => new Response("ok") } as unknown as Fetcher;
const request = new Request("http://localhost/bench?x=1", { headers: inbound });
await time("forwardToOrigin (fake origin, no assertion)", () => forwardToOrigin(request, identity, { originUrl: new URL("http://127.0.0.1:1/"), origin: originFetcher }));

console.log("\n-- assertion signing (every admitted request, when ASSERTION_PRIVATE_JWK is set)");
const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
const priv = await exportJWK(privateKey);
const pub = await exportJWK(publicKey);
const signer = await AssertionSigner.create({
  privateJwk: { kty: "OKP", crv: "Ed25519", x: pub.x!, d: priv.d! },
  previousPublicJwk: undefined,
  issuer: "urn:sts-gate:bench",
  audience: "http://127.0.0.1:1",
});
await time("AssertionSigner.sign (jose SignJWT, Ed25519)", () => signer.sign(identity, { method: "GET", htu: "/bench?x=1" }, now));
const rawKey = (await crypto.subtle.importKey("jwk", { ...priv, alg: undefined, kid: undefined } as JsonWebKey, { name: "Ed25519" }, false, ["sign"])) as CryptoKey;
const payload = new TextEncoder().encode("x".repeat(400));
await time("  crypto.subtle.sign Ed25519 alone (400 bytes)", () => crypto.subtle.sign("Ed25519", rawKey, payload));

console.log("\n-- STS exchange (every new token), with an instant fake STS");
await time("buildStsRequest", () => buildStsRequest(validated, BENCH_AUDIENCE));
await time("exchangeWithSts (request, deadline, capped read, JSON, zod)", () => exchangeWithSts(validated, { audience: BENCH_AUDIENCE, timeoutMs: 5000, fetch: stsFetch }));
await time("  the same answer read with response.text() + JSON.parse", async () => JSON.parse(await (await stsFetch()).text()));
await time("identityFromSts", () => identityFromSts({ arn: identity.arn, account: identity.account, userId: identity.userId }, "aws"));

console.log("\n-- whole app in Node (app.fetch; console.log silenced; fake origin, STS and KV)");
const env = {
  AUDIENCE: BENCH_AUDIENCE,
  ORIGIN_URL: "http://127.0.0.1:1",
  POLICY: { allow: ["arn:aws:iam::111122223333:user/alice"] },
  IDENTITY_CACHE: { get: async () => null, put: async () => {} },
  STS: { fetch: stsFetch },
  ORIGIN: originFetcher,
};
const envWithKey = { ...env, ASSERTION_PRIVATE_JWK: JSON.stringify({ kty: "OKP", crv: "Ed25519", x: pub.x, d: priv.d }) };
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const app = createGateApp();
const silent = () => {};
const call = (e: object, authorization: string | undefined) =>
  app.fetch(new Request("http://localhost/bench?x=1", { headers: authorization ? { ...Object.fromEntries(inbound), authorization } : {} }), e, ctx);
console.log = silent;
await call(env, header);
await call(envWithKey, header);
console.log = print;
const silenced = async (name: string, fn: () => unknown) => {
  console.log = silent;
  try {
    await time(name, fn);
  } finally {
    console.log = print;
  }
};
const minimal = new Hono().all("*", (c) => originFetcher.fetch(new Request(c.req.url)));
await silenced("minimal Hono app forwarding to the fake origin (floor)", () => minimal.fetch(new Request("http://localhost/bench?x=1"), env, ctx));
await silenced("gate, memory hit, no assertion key", () => call(env, header));
await silenced("gate, memory hit, Ed25519 assertion", () => call(envWithKey, header));
await silenced("gate, junk token (token_prefix)", () => call(env, "Bearer junk"));
let fresh = 10;
const freshTokens = await Promise.all(Array.from({ length: 20_000 }, (_, i) => mintBenchToken(distinctMint(10 + i, now))));
await silenced("gate, fresh token, instant fake STS and KV", () => call(env, `Bearer ${freshTokens[fresh++ % freshTokens.length]}`));
