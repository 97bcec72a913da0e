import { describe, expect, it } from "vitest";
import { withDeadline } from "../src/deadline";

const never = <T>() => new Promise<T>(() => {});
const later = <T>(value: T, ms: number) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe("withDeadline", () => {
  it("answers with the work's value when it is in time", async () => {
    await expect(withDeadline(later("done", 1), { ms: 1000, onTimeout: { fallback: "late" } })).resolves.toBe("done");
  });

  it("rejects with onTimeout's error when the work is late", async () => {
    class Late extends Error {}
    await expect(withDeadline(never<string>(), { ms: 10, onTimeout: { reject: () => new Late() } })).rejects.toBeInstanceOf(Late);
  });

  it("resolves to the fallback when the work is late", async () => {
    await expect(withDeadline(never<string | null>(), { ms: 10, onTimeout: { fallback: null } })).resolves.toBeNull();
  });

  it("aborts the controller on the deadline, and only then", async () => {
    const late = new AbortController();
    await withDeadline(never<string>(), { ms: 10, onTimeout: { fallback: "x" }, controller: late });
    expect(late.signal.aborted).toBe(true);
    const inTime = new AbortController();
    await withDeadline(later("ok", 1), { ms: 1000, onTimeout: { fallback: "x" }, controller: inTime });
    expect(inTime.signal.aborted).toBe(false);
  });

  it("passes the work's own rejection through", async () => {
    await expect(withDeadline(Promise.reject(new TypeError("reset")), { ms: 1000, onTimeout: { fallback: "x" } })).rejects.toThrow("reset");
  });
});
