import { createRemoteJWKSet, customFetch } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { generateAssertionKey, type AssertionKeyAlgorithm } from "../../src/assertion/generate";
import { verifyCaller } from "../../src/origin";
import { logLines } from "../support/gate";
import { bearer, mintToken } from "../support/tokens";
import {
  callAs,
  captureOrigin,
  decodeAssertion,
  env,
  gateJwks,
  remoteGateJwks,
  throughGate,
  verifierOptions,
} from "./assertion-support";
import { codeOf } from "../support/verification";

afterEach(() => vi.restoreAllMocks());

/**
 * A gate env with its own key and a capturing origin. A gate that keeps the run's key signs
 * for the real echo origin, which verifies every request it records.
 */
function gateWith(patch: Record<string, unknown>) {
  const origin = captureOrigin("ASSERTION_PRIVATE_JWK" in patch ? undefined : env.ORIGIN);
  return { env: { ...env, ORIGIN: origin.fetcher, ...patch }, origin };
}

/** The caller an origin must accept for this assertion: alice, and this very assertion (its jti). */
function acceptedAsAlice(assertion: string) {
  return { principal: "arn:aws:iam::111122223333:user/alice", principalType: "user", account: "111122223333", jti: decodeAssertion(assertion).claims.jti };
}

async function assertionFrom(gate: ReturnType<typeof gateWith>, path = "/r") {
  const res = await callAs("alice", gate.env, path);
  expect(res.status).toBe(200);
  const request = gate.origin.last();
  return { request, assertion: request.headers.get("x-caller-assertion")! };
}


describe("both key types", () => {
  it.each<AssertionKeyAlgorithm>(["EdDSA", "ES256"])("signs with a %s key and the origin verifies it through the JWKS", async (alg) => {
    const key = await generateAssertionKey(alg);
    const gate = gateWith({ ASSERTION_PRIVATE_JWK: JSON.stringify(key.privateJwk) });
    const { request, assertion } = await assertionFrom(gate, "/alg?x=1");
    expect(decodeAssertion(assertion).header).toEqual({ alg, kid: key.kid, typ: "sts-gate-caller+jwt" });
    const caller = await verifyCaller(request, verifierOptions(remoteGateJwks(gate.env)));
    expect(caller.principal).toBe("arn:aws:iam::111122223333:user/alice");
    expect(await gateJwks(gate.env)).toEqual({ keys: [key.publicJwk] });
  });

  it("takes the private JWK as a wrangler.toml table (an object) as well as JSON text", async () => {
    const key = await generateAssertionKey("ES256");
    const gate = gateWith({ ASSERTION_PRIVATE_JWK: key.privateJwk });
    const { request, assertion } = await assertionFrom(gate);
    await expect(verifyCaller(request, verifierOptions(await gateJwks(gate.env)))).resolves.toMatchObject(acceptedAsAlice(assertion));
  });

  it("derives kid as the RFC 7638 thumbprint when the JWK has none", async () => {
    const key = await generateAssertionKey("EdDSA");
    const { kid: _kid, ...withoutKid } = key.privateJwk;
    const gate = gateWith({ ASSERTION_PRIVATE_JWK: withoutKid });
    const { assertion } = await assertionFrom(gate);
    expect(decodeAssertion(assertion).header.kid).toBe(key.kid);
    expect((await gateJwks(gate.env)).keys[0]!.kid).toBe(key.kid);
  });
});

