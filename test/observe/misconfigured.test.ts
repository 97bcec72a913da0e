import { afterEach, describe, expect, it, vi } from "vitest";
import { logMisconfiguration, Misconfiguration } from "../../src/observe/misconfigured";
import { captureLog } from "../support/gate";

afterEach(() => vi.restoreAllMocks());

describe("Misconfiguration", () => {
  it("names each setting at fault once, by its top-level name", () => {
    const m = new Misconfiguration(["POLICY.allow[0]: bad", "POLICY.deny[1]: bad", "APPS[2].audience: bad", "ORIGIN_URL: bad", ": odd"]);
    expect(m.settings).toEqual(["POLICY", "APPS", "ORIGIN_URL"]);
  });

  it("says which apps of APPS are valid, and nothing without APPS", () => {
    const m = new Misconfiguration(["APPS[1].policy: bad"], ["api", "admin", "docs"]);
    expect(m.apps).toEqual([
      { name: "api", valid: true },
      { name: "admin", valid: false },
      { name: "docs", valid: true },
    ]);
    expect(new Misconfiguration(["POLICY: bad"]).apps).toBeUndefined();
  });
});

describe("logMisconfiguration", () => {
  it("logs every issue as its own error line, joined by the request id", () => {
    const { raw } = captureLog();
    logMisconfiguration(new Misconfiguration(["POLICY.allow[0]: not an ARN", "AUDIENCE: required"]), "req-9");
    const lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ event: "config", level: "error", code: "misconfigured", requestId: "req-9", setting: "POLICY", message: "POLICY.allow[0]: not an ARN" }),
      expect.objectContaining({ event: "config", level: "error", code: "misconfigured", requestId: "req-9", setting: "AUDIENCE", message: "AUDIENCE: required" }),
    ]);
  });
});
