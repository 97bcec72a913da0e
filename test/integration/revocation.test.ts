import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { REVOCATIONS_PATH } from "../../src/revocation/paths";
import { REVOCATION_REFRESH_MS } from "../../src/revocation/snapshot";
import { REVOCATION_PREFIX } from "../../src/storage/keys";
import { clock } from "../support/clock";
import { stsCallsFor } from "../support/emulator";
import {
  A,
  ADMIN_POLICY,
  adminEnv,
  ALICE,
  call,
  clearRevocations,
  codeOf,
  DEPLOYER_KEY,
  DEPLOYER_ROLE,
  DEPLOYER_SESSION,
  isolate,
  logLines,
  revoke,
} from "../support/revocation";
import { decodeToken, mintToken } from "../support/tokens";

afterEach(clearRevocations);

interface Entry {
  id: string;
  accessKeyId?: string;
  principal?: string;
  account?: string;
  reason: string;
  expiresAt?: string;
  createdAt: string;
  createdBy: string;
}

async function created(res: Response): Promise<Entry> {
  expect(res.status).toBe(201);
  return (await res.json()) as Entry;
}

// The clock the test moves (test/support/clock.ts): the revocation snapshot's refresh and expiry run on it.

describe("revocation: the effect (403 revoked)", () => {
  it("refuses a revoked access key before any KV read or STS call (the key is in the credential scope)", async () => {
    const testEnv = adminEnv();
    const gate = isolate();
    await created(await revoke(gate, testEnv, { accessKeyId: DEPLOYER_KEY, reason: "leaked in a CI log" }));
    const token = await mintToken("deployer");
    const get = vi.spyOn(testEnv.IDENTITY_CACHE, "get");
    const log = vi.spyOn(console, "log");
    const res = await call(gate, testEnv, "/x", { token });
    expect(res.status).toBe(403);
    expect(await codeOf(res)).toBe("revoked");
    expect(get).not.toHaveBeenCalled();
    expect(await stsCallsFor(token)).toBe(0);
    const decision = logLines(log).find((l) => l.event === "decision")!;
    expect(decision).toMatchObject({ outcome: "deny", status: 403, code: "revoked", accessKeyId: DEPLOYER_KEY });
    get.mockRestore();
    log.mockRestore();
  });

  it("refuses an identity that sits in the isolate's memory (a cached identity is checked on every request)", async () => {
    const testEnv = adminEnv();
    const gate = isolate();
    const token = await mintToken("deployer");
    expect((await call(gate, testEnv, "/x", { token })).status).toBe(200);
    expect((await call(gate, testEnv, "/x", { token })).status).toBe(200);
    await created(await revoke(gate, testEnv, { principal: DEPLOYER_ROLE, reason: "compromised role" }));
    const log = vi.spyOn(console, "log");
    const res = await call(gate, testEnv, "/x", { token });
    expect(res.status).toBe(403);
    expect(await codeOf(res)).toBe("revoked");
    expect(logLines(log).find((l) => l.event === "decision")).toMatchObject({ cache: "memory", code: "revoked", principal: DEPLOYER_ROLE });
    log.mockRestore();
    expect(await stsCallsFor(token)).toBe(1);
  });

  it("refuses an identity found in KV by another isolate", async () => {
    const testEnv = adminEnv();
    const token = await mintToken("deployer");
    expect((await call(isolate(), testEnv, "/x", { token })).status).toBe(200);
    await created(await revoke(isolate(), testEnv, { principal: DEPLOYER_SESSION, reason: "this one session" }));
    const log = vi.spyOn(console, "log");
    const res = await call(isolate(), testEnv, "/x", { token });
    expect(await codeOf(res)).toBe("revoked");
    expect(logLines(log).find((l) => l.event === "decision")).toMatchObject({ cache: "kv", code: "revoked" });
    log.mockRestore();
    expect(await stsCallsFor(token)).toBe(1);
  });

  it("matches a principal by its canonical principal or its exact ARN, regardless of case", async () => {
    const testEnv = adminEnv();
    const gate = isolate();
    await created(await revoke(gate, testEnv, { principal: `arn:aws:sts::${A}:assumed-role/Deployer/CI-RUN-42`, reason: "one session" }));
    expect(await codeOf(await call(gate, testEnv, "/x", { token: await mintToken("deployer") }))).toBe("revoked");
    // Another principal is untouched.
    expect((await call(gate, testEnv, "/x", { token: await mintToken("alice") })).status).toBe(200);
  });

  it("revokes a whole account, the admin's own included (the API is behind the same pipeline)", async () => {
    const testEnv = adminEnv();
    const gate = isolate();
    await created(await revoke(gate, testEnv, { account: A, reason: "account compromised" }));
    expect(await codeOf(await call(gate, testEnv, "/x", { token: await mintToken("deployer") }))).toBe("revoked");
    expect(await codeOf(await call(gate, testEnv, REVOCATIONS_PATH, { token: await mintToken("alice") }))).toBe("revoked");
    // Another account's caller is not selected: the policy decides as usual.
    expect(await codeOf(await call(gate, testEnv, "/x", { token: await mintToken("other-account-deployer") }))).toBe("policy_denied");
  });

  it("the isolate that accepted applies it at once; another applies it on its first request after REVOCATION_REFRESH_MS", async () => {
    const testEnv = adminEnv();
    const c = clock();
    const accepting = isolate({ revocationClock: c.now });
    const other = isolate({ revocationClock: c.now });
    const token = await mintToken("deployer");
    // The other isolate reads the (empty) revocation set at t0.
    expect((await call(other, testEnv, "/x", { token })).status).toBe(200);
    c.t += 1000;
    await created(await revoke(accepting, testEnv, { accessKeyId: DEPLOYER_KEY, reason: "leaked" }));
    expect(await codeOf(await call(accepting, testEnv, "/x", { token }))).toBe("revoked");
    // The bound, made visible: until its copy is REVOCATION_REFRESH_MS old, the other isolate still admits…
    c.t += REVOCATION_REFRESH_MS - 1001;
    expect((await call(other, testEnv, "/x", { token })).status).toBe(200);
    // …and on its next request after that, it re-reads KV and refuses.
    c.t += 1;
    expect(await codeOf(await call(other, testEnv, "/x", { token }))).toBe("revoked");
    expect(REVOCATION_REFRESH_MS).toBeLessThanOrEqual(60_000);
  });

  it("an isolate that starts after the revocation applies it on its first request", async () => {
    const testEnv = adminEnv();
    await created(await revoke(isolate(), testEnv, { accessKeyId: DEPLOYER_KEY, reason: "leaked" }));
    const token = await mintToken("deployer");
    expect(await codeOf(await call(isolate(), testEnv, "/x", { token }))).toBe("revoked");
    expect(await stsCallsFor(token)).toBe(0);
  });

  it("an expired entry stops applying, in the accepting isolate and in others, and leaves the listing", async () => {
    const testEnv = adminEnv();
    const c = clock();
    const gate = isolate({ revocationClock: c.now });
    const entry = await created(
      await revoke(gate, testEnv, { accessKeyId: DEPLOYER_KEY, reason: "until the rotation", expiresAt: new Date(c.t + 5000).toISOString() }),
    );
    expect(entry.expiresAt).toBe(new Date(c.t + 5000).toISOString());
    const token = await mintToken("deployer");
    expect(await codeOf(await call(gate, testEnv, "/x", { token }))).toBe("revoked");
    const fresh = isolate({ revocationClock: c.now });
    expect(await codeOf(await call(fresh, testEnv, "/x", { token }))).toBe("revoked");
    c.t += 4999;
    expect(await codeOf(await call(gate, testEnv, "/x", { token }))).toBe("revoked");
    c.t += 1;
    expect((await call(gate, testEnv, "/x", { token })).status).toBe(200);
    expect((await call(fresh, testEnv, "/x", { token })).status).toBe(200);
    const list = await call(gate, testEnv, REVOCATIONS_PATH, { token: await mintToken("alice") });
    expect(((await list.json()) as { revocations: Entry[] }).revocations).toEqual([]);
  });

  it("keeps two revocations made at the same moment in two isolates (one key per entry)", async () => {
    const testEnv = adminEnv();
    const [one, two] = [isolate(), isolate()];
    const [a, b] = await Promise.all([
      revoke(one, testEnv, { accessKeyId: DEPLOYER_KEY, reason: "first" }),
      revoke(two, testEnv, { principal: `arn:aws:iam::${A}:user/bob`, reason: "second" }),
    ]);
    const [ea, eb] = [await created(a), await created(b)];
    expect(ea.id).not.toBe(eb.id);
    const { keys } = await env.IDENTITY_CACHE.list({ prefix: REVOCATION_PREFIX });
    expect(keys.map((k) => k.name).sort()).toEqual([REVOCATION_PREFIX + ea.id, REVOCATION_PREFIX + eb.id].sort());
    const res = await call(isolate(), testEnv, REVOCATIONS_PATH, { token: await mintToken("alice") });
    expect(res.status).toBe(200);
    const listed = ((await res.json()) as { revocations: Entry[] }).revocations;
    expect(listed.map((e) => e.id).sort()).toEqual([ea.id, eb.id].sort());
    // Both apply in a third isolate.
    const third = isolate();
    expect(await codeOf(await call(third, testEnv, "/x", { token: await mintToken("deployer") }))).toBe("revoked");
  });

  it("fails closed when the revocation set cannot be read (503 revocations_unavailable)", async () => {
    const broken = {
      ...env.IDENTITY_CACHE,
      get: () => Promise.reject(new Error("KV unavailable")),
      put: () => Promise.reject(new Error("KV unavailable")),
      list: () => Promise.reject(new Error("KV unavailable")),
    } as unknown as KVNamespace;
    const res = await call(isolate(), { ...adminEnv(), IDENTITY_CACHE: broken }, "/x", { token: await mintToken("alice") });
    expect(res.status).toBe(503);
    expect(await codeOf(res)).toBe("revocations_unavailable");
  });

  it("stores identifiers only, never token material", async () => {
    const testEnv = adminEnv();
    const token = await mintToken("alice");
    await created(await call(isolate(), testEnv, REVOCATIONS_PATH, { method: "POST", token, body: JSON.stringify({ accessKeyId: DEPLOYER_KEY, reason: "r" }) }));
    const signature = /X-Amz-Signature=([0-9a-f]{64})/.exec(decodeToken(token))![1]!;
    const { keys } = await env.IDENTITY_CACHE.list({ prefix: REVOCATION_PREFIX });
    expect(keys).toHaveLength(1);
    for (const key of keys) {
      const value = (await env.IDENTITY_CACHE.get(key.name)) ?? "";
      for (const secret of [signature, token.slice(11), "Secret0000"]) {
        expect(value).not.toContain(secret);
        expect(JSON.stringify(key.metadata)).not.toContain(secret);
      }
    }
  });

  it("does not apply when the policy has no admins (the feature is off)", async () => {
    const testEnv = adminEnv();
    await created(await revoke(isolate(), testEnv, { accessKeyId: DEPLOYER_KEY, reason: "r" }));
    const off = adminEnv({ allow: ADMIN_POLICY.allow });
    expect((await call(isolate(), off, "/x", { token: await mintToken("deployer") })).status).toBe(200);
  });
});

