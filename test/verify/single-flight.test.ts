import { describe, expect, it } from "vitest";
import { SingleFlight } from "../../src/verify/single-flight";

describe("SingleFlight (rule sharedInflightCalls)", () => {
  it("runs the work once for concurrent callers of one key, and tells the waiters", async () => {
    const flights = new SingleFlight<string>();
    let runs = 0;
    let release!: (v: string) => void;
    const work = () => (runs++, new Promise<string>((r) => (release = r)));
    const first = flights.run("k", work);
    const second = flights.run("k", work);
    release("done");
    expect(await first).toEqual({ value: "done", shared: false });
    expect(await second).toEqual({ value: "done", shared: true });
    expect(runs).toBe(1);
  });

  it("keeps keys apart, and forgets a key once its work settles", async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    await Promise.all([flights.run("a", async () => ++runs), flights.run("b", async () => ++runs)]);
    expect(runs).toBe(2);
    await flights.run("a", async () => ++runs);
    expect(runs).toBe(3);
  });

  it("shares a failure with every waiter, then lets the next caller try again", async () => {
    const flights = new SingleFlight<number>();
    const failing = () => Promise.reject(new Error("sts down"));
    const results = await Promise.allSettled([flights.run("k", failing), flights.run("k", failing)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    await expect(flights.run("k", async () => 7)).resolves.toEqual({ value: 7, shared: false });
  });
});