describe("rotation", () => {
  it("an assertion signed by the previous key verifies while it is published, and fails once it is removed", async () => {
    const a = await generateAssertionKey("EdDSA");
    const b = await generateAssertionKey("ES256");

    // Before: the gate signs with A.
    const before = gateWith({ ASSERTION_PRIVATE_JWK: JSON.stringify(a.privateJwk) });
    const signedByA = await assertionFrom(before, "/rotate");

    // During: B signs, A is still published as the previous key.
    const during = gateWith({
      ASSERTION_PRIVATE_JWK: JSON.stringify(b.privateJwk),
      ASSERTION_PREVIOUS_PUBLIC_JWK: JSON.stringify(a.publicJwk),
    });
    const signedByB = await assertionFrom(during, "/rotate");
    expect(decodeAssertion(signedByB.assertion).header.kid).toBe(b.kid);
    expect((await gateJwks(during.env)).keys.map((k) => k.kid)).toEqual([b.kid, a.kid]);
    const duringKeys = remoteGateJwks(during.env);
    await expect(verifyCaller(signedByA.request, verifierOptions(duringKeys))).resolves.toMatchObject(acceptedAsAlice(signedByA.assertion));
    await expect(verifyCaller(signedByB.request, verifierOptions(duringKeys))).resolves.toMatchObject(acceptedAsAlice(signedByB.assertion));

    // After: A is no longer published.
    const after = gateWith({ ASSERTION_PRIVATE_JWK: JSON.stringify(b.privateJwk) });
    const afterKeys = remoteGateJwks(after.env);
    expect(await codeOf(verifyCaller(signedByA.request, verifierOptions(afterKeys)))).toBe("assertion_key_unknown");
    await expect(verifyCaller(signedByB.request, verifierOptions(afterKeys))).resolves.toMatchObject(acceptedAsAlice(signedByB.assertion));
  });

  it("one origin's remote key set follows the rotation: it refetches on an unknown kid", async () => {
    const a = await generateAssertionKey("EdDSA");
    const b = await generateAssertionKey("EdDSA");
    const before = gateWith({ ASSERTION_PRIVATE_JWK: JSON.stringify(a.privateJwk) });
    const during = gateWith({ ASSERTION_PRIVATE_JWK: JSON.stringify(b.privateJwk), ASSERTION_PREVIOUS_PUBLIC_JWK: a.publicJwk });
    let deployed: object = before.env;
    // One key set for the origin's whole life, as in production; its fetches reach whichever
    // gate is deployed. (jose's default 30 s cooldown between fetches is set to 0 here.)
    const keys = createRemoteJWKSet(new URL("https://localhost/.well-known/jwks.json"), {
      cooldownDuration: 0,
      [customFetch]: (url: string, init: RequestInit) => throughGate(deployed, new URL(url).pathname, init),
    });
    const options = verifierOptions(keys);
    const first = await assertionFrom(before);
    await expect(verifyCaller(first.request, options)).resolves.toMatchObject(acceptedAsAlice(first.assertion));
    deployed = during.env; // the gate is redeployed with B
    const second = await assertionFrom(during);
    await expect(verifyCaller(second.request, options)).resolves.toMatchObject(acceptedAsAlice(second.assertion));
    await expect(verifyCaller(first.request, options)).resolves.toMatchObject(acceptedAsAlice(first.assertion));
  });

  it("publishes the current key once when the previous key is the same key (first rotation step)", async () => {
    const a = await generateAssertionKey("EdDSA");
    const gate = gateWith({ ASSERTION_PRIVATE_JWK: a.privateJwk, ASSERTION_PREVIOUS_PUBLIC_JWK: a.publicJwk });
    expect(await gateJwks(gate.env)).toEqual({ keys: [a.publicJwk] });
  });

  it("never publishes a private part, whatever the JWKs carry", async () => {
    const a = await generateAssertionKey("ES256");
    const b = await generateAssertionKey("EdDSA");
    const gate = gateWith({
      ASSERTION_PRIVATE_JWK: { ...a.privateJwk, p: "x", q: "y", dp: "z", extra: "secret-ish" },
      ASSERTION_PREVIOUS_PUBLIC_JWK: { ...b.publicJwk, extra: "dropped" },
    });
    const res = await throughGate(gate.env, "/.well-known/jwks.json");
    const text = await res.text();
    expect(text).not.toContain('"d"');
    expect(text).not.toContain(a.privateJwk.d);
    expect(text).not.toContain("secret-ish");
    expect(JSON.parse(text)).toEqual({ keys: [a.publicJwk, b.publicJwk] });
  });
});

describe("without a key", () => {
  it("forwards without an assertion, warns once per configuration, and publishes an empty key set", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const gate = gateWith({ ASSERTION_PRIVATE_JWK: undefined });
    expect((await callAs("alice", gate.env, "/one")).status).toBe(200);
    expect((await callAs("alice", gate.env, "/two")).status).toBe(200);
    for (const request of gate.origin.requests) expect(request.headers.has("x-caller-assertion")).toBe(false);
    const warnings = logLines(log).filter((l) => l.event === "config" && l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/^ASSERTION_PRIVATE_JWK is not set: .*network path/);
    expect(await gateJwks(gate.env)).toEqual({ keys: [] });
  });

  it("still strips an inbound X-Caller-Assertion", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const gate = gateWith({ ASSERTION_PRIVATE_JWK: undefined });
    await callAs("alice", gate.env, "/s", { headers: { "X-Caller-Assertion": "forged.jwt.value" } });
    expect(gate.origin.last().headers.has("x-caller-assertion")).toBe(false);
  });

  it("the echo origin refuses what such a gate forwards (it trusts only signed identities)", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const res = await callAs("alice", { ...env, ASSERTION_PRIVATE_JWK: undefined }, "/x");
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe("assertion_missing");
  });
});

describe("the gate strips an inbound X-Caller-Assertion", () => {
  it("replaces a client's assertion (even a valid one from another request) with its own", async () => {
    const gate = gateWith({});
    const stolen = (await assertionFrom(gate, "/admin")).assertion;
    await callAs("alice", gate.env, "/other", { headers: { "x-caller-assertion": stolen, "X-CALLER-ASSERTION": stolen } });
    const received = gate.origin.last();
    const own = received.headers.get("x-caller-assertion")!;
    expect(own).not.toBe(stolen);
    expect(own).not.toContain(",");
    expect(decodeAssertion(own).claims.htu).toBe("/base/other");
    await expect(verifyCaller(received, verifierOptions(await gateJwks(env)))).resolves.toMatchObject(acceptedAsAlice(own));
  });
});

