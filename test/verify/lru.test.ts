import { describe, expect, it } from "vitest";
import { ExpiringLru } from "../../src/verify/lru";

describe("ExpiringLru (the isolate's memory)", () => {
  it("returns an entry until its expiry, and never after", () => {
    const lru = new ExpiringLru<string>(10);
    lru.set("a", "A", 1000);
    expect(lru.get("a", 999)).toBe("A");
    expect(lru.get("a", 1000)).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it("is bounded: the least recently used entry goes first", () => {
    const lru = new ExpiringLru<number>(2);
    lru.set("a", 1, 10);
    lru.set("b", 2, 10);
    expect(lru.get("a", 0)).toBe(1); // a is now the most recent
    lru.set("c", 3, 10);
    expect(lru.get("b", 0)).toBeUndefined();
    expect(lru.get("a", 0)).toBe(1);
    expect(lru.get("c", 0)).toBe(3);
    expect(lru.size).toBe(2);
  });

  it("replaces an entry without growing", () => {
    const lru = new ExpiringLru<number>(2);
    lru.set("a", 1, 10);
    lru.set("a", 2, 20);
    expect(lru.size).toBe(1);
    expect(lru.get("a", 15)).toBe(2);
  });
});