describe("revocation: the admin API", () => {
  it("POST answers 201 with the entry the gate completed; GET lists it; DELETE answers 204 and lifts it at once", async () => {
    const testEnv = adminEnv();
    const gate = isolate();
    const log = vi.spyOn(console, "log");
    const res = await revoke(gate, testEnv, { accessKeyId: DEPLOYER_KEY, reason: "leaked in a CI log" });
    const entry = await created(res);
    expect(entry).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      accessKeyId: DEPLOYER_KEY,
      reason: "leaked in a CI log",
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      createdBy: ALICE,
    });
    expect(res.headers.get("location")).toBe(`${REVOCATIONS_PATH}/${entry.id}`);
    const list = await call(gate, testEnv, REVOCATIONS_PATH, { token: await mintToken("alice") });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ revocations: [entry] });
    const token = await mintToken("deployer");
    expect(await codeOf(await call(gate, testEnv, "/x", { token }))).toBe("revoked");
    const del = await call(gate, testEnv, `${REVOCATIONS_PATH}/${entry.id}`, { method: "DELETE", token: await mintToken("alice") });
    expect(del.status).toBe(204);
    expect((await call(gate, testEnv, "/x", { token })).status).toBe(200);
    expect(await env.IDENTITY_CACHE.get(REVOCATION_PREFIX + entry.id)).toBeNull();
    const again = await call(gate, testEnv, `${REVOCATIONS_PATH}/${entry.id}`, { method: "DELETE", token: await mintToken("alice") });
    expect(again.status).toBe(404);
    expect(await codeOf(again)).toBe("revocation_not_found");

    const admin = logLines(log).filter((l) => l.event === "admin");
    expect(admin.map((l) => l.action)).toEqual(["revoke", "list", "unrevoke"]);
    for (const l of admin) expect(l.actor).toBe(ALICE);
    expect(admin[0]!.entry).toEqual(entry);
    expect(admin[2]!.entry).toEqual(entry);
    log.mockRestore();
  });

  it("refuses a caller who is not an admin with 403, and one without a token with 401", async () => {
    const testEnv = adminEnv();
    const gate = isolate();
    for (const [method, path] of [["POST", REVOCATIONS_PATH], ["GET", REVOCATIONS_PATH], ["DELETE", `${REVOCATIONS_PATH}/00000000-0000-4000-8000-000000000000`]] as const) {
      const body = method === "POST" ? JSON.stringify({ accessKeyId: "AKIAEMULATORALICE001", reason: "r" }) : undefined;
      const res = await call(gate, testEnv, path, { method, token: await mintToken("deployer"), body });
      expect(res.status).toBe(403);
      expect(await codeOf(res)).toBe("not_admin");
      expect((await call(gate, testEnv, path, { method, body })).status).toBe(401);
    }
    expect((await env.IDENTITY_CACHE.list({ prefix: REVOCATION_PREFIX })).keys).toHaveLength(0);
  });

  it("applies the principal-type rules and the guards to admins (full form)", async () => {
    const policy = {
      rules: [{ name: "all", allow: [ALICE] }],
      admins: [`arn:aws:sts::${A}:federated-user/*`, `arn:aws:iam::${A}:role/deployer`],
      deny: [`arn:aws:iam::${A}:role/deployer`],
    };
    const testEnv = adminEnv(policy);
    const gate = isolate();
    expect(await codeOf(await call(gate, testEnv, REVOCATIONS_PATH, { token: await mintToken("federated-bob") }))).toBe("principal_type_denied");
    expect(await codeOf(await call(gate, testEnv, REVOCATIONS_PATH, { token: await mintToken("deployer") }))).toBe("policy_denied");
    // An admin need not be allowed by any rule, and a rule does not make an admin.
    expect(await codeOf(await call(gate, testEnv, REVOCATIONS_PATH, { token: await mintToken("alice") }))).toBe("not_admin");
    const withTypes = adminEnv({ ...policy, principalTypes: ["user", "federated-user"] });
    expect((await call(gate, withTypes, REVOCATIONS_PATH, { token: await mintToken("federated-bob") })).status).toBe(200);
  });

  it("answers 404 problem+json on every revocation endpoint when the policy has no admins", async () => {
    const gate = isolate();
    for (const [method, path] of [["POST", REVOCATIONS_PATH], ["GET", REVOCATIONS_PATH], ["DELETE", `${REVOCATIONS_PATH}/x`]] as const) {
      const res = await call(gate, env, path, { method, token: await mintToken("alice"), body: method === "POST" ? "{}" : undefined });
      expect(res.status).toBe(404);
      expect(await codeOf(res)).toBe("not_found");
    }
  });

  it.each([
    ["admins on", () => adminEnv()],
    ["admins off", () => env],
  ])("never forwards the /.well-known/sts-gate/ prefix; an unknown path there is 404 (%s)", async (_name, testEnv) => {
    const gate = isolate();
    for (const path of [
      "/.well-known/sts-gate",
      "/.well-known/sts-gate/",
      "/.well-known/sts-gate/anything",
      "/.well-known/sts-gate/revocations/",
      "/.well-known/sts-gate/revocations/a/b",
      "/.well-known/%73ts-gate/revocations",
      "/.WELL-KNOWN/STS-GATE/x",
      // Spellings that only decoding makes the prefix: nothing may take them to the origin.
      "/%2Ewell-known/sts-gate/revocations",
      "/.well-known%2Fsts-gate%2Frevocations",
      // Origins that merge slashes would read these as the prefix too.
      "//.well-known/sts-gate/revocations",
      "/.well-known//sts-gate/x",
    ]) {
      const res = await call(gate, testEnv(), path, { token: await mintToken("alice") });
      expect(res.status, path).toBe(404);
      expect(await codeOf(res)).toBe("not_found");
    }
  });

  it("answers 405 with Allow for another method on a known path", async () => {
    const res = await call(isolate(), adminEnv(), REVOCATIONS_PATH, { method: "PUT", token: await mintToken("alice") });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST");
  });

  it.each([
    ["not JSON", "{accessKeyId:", "body_not_json"],
    ["not an object", "[1]", "body_invalid"],
    ["an unknown field", JSON.stringify({ accessKeyId: DEPLOYER_KEY, reason: "r", note: "x" }), "unknown_field"],
    ["no selector", JSON.stringify({ reason: "r" }), "selector_missing"],
    ["two selectors", JSON.stringify({ accessKeyId: DEPLOYER_KEY, account: A, reason: "r" }), "selector_multiple"],
    ["a malformed key", JSON.stringify({ accessKeyId: "AKIA123", reason: "r" }), "access_key_malformed"],
    ["a lower-case key", JSON.stringify({ accessKeyId: DEPLOYER_KEY.toLowerCase(), reason: "r" }), "access_key_malformed"],
    ["a user ID, not a key", JSON.stringify({ accessKeyId: "AIDAEMULATORALICE0001", reason: "r" }), "access_key_malformed"],
    ["a wildcard ARN", JSON.stringify({ principal: `arn:aws:iam::${A}:role/*`, reason: "r" }), "principal_malformed"],
    ["a role with a path", JSON.stringify({ principal: `arn:aws:iam::${A}:role/team/deployer`, reason: "r" }), "principal_malformed"],
    ["not an ARN", JSON.stringify({ principal: "deployer", reason: "r" }), "principal_malformed"],
    ["a malformed account", JSON.stringify({ account: "1111-2222-3333", reason: "r" }), "account_malformed"],
    ["a numeric account", JSON.stringify({ account: 111122223333, reason: "r" }), "account_malformed"],
    ["no reason", JSON.stringify({ accessKeyId: DEPLOYER_KEY }), "reason_invalid"],
    ["a reason over 500 characters", JSON.stringify({ accessKeyId: DEPLOYER_KEY, reason: "x".repeat(501) }), "reason_invalid"],
    ["a malformed expiresAt", JSON.stringify({ accessKeyId: DEPLOYER_KEY, reason: "r", expiresAt: "tomorrow" }), "expires_at_malformed"],
    ["an expiresAt in the past", JSON.stringify({ accessKeyId: DEPLOYER_KEY, reason: "r", expiresAt: "2020-01-01T00:00:00Z" }), "expires_at_past"],
  ])("refuses %s with 400 problem+json", async (_name, body, code) => {
    const res = await call(isolate(), adminEnv(), REVOCATIONS_PATH, { method: "POST", token: await mintToken("alice"), body });
    expect(res.status).toBe(400);
    expect(await codeOf(res)).toBe(code);
    expect((await env.IDENTITY_CACHE.list({ prefix: REVOCATION_PREFIX })).keys).toHaveLength(0);
  });

  it("accepts any future expiresAt, however near (KV's 60 s minimum TTL is the store's concern)", async () => {
    const testEnv = adminEnv();
    const soon = new Date(Date.now() + 2000).toISOString();
    const entry = await created(await revoke(isolate(), testEnv, { account: "444455556666", reason: "briefly", expiresAt: soon }));
    expect(entry.expiresAt).toBe(soon);
    const { keys } = await env.IDENTITY_CACHE.list({ prefix: REVOCATION_PREFIX });
    expect(keys[0]!.expiration).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 60);
    // A far expiry is stored too (with no KV expiration: the gate checks it).
    await created(await revoke(isolate(), testEnv, { account: "444455556666", reason: "long", expiresAt: "2999-01-01T00:00:00Z" }));
    // 500 characters exactly is a valid reason.
    await created(await revoke(isolate(), testEnv, { account: "444455556666", reason: "y".repeat(500) }));
  });

  it("refuses a body over 16 KiB with 413", async () => {
    const body = JSON.stringify({ accessKeyId: DEPLOYER_KEY, reason: "r", pad: "x".repeat(17 * 1024) });
    const res = await call(isolate(), adminEnv(), REVOCATIONS_PATH, { method: "POST", token: await mintToken("alice"), body });
    expect(res.status).toBe(413);
    expect(await codeOf(res)).toBe("body_too_large");
  });
});
