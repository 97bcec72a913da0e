import { describe, expect, it } from "vitest";

describe("entry points", () => {
  it("the library entry builds nothing when imported: it has no default export", async () => {
    const lib = await import("../src/index");
    expect("default" in lib).toBe(false);
    expect(typeof lib.createGateApp).toBe("function");
    expect(typeof lib.stsAuth).toBe("function");
  });

  it("the Worker entry (wrangler.toml's main) is the gate", async () => {
    const worker = await import("../src/worker");
    expect(typeof worker.default.fetch).toBe("function");
  });

  it("sts-gate/hono exports the verifier beside the middleware", async () => {
    const hono = await import("../src/hono");
    expect(typeof hono.createVerifier).toBe("function");
    expect(typeof hono.stsAuth).toBe("function");
  });
});