describe("key configuration", () => {
  const other = generateAssertionKey("EdDSA");
  const good = generateAssertionKey("EdDSA");
  const ec = generateAssertionKey("ES256");

  const cases: Array<[string, () => Promise<Record<string, unknown>>, string]> = [
    ["text that is not JSON", async () => ({ ASSERTION_PRIVATE_JWK: "{kty: OKP" }), "ASSERTION_PRIVATE_JWK: is a string but not valid JSON"],
    ["an empty string", async () => ({ ASSERTION_PRIVATE_JWK: "" }), "ASSERTION_PRIVATE_JWK: is a string but not valid JSON"],
    ["a public key (no d)", async () => ({ ASSERTION_PRIVATE_JWK: (await good).publicJwk }), "ASSERTION_PRIVATE_JWK.d: "],
    ["an RSA key", async () => ({ ASSERTION_PRIVATE_JWK: { kty: "RSA", n: "AQAB", e: "AQAB", d: "AQAB" } }), "ASSERTION_PRIVATE_JWK.kty: "],
    ["an X25519 key", async () => ({ ASSERTION_PRIVATE_JWK: { ...(await good).privateJwk, crv: "X25519" } }), "ASSERTION_PRIVATE_JWK.crv: "],
    ["an Ed25519 key labelled ES256", async () => ({ ASSERTION_PRIVATE_JWK: { ...(await good).privateJwk, alg: "ES256" } }), "ASSERTION_PRIVATE_JWK.alg: "],
    ["a d that is too short", async () => ({ ASSERTION_PRIVATE_JWK: { ...(await good).privateJwk, d: "AAAA" } }), "ASSERTION_PRIVATE_JWK.d: "],
    [
      "a d that belongs to another key",
      async () => ({ ASSERTION_PRIVATE_JWK: { ...(await good).privateJwk, d: (await other).privateJwk.d } }),
      "ASSERTION_PRIVATE_JWK: its private part d does not belong to its public part",
    ],
    [
      "an EC point that is not on the curve",
      async () => ({ ASSERTION_PRIVATE_JWK: { ...(await ec).privateJwk, y: (await ec).privateJwk.x } }),
      "ASSERTION_PRIVATE_JWK: ",
    ],
    [
      "a previous key that carries d",
      async () => ({ ASSERTION_PRIVATE_JWK: (await good).privateJwk, ASSERTION_PREVIOUS_PUBLIC_JWK: (await other).privateJwk }),
      "ASSERTION_PREVIOUS_PUBLIC_JWK.d: must not be there",
    ],
    [
      "a previous key without a current one",
      async () => ({ ASSERTION_PRIVATE_JWK: undefined, ASSERTION_PREVIOUS_PUBLIC_JWK: (await other).publicJwk }),
      "ASSERTION_PREVIOUS_PUBLIC_JWK: is set, but ASSERTION_PRIVATE_JWK is not",
    ],
    [
      "a previous key that reuses the current kid",
      async () => ({ ASSERTION_PRIVATE_JWK: (await good).privateJwk, ASSERTION_PREVIOUS_PUBLIC_JWK: { ...(await other).publicJwk, kid: (await good).kid } }),
      "ASSERTION_PREVIOUS_PUBLIC_JWK: has the same kid",
    ],
    ["an ASSERTION_AUDIENCE with a space", async () => ({ ASSERTION_AUDIENCE: "my origin" }), "ASSERTION_AUDIENCE: "],
    ["an empty ASSERTION_ISSUER", async () => ({ ASSERTION_ISSUER: "" }), "ASSERTION_ISSUER: "],
  ];

  it.each(cases)("fails closed on %s: 500 misconfigured, a log line naming the field, never the key", async (_why, patch, message) => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const p = await patch();
    const gate = gateWith(p);
    const res = await throughGate(gate.env, "/x", { headers: bearer(await mintToken("alice")) });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe("misconfigured");
    expect(gate.origin.requests).toHaveLength(0);
    // The JWKS is refused too: a gate with a broken key publishes nothing.
    expect((await throughGate(gate.env, "/.well-known/jwks.json")).status).toBe(500);
    const lines = logLines(log);
    expect(lines.some((l) => l.event === "config" && l.level === "error" && String(l.message).startsWith(message))).toBe(true);
    const output = log.mock.calls.map((c) => String(c[0])).join("\n");
    for (const k of [await good, await other, await ec]) expect(output).not.toContain(k.privateJwk.d);
  });
});

describe("performance", () => {
  it("imports the signing key once per configuration, not per request", async () => {
    const key = await generateAssertionKey("EdDSA");
    const gate = gateWith({ ASSERTION_PRIVATE_JWK: JSON.stringify(key.privateJwk) });
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    await callAs("alice", gate.env, "/1");
    const afterFirst = importKey.mock.calls.filter((c) => c[0] === "jwk").length;
    expect(afterFirst).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) await callAs("alice", gate.env, `/${i}`);
    expect(importKey.mock.calls.filter((c) => c[0] === "jwk").length).toBe(afterFirst);
    expect(gate.origin.requests).toHaveLength(6);
  });
});
