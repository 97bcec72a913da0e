import { KV_MIN_TTL_SECONDS, REVOCATION_PREFIX } from "../storage/keys.ts";
import { activeOf, RevocationEntrySchema, SELECTORS, type ActiveRevocation, type RevocationEntry } from "./entry.ts";

/** An entry expiring later than this gets no KV expiration (the gate still checks its expiresAt); delete it by hand. */
const MAX_KV_EXPIRATION_MS = 366 * 24 * 3600 * 1000;
/** Bounds one refresh: 20 pages of 1000 keys. */
const MAX_LIST_PAGES = 20;

/**
 * The part of an entry the request path needs, as the key's KV metadata, so that one `list`
 * call returns every active selector without a read per entry. At most 1024 bytes: a selector
 * is at most 700 characters of ASCII.
 */
interface Marker {
  s: (typeof SELECTORS)[number];
  v: string;
  e?: number;
}

/**
 * Rule `revocationPerEntryKey`: one KV key per entry under its own prefix (storage/keys.ts),
 * written once and deleted once. Two revocations made at the same moment are two keys, so
 * neither can overwrite the other (there is no shared list to read, modify and write back).
 */
export class RevocationStore {
  constructor(private readonly kv: KVNamespace) {}

  async put(entry: RevocationEntry, now: number): Promise<void> {
    const { kind, value, expiresAt } = activeOf(entry);
    const marker: Marker = { s: kind, v: value, ...(expiresAt === undefined ? {} : { e: expiresAt }) };
    const options: KVNamespacePutOptions = { metadata: marker };
    // A far expiry is left to the gate's own check (KV expirations are bounded).
    if (expiresAt !== undefined && expiresAt - now < MAX_KV_EXPIRATION_MS) {
      // KV deletes the key some time after the entry stops applying (its expiry is checked on
      // every request, not left to KV). KV refuses an expiration under 60 s ahead, so a near
      // expiry is stored a little longer: the operator's expiresAt is never refused for it.
      options.expiration = Math.max(Math.ceil(expiresAt / 1000), Math.ceil(now / 1000) + KV_MIN_TTL_SECONDS + 5);
    }
    await this.kv.put(REVOCATION_PREFIX + entry.id, JSON.stringify(entry), options);
  }

  async get(id: string): Promise<RevocationEntry | undefined> {
    const raw = await this.kv.get(REVOCATION_PREFIX + id, "text");
    return raw === null ? undefined : parseStored(raw);
  }

  async delete(id: string): Promise<void> {
    await this.kv.delete(REVOCATION_PREFIX + id);
  }

  /** Every stored selector, from the keys' metadata: one `list` call per 1000 entries. */
  async markers(): Promise<ActiveRevocation[]> {
    const out: ActiveRevocation[] = [];
    for (const key of await this.keys()) {
      const m = key.metadata as Partial<Marker> | undefined;
      const id = key.name.slice(REVOCATION_PREFIX.length);
      if (m === undefined || typeof m.v !== "string" || !(SELECTORS as readonly unknown[]).includes(m.s)) continue;
      out.push({ id, kind: m.s!, value: m.v, ...(typeof m.e === "number" ? { expiresAt: m.e } : {}) });
    }
    return out;
  }

  /** Every stored entry in full, for the admin API's listing. */
  async entries(): Promise<RevocationEntry[]> {
    const keys = await this.keys();
    const entries = await Promise.all(keys.map((k) => this.get(k.name.slice(REVOCATION_PREFIX.length))));
    return entries.filter((e): e is RevocationEntry => e !== undefined);
  }

  private async keys(): Promise<KVNamespaceListKey<unknown>[]> {
    const keys: KVNamespaceListKey<unknown>[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const result = await this.kv.list({ prefix: REVOCATION_PREFIX, ...(cursor === undefined ? {} : { cursor }) });
      keys.push(...result.keys);
      if (result.list_complete) return keys;
      cursor = result.cursor;
    }
    throw new Error("more revocation entries than one refresh reads");
  }
}

/** A stored entry goes through the schema again: KV is storage, not a source of trust. */
function parseStored(raw: string): RevocationEntry | undefined {
  try {
    const parsed = RevocationEntrySchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
