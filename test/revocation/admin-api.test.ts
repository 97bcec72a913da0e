import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GateProblem } from "../../src/problem";
import { handleAdminRequest, MAX_ADMIN_BODY_BYTES, refusedRouteResponse, routeGateRequest, type AdminRoute, type GateRouteRefusal } from "../../src/revocation/admin-api";
import type { RevocationEntry } from "../../src/revocation/entry";
import { REVOCATIONS_PATH } from "../../src/revocation/paths";
import { RevocationSnapshot } from "../../src/revocation/snapshot";
import { RevocationStore } from "../../src/revocation/store";
import { REVOCATION_PREFIX } from "../../src/storage/keys";
import { clock } from "../support/clock";
import { captureLog } from "../support/gate";

/** The admin API over a store on the real KV namespace; each test removes the keys it wrote. */
const written = new Set<string>();
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all([...written].map((id) => env.IDENTITY_CACHE.delete(REVOCATION_PREFIX + id)));
  written.clear();
});

// The injected clock starts at the present: KV itself refuses expirations in its past.
const T = Math.floor(Date.now() / 1000) * 1000;
const ACTOR = { arn: "arn:aws:iam::111122223333:user/alice", accessKeyId: "AKIAEMULATORALICE001" };

function api() {
  const time = clock(T);
  const snapshot = new RevocationSnapshot(new RevocationStore(env.IDENTITY_CACHE), time.now);
  const send = async (route: AdminRoute, body?: BodyInit, headers: Record<string, string> = {}) => {
    const request = new Request(`https://localhost${REVOCATIONS_PATH}`, { method: body === undefined ? "GET" : "POST", body, headers });
    return handleAdminRequest(route, request, ACTOR, snapshot);
  };
  const refusal = (work: Promise<unknown>) =>
    work.then(
      () => undefined,
      (e: unknown) => (expect(e).toBeInstanceOf(GateProblem), (e as GateProblem).code),
    );
  return { time, snapshot, send, refusal };
}

const key = () => `ASIAUNITADMIN${crypto.randomUUID().replace(/-/g, "").slice(0, 8).toUpperCase()}`;

describe("routeGateRequest", () => {
  it.each<[string, string, AdminRoute | { code: string; allow?: string }]>([
    ["GET", REVOCATIONS_PATH, { action: "list" }],
    ["POST", REVOCATIONS_PATH, { action: "revoke" }],
    ["PUT", REVOCATIONS_PATH, { code: "method_not_allowed", allow: "GET, POST" }],
    ["DELETE", `${REVOCATIONS_PATH}/abc`, { action: "unrevoke", id: "abc" }],
    ["GET", `${REVOCATIONS_PATH}/abc`, { code: "method_not_allowed", allow: "DELETE" }],
    ["DELETE", `${REVOCATIONS_PATH}/a/b`, { code: "not_found" }],
    ["DELETE", `${REVOCATIONS_PATH}/`, { code: "not_found" }],
    ["GET", "/.well-known/sts-gate/other", { code: "not_found" }],
  ])("%s %s", (method, path, expected) => {
    const route = routeGateRequest(method, path);
    if ("action" in expected) expect(route).toEqual(expected);
    else {
      const refused = route as GateRouteRefusal;
      expect(refused.refusal.code).toBe(expected.code);
      expect(refused.allow).toBe(expected.allow);
    }
  });

  it("refuses to route a path outside the gate's prefix", () => {
    expect(() => routeGateRequest("GET", "/api/revocations")).toThrow();
  });

  it("answers a 405 with its Allow header", async () => {
    const res = refusedRouteResponse(routeGateRequest("PATCH", REVOCATIONS_PATH) as GateRouteRefusal);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST");
  });
});

