import { afterEach, describe, expect, it, vi } from "vitest";
import { GateError } from "../../src/errors";
import { identityFromSts } from "../../src/identity";
import { Decision, isQuietable, requestIdFrom } from "../../src/observe/decision";
import { captureLog, type LogLine } from "../support/gate";

afterEach(() => vi.restoreAllMocks());

const resolved = (arn: string, account: string, userId: string) => ({
  identity: identityFromSts({ arn, account, userId }, "aws"),
  accessKeyId: "ASIAEMULATORDEPLOY01",
  signedAt: 0,
  cache: "miss" as const,
  stsMs: 3,
});
const deployer = resolved("arn:aws:sts::111122223333:assumed-role/deployer/ci", "111122223333", "AROAEMULATORDEPLOYER1:ci");

/** Runs `build` on a fresh decision and returns the lines it wrote. */
function written(build: (d: Decision) => void): LogLine[] {
  const { raw } = captureLog();
  build(new Decision("req-1", "GET", "/x"));
  return raw.map((l) => JSON.parse(l) as LogLine);
}

describe("requestIdFrom", () => {
  it("takes a well-formed cf-ray, and makes a UUID for none or a malformed one", () => {
    expect(requestIdFrom(new Headers({ "cf-ray": "8a1b2c3d4e5f-AMS" }))).toBe("8a1b2c3d4e5f-AMS");
    for (const headers of [new Headers(), new Headers({ "cf-ray": "bad ray" }), new Headers({ "cf-ray": "a/b" }), new Headers({ "cf-ray": "x".repeat(65) })]) {
      expect(requestIdFrom(headers)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});

describe("Decision", () => {
  it("writes one allow line with the identity, rule and pattern, however often it is finished", () => {
    const lines = written((d) => {
      d.identified(deployer);
      d.allow("readers", "arn:aws:iam::111122223333:role/*");
      d.finish({ status: 200 });
      d.finish({ status: 500, error: new Error("late") });
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      event: "decision",
      level: "info",
      requestId: "req-1",
      outcome: "allow",
      status: 200,
      principal: "arn:aws:iam::111122223333:role/deployer",
      role: "deployer",
      session: "ci",
      accessKeyId: "ASIAEMULATORDEPLOY01",
      cache: "miss",
      rule: "readers",
      method: "GET",
      path: "/x",
    });
    expect(lines[0]).not.toHaveProperty("code");
  });

  it("a refusal is deny with its code and detail; one of 5xx is error", () => {
    expect(written((d) => d.refused(new GateError("policy_denied", "no")))[0]).toMatchObject({ outcome: "deny", code: "policy_denied", status: 403, detail: "no", level: "info" });
    expect(written((d) => d.refused(new GateError("sts_unavailable")))[0]).toMatchObject({ outcome: "error", code: "sts_unavailable", status: 503, level: "error" });
  });

  it("an error that is no refusal, at 5xx, is internal_error", () => {
    expect(written((d) => d.finish({ status: 500, error: new TypeError("bug") }))[0]).toMatchObject({ outcome: "error", code: "internal_error", level: "error" });
  });

  it("warns for a root or federated-user caller", () => {
    const root = resolved("arn:aws:iam::111122223333:root", "111122223333", "111122223333");
    expect(written((d) => (d.identified(root), d.allow("r", undefined), d.finish({ status: 200 })))[0]).toMatchObject({ level: "warn", type: "root" });
  });

  it("names a public path public, an own route allow (error at 5xx), and keeps the denial reason", () => {
    expect(written((d) => (d.public(), d.finish({ status: 200 })))[0]?.outcome).toBe("public");
    expect(written((d) => (d.served("health"), d.finish({ status: 200 })))[0]).toMatchObject({ outcome: "allow", route: "health" });
    expect(written((d) => (d.served("health"), d.finish({ status: 503 })))[0]?.outcome).toBe("error");
    expect(written((d) => (d.reason("deny[0] matched"), d.refused(new GateError("policy_denied"))))[0]?.reason).toBe("deny[0] matched");
  });

  it("keeps the origin's status and time, and the time only when the origin fails", async () => {
    const { raw } = captureLog();
    const d = new Decision("req-2", "GET", "/x");
    await d.forward(async () => new Response("", { status: 418 }));
    d.finish({ status: 418 });
    expect(JSON.parse(raw[0]!)).toMatchObject({ originStatus: 418, originMs: expect.any(Number) });
    const e = new Decision("req-3", "GET", "/x");
    await expect(e.forward(() => Promise.reject(new Error("reset")))).rejects.toThrow("reset");
    e.finish({ status: 502 });
    const line = JSON.parse(raw[1]!) as LogLine;
    expect(line.originMs).toEqual(expect.any(Number));
    expect(line).not.toHaveProperty("originStatus");
  });

  it("names the request decided on for forward-auth", () => {
    expect(written((d) => (d.decidedOn("POST", "/api/y"), d.finish({ status: 401 })))[0]).toMatchObject({ method: "POST", path: "/api/y" });
  });
});

describe("LOG_ALLOWED false (rule allowLinesSwitch)", () => {
  const quiet = (build: (d: Decision) => void) =>
    written((d) => {
      d.logAllowed = false;
      build(d);
    });
  const root = resolved("arn:aws:iam::111122223333:root", "111122223333", "111122223333");

  it("drops the info lines of an allow, a public path and an own route", () => {
    expect(quiet((d) => (d.identified(deployer), d.allow("r", "p"), d.finish({ status: 200 })))).toEqual([]);
    expect(quiet((d) => (d.public(), d.finish({ status: 200 })))).toEqual([]);
    expect(quiet((d) => (d.served("health"), d.finish({ status: 200 })))).toEqual([]);
  });

  it("keeps denials, errors and warn lines", () => {
    expect(quiet((d) => d.refused(new GateError("policy_denied", "no")))).toMatchObject([{ outcome: "deny" }]);
    expect(quiet((d) => d.refused(new GateError("sts_unavailable")))).toMatchObject([{ outcome: "error" }]);
    expect(quiet((d) => (d.served("health"), d.finish({ status: 503 })))).toMatchObject([{ outcome: "error" }]);
    expect(quiet((d) => (d.identified(root), d.allow("r", undefined), d.finish({ status: 200 })))).toMatchObject([{ outcome: "allow", level: "warn" }]);
  });

  it("isQuietable: only an info allow or public line the client got below 500, not whoami, not an admin's", () => {
    const ok = { status: 200, route: undefined, rule: "allow" } as const;
    expect(isQuietable({ ...ok, outcome: "allow", level: "info" })).toBe(true);
    expect(isQuietable({ ...ok, outcome: "public", level: "info", rule: undefined })).toBe(true);
    expect(isQuietable({ ...ok, outcome: "allow", level: "info", route: "health", rule: undefined })).toBe(true);
    expect(isQuietable({ ...ok, outcome: "allow", level: "warn" })).toBe(false);
    expect(isQuietable({ ...ok, outcome: "deny", level: "info", status: 403 })).toBe(false);
    expect(isQuietable({ ...ok, outcome: "deny", level: "warn", status: 401 })).toBe(false);
    expect(isQuietable({ ...ok, outcome: "error", level: "error", status: 503 })).toBe(false);
    // An origin's 5xx: allowed by the gate, an error to the operator.
    expect(isQuietable({ ...ok, outcome: "allow", level: "info", status: 502 })).toBe(false);
    expect(isQuietable({ ...ok, outcome: "allow", level: "info", route: "whoami", rule: undefined })).toBe(false);
    expect(isQuietable({ ...ok, outcome: "allow", level: "info", rule: "admins" })).toBe(false);
  });
});
