import { describe, expect, it } from "vitest";
import { checkOriginPath, escapesPrefix } from "../../src/edge/path-boundary";
import { GateError } from "../../src/errors";

/** As the Worker sees a path: after the URL parser (dot segments resolved, escapes kept). */
const parsed = (path: string) => new URL(`https://gate.invalid${path}`).pathname;

describe("originPathBoundary (ATTACKS #20)", () => {
  it.each([
    "/..;/internal",
    "/a/..;/b",
    "/%2e%2e;/x",
    "/%2E.;jsessionid=1/x",
    "/.;x=1/y",
    "/..%2fx",
    "/..%2Fx",
    "/a%5cb",
    "/a%5Cb",
    "/%252e%252e/x",
    "/%252E./x",
    "/a%252fb",
    "/a%255cb",
    "/%u002e%u002e/x",
    "/..%00/x",
    "/..%3b/x",
    "/%2E%2E%3B/x",
    "/%25252e%25252e/x",
    "/%c0%ae%c0%ae/x",
    "/%ef%bc%8e%ef%bc%8e/x",
    "/%uff0e%uff0e/x",
  ])("refuses %s", (path) => {
    expect(escapesPrefix(parsed(path))).toBe(true);
    expect(() => checkOriginPath("/base", parsed(path))).toThrowError(GateError);
  });

  it.each(["/", "/a/b", "/a;b=1/c", "/a/b;v=2", "/...", "/..a/.b", "/%2e%2ea/x", "/a%20b", "/a%3bb", "/a%25", "/caf%C3%A9", "/%u0041"])("passes %s", (path) => {
    expect(escapesPrefix(parsed(path))).toBe(false);
    expect(() => checkOriginPath("/base", parsed(path))).not.toThrow();
  });

  it("throws path_outside_prefix, 400", () => {
    try {
      checkOriginPath("/base/", parsed("/..;/x"));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GateError);
      expect((error as GateError).code).toBe("path_outside_prefix");
      expect((error as GateError).status).toBe(400);
    }
  });

  it("does not apply without a prefix: there is nothing above to reach", () => {
    expect(() => checkOriginPath("/", parsed("/group%2Fproject"))).not.toThrow();
    expect(() => checkOriginPath("", parsed("/..;/x"))).not.toThrow();
  });
});

// Not a test of the gate: an assumption the rule rests on, checked against the runtime. The rule
// does not look for plain `..` or `%2e%2e` segments because workerd's URL parser has resolved
// them already; if a runtime ever stopped doing so, this fails and the rule must take them on.
describe("assumption: the URL parser resolves dot segments", () => {
  it("resolves plain and %2e dot segments before the rule sees them", () => {
    expect(parsed("/a/../b")).toBe("/b");
    expect(parsed("/a/%2e%2e/b")).toBe("/b");
  });
});