describe("handleAdminRequest", () => {
  it("revokes: 201 with the stored entry and its location, applied at once, logged with the actor", async () => {
    const { send, snapshot } = api();
    const log = captureLog();
    const accessKeyId = key();
    const res = await send({ action: "revoke" }, JSON.stringify({ accessKeyId, reason: "leaked in a CI log" }));
    expect(res.status).toBe(201);
    const entry = (await res.json()) as RevocationEntry;
    written.add(entry.id);
    expect(entry).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), accessKeyId, reason: "leaked in a CI log", createdAt: new Date(T).toISOString(), createdBy: ACTOR.arn });
    expect(res.headers.get("location")).toBe(`${REVOCATIONS_PATH}/${entry.id}`);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await snapshot.store.get(entry.id)).toEqual(entry);
    await expect(snapshot.check({ accessKeyId })).rejects.toMatchObject({ code: "revoked" });
    const line = JSON.parse(log.raw.at(-1)!) as Record<string, unknown>;
    expect(line).toMatchObject({ event: "admin", action: "revoke", actor: ACTOR.arn, actorAccessKeyId: ACTOR.accessKeyId });
  });

  it("lists what still applies, oldest first, without expired entries", async () => {
    const { send, time } = api();
    captureLog();
    const ids: string[] = [];
    for (const expiresAt of [undefined, new Date(T + 60_000).toISOString()]) {
      const res = await send({ action: "revoke" }, JSON.stringify({ accessKeyId: key(), reason: "r", ...(expiresAt && { expiresAt }) }));
      const id = ((await res.json()) as RevocationEntry).id;
      written.add(id);
      ids.push(id);
      time.advance(1000);
    }
    const listed = async () => ((await (await send({ action: "list" })).json()) as { revocations: RevocationEntry[] }).revocations.map((e) => e.id).filter((id) => ids.includes(id));
    expect(await listed()).toEqual(ids);
    time.advance(60_000);
    expect(await listed()).toEqual([ids[0]]);
  });

  it("unrevokes: 204, gone from the store and from this isolate at once; a second time is revocation_not_found", async () => {
    const { send, snapshot, refusal } = api();
    captureLog();
    const accessKeyId = key();
    const entry = (await (await send({ action: "revoke" }, JSON.stringify({ accessKeyId, reason: "r" }))).json()) as RevocationEntry;
    written.add(entry.id);
    const res = await send({ action: "unrevoke", id: entry.id });
    expect(res.status).toBe(204);
    expect(await snapshot.store.get(entry.id)).toBeUndefined();
    await expect(snapshot.check({ accessKeyId })).resolves.toBeUndefined();
    expect(await refusal(send({ action: "unrevoke", id: entry.id }))).toBe("revocation_not_found");
    expect(await refusal(send({ action: "unrevoke", id: "not-a-uuid" }))).toBe("revocation_not_found");
  });

  it.each<[string, string, string]>([
    ["not JSON", "{", "body_not_json"],
    ["no selector", JSON.stringify({ reason: "r" }), "selector_missing"],
    ["an unknown field", JSON.stringify({ accessKeyId: "ASIAUNITADMIN0000000", reason: "r", note: 1 }), "unknown_field"],
    ["bytes that are not UTF-8", "\uFFFD", "body_not_json"],
  ])("refuses %s without writing anything", async (_why, body, code) => {
    const { send, refusal, snapshot } = api();
    const put = vi.spyOn(snapshot.store, "put");
    const bytes = _why === "bytes that are not UTF-8" ? new Uint8Array([0x7b, 0xff, 0x7d]) : body;
    expect(await refusal(send({ action: "revoke" }, bytes))).toBe(code);
    expect(put).not.toHaveBeenCalled();
  });

  it("refuses a body over MAX_ADMIN_BODY_BYTES, declared or not", async () => {
    const { send, refusal } = api();
    const big = JSON.stringify({ accessKeyId: key(), reason: "x".repeat(MAX_ADMIN_BODY_BYTES) });
    expect(await refusal(send({ action: "revoke" }, big))).toBe("body_too_large");
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const { snapshot } = api();
    // @ts-expect-error: duplex is required by the fetch spec for stream bodies
    const undeclared = new Request("https://localhost/", { method: "POST", body: stream, duplex: "half" });
    expect(await refusal(handleAdminRequest({ action: "revoke" }, undeclared, ACTOR, snapshot))).toBe("body_too_large");
  });

  it("answers revocations_unavailable when the store fails, and changes nothing", async () => {
    const { send, refusal, snapshot } = api();
    captureLog();
    vi.spyOn(snapshot.store, "put").mockRejectedValue(new Error("fault: KV put failed"));
    const accessKeyId = key();
    expect(await refusal(send({ action: "revoke" }, JSON.stringify({ accessKeyId, reason: "r" })))).toBe("revocations_unavailable");
    expect(snapshot.localWrites().size).toBe(0);
  });
});
