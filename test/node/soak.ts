/**
 * `npm run soak`: 100 000 distinct valid-looking tokens through the gate in Node, with a fake
 * STS that admits everything (this measures the gate, not the emulator) and a KV that stores
 * nothing. The in-isolate caches are bounded, so the heap must stay flat once they are full.
 * Exits non-zero if it does not.
 */
import { createGateApp } from "../../src/gate/dispatch";
import { IdentityCache } from "../../src/verify/isolate-cache";

const TOKENS = 100_000;
const MAX_ENTRIES = 10_000;
const CHECK_EVERY = 10_000;
// Typechecked with the Worker code it drives, so Node's globals are declared here, not imported.
const { gc, process } = globalThis as unknown as {
  gc?: () => void;
  process: { memoryUsage(): { heapUsed: number }; exit(code: number): never };
};
if (!gc) throw new Error("run with node --expose-gc (npm run soak does)");

const now = Date.now();
const amzDate = new Date(now - 1000).toISOString().replace(/[:-]|\.\d{3}/g, "");

function tokenFor(i: number): string {
  // Only the signature differs; the fake STS does not verify it, the gate's rules all pass.
  const signature = i.toString(16).padStart(64, "0");
  const url =
    "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
    `&X-Amz-Credential=AKIAEMULATORALICE001%2F${amzDate.slice(0, 8)}%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=${amzDate}` +
    `&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=${signature}`;
  return `k8s-aws-v1.${btoa(url).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

const identity = JSON.stringify({
  GetCallerIdentityResponse: {
    GetCallerIdentityResult: { Arn: "arn:aws:iam::111122223333:user/alice", Account: "111122223333", UserId: "AIDAEMULATORALICE0001" },
  },
});
const env: Parameters<typeof app.fetch>[1] = {
  AUDIENCE: "soak",
  ORIGIN_URL: "http://origin.invalid",
  POLICY: { allow: ["arn:aws:iam::111122223333:user/alice"] },
  IDENTITY_CACHE: { get: async () => null, put: async () => {} },
  STS: { fetch: async () => new Response(identity, { headers: { "content-type": "application/json" } }) },
  ORIGIN: { fetch: async () => new Response("ok") },
};
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const app = createGateApp({ cache: new IdentityCache(MAX_ENTRIES), now: () => now });

function heapMiB(): number {
  gc!();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

const samples: Array<[number, number]> = [];
// 100 000 decision lines would drown the result.
const print = console.log;
console.log = () => {};
for (let i = 0; i < TOKENS; i++) {
  const res = await app.fetch(new Request("https://localhost/", { headers: { authorization: `Bearer ${tokenFor(i)}` } }), env, ctx);
  if (res.status !== 200) throw new Error(`token ${i}: status ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
  if ((i + 1) % CHECK_EVERY === 0) samples.push([i + 1, heapMiB()]);
}

console.log = print;
console.log("tokens   heap MiB");
for (const [n, mib] of samples) console.log(`${String(n).padStart(7)}  ${mib.toFixed(1)}`);
// Once the caches are full (after MAX_ENTRIES tokens), growth must stop: allow 20% noise.
const full = samples.find(([n]) => n >= 2 * MAX_ENTRIES)![1];
const last = samples.at(-1)![1];
const flat = last <= full * 1.2 + 2;
console.log(`\nheap at ${2 * MAX_ENTRIES}: ${full.toFixed(1)} MiB, at ${TOKENS}: ${last.toFixed(1)} MiB → ${flat ? "flat" : "GROWING"}`);
process.exit(flat ? 0 : 1);
