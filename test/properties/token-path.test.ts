import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { lookupStsEndpoint } from "../../src/sts-endpoints";
import { createStsEmulator, IDENTITIES } from "../emulator/sts";
import { captureLog, through } from "../support/gate";
import { spiedKv } from "../support/kv";
import { base64url, encodeToken, identity, presignUrl } from "../support/tokens";

/**
 * Properties of the token path, through the Worker, with fixed seeds and bounded runs.
 * Every STS request is recorded (the emulator runs in this isolate with a fixed clock), and
 * any other network fetch is caught by a spy on the global fetch.
 */

const SEED = 20261122;
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const DELIBERATE_5XX = new Set([502, 503, 504]);

interface Harness {
  upstream: Request[];
  logs: string[];
  send(token: string): Promise<{ status: number; body: string }>;
}

function harness(): Harness {
  const upstream: Request[] = [];
  const emulator = createStsEmulator({ identities: IDENTITIES, now: () => NOW });
  const sts = {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      upstream.push(request.clone());
      return emulator.fetch(request);
    },
  } as unknown as Fetcher;
  const logs = captureLog().raw;
  return {
    upstream,
    logs,
    async send(token) {
      // A fresh app (and so a fresh cache) per input, and the real KV with writes not stored
      // (properties must not see each other's entries): each run must see the STS request it causes.
      const app = createGateApp({ now: () => NOW });
      const res = await through(app, { ...env, STS: sts, IDENTITY_CACHE: spiedKv({ store: false }).kv }, new Request("https://localhost/p", { headers: { authorization: `Bearer ${token}` } }));
      return { status: res.status, body: await res.text() };
    },
  };
}

let network: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  network = vi.spyOn(globalThis, "fetch").mockImplementation(() => {
    throw new Error("the gate must not reach the network in these properties");
  });
});
afterEach(() => vi.restoreAllMocks());

function expectSafe(h: Harness, result: { status: number; body: string }): void {
  expect(result.status < 500 || DELIBERATE_5XX.has(result.status)).toBe(true);
  for (const request of h.upstream) {
    const host = new URL(request.url).host;
    expect(lookupStsEndpoint(host)).toBeDefined();
  }
  expect(network).not.toHaveBeenCalled();
}

