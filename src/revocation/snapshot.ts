import { withDeadline } from "../deadline.ts";
import { log } from "../log.ts";
import { GateError } from "../errors.ts";
import { activeOf, type RevocationEntry } from "./entry.ts";
import type { ActiveRevocation } from "./entry.ts";
import { findRevocation, revokedDetail, type RevocationFacts } from "./match.ts";
import type { RevocationStore } from "./store.ts";

/**
 * Rule `revocationRefresh`: an isolate re-reads the revocation set from KV on its first request
 * after its copy is REVOCATION_REFRESH_MS old, before deciding that request. So the gate itself
 * adds at most 30 s to what KV takes to show a new key in this location (README, "How fast a
 * revocation applies"). A new isolate has no copy: its first request waits for the read.
 */
export const REVOCATION_REFRESH_MS = 30_000;
/**
 * If KV cannot be listed, the last copy is used until it is this old, then every request is
 * refused with 503 `revocations_unavailable`: the gate never lets a revoked key in because KV
 * is down, and a KV outage shorter than this costs nothing.
 */
export const REVOCATION_MAX_STALE_MS = 60_000;
/** A refresh that has not finished in this time counts as a failure. */
export const REVOCATION_LIST_TIMEOUT_MS = 2000;
/**
 * What this isolate wrote itself is kept beside the KV copy this long, so that it applies at
 * once and a refresh whose KV list does not show it yet cannot undo it.
 */
export const LOCAL_WRITE_MEMORY_MS = 5 * 60_000;

interface LocalWrite {
  /** The entry this isolate wrote, or null for one it deleted. */
  entry: RevocationEntry | null;
  until: number;
}

/** One isolate's view of the revocation set: a copy of KV, refreshed on a bound, plus its own writes. */
export class RevocationSnapshot {
  private copy: ActiveRevocation[] | undefined;
  private copiedAt = Number.NEGATIVE_INFINITY;
  /** After a failed read, the next is not tried before this (requests use the copy meanwhile). */
  private retryAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;
  private readonly local = new Map<string, LocalWrite>();

  constructor(
    readonly store: RevocationStore,
    readonly clock: () => number = Date.now,
  ) {}

  /** Throws GateError `revoked` when an active entry selects the request. */
  async check(facts: RevocationFacts): Promise<void> {
    const entries = await this.current();
    const hit = findRevocation(entries, facts, this.clock());
    if (hit !== undefined) throw new GateError("revoked", revokedDetail(hit));
  }

  /** Rule `revocationLocalApply`: the isolate that accepted a revocation applies it at once. */
  added(entry: RevocationEntry): void {
    this.local.set(entry.id, { entry, until: this.clock() + LOCAL_WRITE_MEMORY_MS });
  }

  removed(id: string): void {
    this.local.set(id, { entry: null, until: this.clock() + LOCAL_WRITE_MEMORY_MS });
  }

  /** The ids this isolate deleted recently, and the entries it wrote: for the admin listing. */
  localWrites(): ReadonlyMap<string, RevocationEntry | null> {
    const now = this.clock();
    const out = new Map<string, RevocationEntry | null>();
    for (const [id, w] of this.local) {
      if (now < w.until) out.set(id, w.entry);
      else this.local.delete(id);
    }
    return out;
  }

  private async current(): Promise<ActiveRevocation[]> {
    const now = this.clock();
    const usable = this.copy !== undefined && now - this.copiedAt < REVOCATION_MAX_STALE_MS;
    if (now - this.copiedAt >= REVOCATION_REFRESH_MS && !(usable && now < this.retryAt)) {
      this.refreshing ??= this.refresh().finally(() => {
        this.refreshing = undefined;
      });
      await this.refreshing;
    }
    const byId = new Map((this.copy ?? []).map((e) => [e.id, e]));
    for (const [id, entry] of this.localWrites()) {
      if (entry === null) byId.delete(id);
      else byId.set(id, activeOf(entry));
    }
    return [...byId.values()];
  }

  private async refresh(): Promise<void> {
    const started = this.clock();
    try {
      this.copy = await withDeadline(this.store.markers(), { ms: REVOCATION_LIST_TIMEOUT_MS, onTimeout: { reject: () => new Error("timeout") } });
      // The copy is as old as the moment the read began.
      this.copiedAt = started;
    } catch {
      const age = started - this.copiedAt;
      this.retryAt = started + 1000;
      log({ event: "kv", level: age < REVOCATION_MAX_STALE_MS ? "warn" : "error", message: "could not read the revocation set from KV" });
      if (this.copy === undefined || age >= REVOCATION_MAX_STALE_MS) {
        throw new GateError("revocations_unavailable", "The gate cannot read its revocation set; retry shortly.");
      }
    }
  }
}
