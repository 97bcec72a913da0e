import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { GateError } from "../../src/errors";
import type { RevocationEntry } from "../../src/revocation/entry";
import { LOCAL_WRITE_MEMORY_MS, REVOCATION_MAX_STALE_MS, REVOCATION_REFRESH_MS, RevocationSnapshot } from "../../src/revocation/snapshot";
import { RevocationStore } from "../../src/revocation/store";
import { REVOCATION_PREFIX } from "../../src/storage/keys";
import { clock } from "../support/clock";

/** A snapshot over a store on the real KV namespace; each test removes the keys it wrote, and only those. */
const written: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(written.splice(0).map((id) => env.IDENTITY_CACHE.delete(REVOCATION_PREFIX + id)));
});

const T = Date.UTC(2026, 10, 22, 12, 0, 0);

function entry(): RevocationEntry {
  const id = crypto.randomUUID();
  written.push(id);
  return { id, accessKeyId: `ASIAUNITSNAP${id.replace(/-/g, "").slice(0, 8).toUpperCase()}`, reason: "leaked", createdAt: new Date(T).toISOString(), createdBy: "arn:aws:iam::111122223333:user/alice" };
}

async function outcome(snapshot: RevocationSnapshot, accessKeyId: string): Promise<string> {
  return snapshot.check({ accessKeyId }).then(
    () => "admitted",
    (e: GateError) => e.code,
  );
}

function setup() {
  const time = clock(T);
  const store = new RevocationStore(env.IDENTITY_CACHE);
  const reads = vi.spyOn(store, "markers");
  return { time, store, reads, snapshot: new RevocationSnapshot(store, time.now) };
}

describe("RevocationSnapshot (rule revocationRefresh)", () => {
  it("reads KV on its first check, then not again until its copy is REVOCATION_REFRESH_MS old", async () => {
    const { time, store, reads, snapshot } = setup();
    const e = entry();
    expect(await outcome(snapshot, e.accessKeyId!)).toBe("admitted");
    expect(reads).toHaveBeenCalledTimes(1);
    await store.put(e, T);
    time.advance(REVOCATION_REFRESH_MS - 1);
    expect(await outcome(snapshot, e.accessKeyId!)).toBe("admitted");
    expect(reads).toHaveBeenCalledTimes(1);
    time.advance(1);
    expect(await outcome(snapshot, e.accessKeyId!)).toBe("revoked");
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it("reads once for concurrent checks", async () => {
    const { reads, snapshot } = setup();
    await Promise.all([outcome(snapshot, "ASIAUNITSNAPAAAAAAAA"), outcome(snapshot, "ASIAUNITSNAPBBBBBBBB")]);
    expect(reads).toHaveBeenCalledTimes(1);
  });
});

describe("RevocationSnapshot (rule revocationLocalApply)", () => {
  it("applies its own additions at once, and its own removals over a KV copy that still has the entry", async () => {
    const { store, reads, snapshot } = setup();
    const e = entry();
    await store.put(e, T);
    expect(await outcome(snapshot, e.accessKeyId!)).toBe("revoked");
    snapshot.removed(e.id);
    expect(await outcome(snapshot, e.accessKeyId!)).toBe("admitted");
    const f = entry();
    snapshot.added(f);
    expect(await outcome(snapshot, f.accessKeyId!)).toBe("revoked");
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it("forgets its own writes after LOCAL_WRITE_MEMORY_MS, leaving KV to say", async () => {
    const { time, snapshot } = setup();
    const f = entry();
    snapshot.added(f);
    expect(snapshot.localWrites().get(f.id)).toEqual(f);
    time.advance(LOCAL_WRITE_MEMORY_MS);
    expect(snapshot.localWrites().has(f.id)).toBe(false);
    // Never stored in KV: once forgotten it no longer applies.
    expect(await outcome(snapshot, f.accessKeyId!)).toBe("admitted");
  });
});

describe("RevocationSnapshot when KV cannot be listed", () => {
  it("refuses with revocations_unavailable when it has no copy", async () => {
    const { reads, snapshot } = setup();
    reads.mockRejectedValue(new Error("fault: KV list failed"));
    vi.spyOn(console, "log").mockImplementation(() => {});
    expect(await outcome(snapshot, "ASIAUNITSNAPAAAAAAAA")).toBe("revocations_unavailable");
  });

  it("keeps using its copy until it is REVOCATION_MAX_STALE_MS old, then refuses", async () => {
    const { time, store, reads, snapshot } = setup();
    const e = entry();
    await store.put(e, T);
    expect(await outcome(snapshot, e.accessKeyId!)).toBe("revoked");
    reads.mockRejectedValue(new Error("fault: KV list failed"));
    vi.spyOn(console, "log").mockImplementation(() => {});
    time.advance(REVOCATION_MAX_STALE_MS - 1);
    expect(await outcome(snapshot, e.accessKeyId!)).toBe("revoked");
    expect(await outcome(snapshot, "ASIAUNITSNAPAAAAAAAA")).toBe("admitted");
    time.advance(1);
    expect(await outcome(snapshot, "ASIAUNITSNAPAAAAAAAA")).toBe("revocations_unavailable");
  });
});