describe("random input never breaks the gate", () => {
  it("random strings as bearer tokens: a clean 4xx, no STS call", async () => {
    const h = harness();
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 600 }), async (s) => {
        const token = s.replace(/[^\x21-\x7e]/g, "") || "x";
        const result = await h.send(token);
        expectSafe(h, result);
        expect(result.status).toBe(401);
        expect(h.upstream).toHaveLength(0);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("random bytes behind the k8s-aws-v1. prefix: a clean 401, no STS call", async () => {
    const h = harness();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 1500 }), async (bytes) => {
        const result = await h.send(`k8s-aws-v1.${base64url(bytes)}`);
        expectSafe(h, result);
        expect(result.status).toBe(401);
        expect(h.upstream).toHaveLength(0);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("random URLs inside a well-encoded token: a clean 401, no STS call", async () => {
    const h = harness();
    await fc.assert(
      fc.asyncProperty(fc.webUrl({ withQueryParameters: true, withFragments: true }), async (url) => {
        const result = await h.send(encodeToken(url));
        expectSafe(h, result);
        expect(result.status).toBe(401);
        expect(h.upstream).toHaveLength(0);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Mutations of a valid token. Each is either refused before STS, or makes exactly the request
// the original token makes: the same URL and the same two headers.

type Mutation = (url: string) => string;

const PARAMS = ["Action", "Version", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature"];

const randomCase = (name: string, bits: number[]) =>
  [...name].map((ch, i) => ((bits[i % bits.length] ?? 0) % 2 ? ch.toUpperCase() : ch.toLowerCase())).join("");

const mutations = fc.oneof(
  // Flip one character of the URL to another visible ASCII character.
  fc.tuple(fc.nat(), fc.integer({ min: 0x21, max: 0x7e })).map(([i, c]): Mutation => (u) => {
    const at = i % u.length;
    return u.slice(0, at) + String.fromCharCode(c) + u.slice(at + 1);
  }),
  // Duplicate a parameter, in any letter case, with its own or another value.
  fc.tuple(fc.constantFrom(...PARAMS), fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), fc.boolean()).map(
    ([name, bits, sameValue]): Mutation => (u) => {
      const value = new RegExp(`[?&]${name}=([^&]*)`).exec(u)?.[1] ?? "x";
      return `${u}&${randomCase(name, bits)}=${sameValue ? value : "AKIAEMULATORROOT0001"}`;
    },
  ),
  // Reorder the parameters.
  fc.array(fc.nat(), { minLength: 9, maxLength: 9 }).map((keys): Mutation => (u) => {
    const [base, query] = u.split("?") as [string, string];
    const pairs = query.split("&");
    const order = pairs.map((p, i) => [keys[i % keys.length]! + i / 100, p] as const).sort((a, b) => a[0] - b[0]);
    return `${base}?${order.map(([, p]) => p).join("&")}`;
  }),
  // Re-encode: percent-encode an unreserved character, or lowercase an escape.
  fc.nat().map((i): Mutation => (u) => {
    const q = u.indexOf("?");
    const at = q + 1 + (i % (u.length - q - 1));
    const ch = u[at]!;
    if (/[A-Za-z0-9]/.test(ch)) return u.slice(0, at) + `%${ch.charCodeAt(0).toString(16).toUpperCase()}` + u.slice(at + 1);
    return u.replace(/%[0-9A-F]{2}/, (m) => m.toLowerCase());
  }),
  // Swap the host for another STS host, a look-alike, or one with a trailing dot or port.
  fc
    .constantFrom(
      "sts.amazonaws.com",
      "sts.eu-west-1.amazonaws.com",
      "sts-fips.us-east-1.amazonaws.com",
      "sts.cn-north-1.amazonaws.com.cn",
      "sts.us-east-1.amazonaws.com.evil.example",
      "sts.us-east-1.amazonaws.com.",
      "sts.us-east-1.amazonaws.com:443",
      "sts.us-east-1.amаzonaws.com",
      "sts.us-east-1.amazonaws.com@evil.example",
      "ѕts.us-east-1.amazonaws.com",
    )
    .map((host): Mutation => (u) => u.replace("sts.us-east-1.amazonaws.com", host)),
  // Unicode look-alikes and invisible characters anywhere.
  fc.tuple(fc.nat(), fc.constantFrom("\u0430", "\u0455", "\u200b", "\ufeff", "\u00a0", "\uff0f", "\u2024")).map(
    ([i, c]): Mutation => (u) => {
      const at = i % u.length;
      return u.slice(0, at) + c + u.slice(at);
    },
  ),
);

const tokenMutations = fc.oneof(
  // Flip one character of the token itself.
  fc.tuple(fc.nat(), fc.integer({ min: 0x21, max: 0x7e })).map(([i, c]) => (t: string) => {
    const at = 11 + (i % (t.length - 11));
    return t.slice(0, at) + String.fromCharCode(c) + t.slice(at + 1);
  }),
  // Base64 padding, standard-alphabet characters, whitespace.
  fc.constantFrom("=", "==", "+", "/", " ", "\t").map((s) => (t: string) => t + s),
);

describe("mutations of a valid token", () => {
  for (const name of ["alice", "deployer"]) {
    it(`${name}: a mutation is refused before STS, or refused by STS, or is exactly the original request`, async () => {
      const h = harness();
      const original = await presignUrl(name, { at: NOW - 60_000 });
      const baseline = await h.send(encodeToken(original));
      expect(baseline.status).toBe(200);
      const reference = h.upstream[0]!;
      const referenceHeaders = JSON.stringify([...reference.headers]);
      const seen = { local: 0, sts: 0, same: 0 };
      await fc.assert(
        fc.asyncProperty(mutations, async (mutate) => {
          const mutated = mutate(original);
          fc.pre(mutated !== original);
          h.upstream.length = 0;
          const result = await h.send(encodeToken(mutated));
          expectSafe(h, result);
          expect(h.upstream.length).toBeLessThanOrEqual(1);
          const sent = h.upstream[0];
          if (sent === undefined) {
            expect(result.status).toBe(401);
            seen.local++;
            return;
          }
          expect(JSON.stringify([...sent.headers])).toBe(referenceHeaders);
          if (sent.url === reference.url) {
            // Same request, same answer: admitted as the same caller.
            expect(result.status).toBe(200);
            seen.same++;
          } else {
            // A request that differs from the original's (another signature byte, date, key,
            // or a table host that signs for the same region) is one the signature does not
            // cover: STS refuses it. Nothing that differs is ever admitted.
            expect(lookupStsEndpoint(new URL(sent.url).host)?.region).toBe(lookupStsEndpoint(new URL(reference.url).host)?.region);
            expect(result.status).toBe(401);
            expect(result.body).toContain("sts_refused");
            seen.sts++;
          }
        }),
        { seed: SEED, numRuns: 400 },
      );
      // The generators must reach all three outcomes, or the property proves less than it says.
      expect(seen.local).toBeGreaterThan(0);
      expect(seen.sts).toBeGreaterThan(0);
      expect(seen.same).toBeGreaterThan(0);
    });
  }

  it("mutations of the token's own characters are refused or decode to the same URL", async () => {
    const h = harness();
    const original = await presignUrl("alice", { at: NOW - 30_000 });
    const token = encodeToken(original);
    const baseline = await h.send(token);
    expect(baseline.status).toBe(200);
    const reference = h.upstream[0]!;
    const referenceHeaders = JSON.stringify([...reference.headers]);
    const seen = { refused: 0, same: 0 };
    await fc.assert(
      fc.asyncProperty(tokenMutations, async (mutate) => {
        const mutated = mutate(token);
        fc.pre(mutated !== token);
        h.upstream.length = 0;
        const result = await h.send(mutated);
        expectSafe(h, result);
        if (result.status === 200) {
          // Admitted only as the very request the original token makes: the whole URL, not just
          // its signature, and the same headers.
          expect(h.upstream.map((r) => r.url)).toEqual([reference.url]);
          expect(JSON.stringify([...h.upstream[0]!.headers])).toBe(referenceHeaders);
          seen.same++;
        } else {
          expect(result.status).toBe(401);
          seen.refused++;
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
    expect(seen.refused).toBeGreaterThan(0);
  });

  it("no response body or log line ever contains token material", async () => {
    const h = harness();
    const who = identity("deployer");
    const original = await presignUrl("deployer", { at: NOW - 90_000 });
    const signature = /X-Amz-Signature=([0-9a-f]{64})/.exec(original)![1]!;
    const secrets = [signature, who.sessionToken!, encodeURIComponent(who.sessionToken!), who.secretAccessKey];
    await fc.assert(
      fc.asyncProperty(fc.option(mutations, { nil: undefined }), async (mutate) => {
        const token = encodeToken(mutate ? mutate(original) : original);
        h.logs.length = 0;
        const result = await h.send(token);
        const output = result.body + h.logs.join("\n");
        for (const secret of secrets) expect(output).not.toContain(secret);
        expect(output).not.toContain(token.slice(11, 60));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
