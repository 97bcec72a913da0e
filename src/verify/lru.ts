/**
 * An insertion-ordered Map as an LRU with expiry: bounded, so a flood of tokens cannot grow the
 * isolate, and an entry is never returned after its own expiry.
 */
export class ExpiringLru<T> {
  private readonly map = new Map<string, { value: T; expiresAt: number }>();
  constructor(private readonly max: number) {}

  get(key: string, now: number): T | undefined {
    const hit = this.map.get(key);
    if (hit === undefined) return undefined;
    this.map.delete(key);
    if (now >= hit.expiresAt) return undefined;
    this.map.set(key, hit);
    return hit.value;
  }

  set(key: string, value: T, expiresAt: number): void {
    this.map.delete(key);
    this.map.set(key, { value, expiresAt });
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }

  get size(): number {
    return this.map.size;
  }
}
