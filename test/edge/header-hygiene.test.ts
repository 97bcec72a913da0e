import { describe, expect, it } from "vitest";
import { foldHeaderName, hygienicHeaders, isCallerAlias, isPortableHeaderName, isStrippedHeader, STRIPPED_HEADERS } from "../../src/edge/header-hygiene";

const client = { ip: "203.0.113.5", url: new URL("https://gate.example.com/x") };

describe("headerHygiene (ATTACKS #15–#19)", () => {
  it("folds names as CGI does: case-insensitive, '_' read as '-'", () => {
    expect(foldHeaderName("X_Caller_Arn")).toBe("x-caller-arn");
    expect(foldHeaderName("x-caller_Principal")).toBe("x-caller-principal");
  });

  it.each(STRIPPED_HEADERS.map((h) => h.name))("strips %s in every spelling", (name) => {
    expect(isStrippedHeader(name)).toBe(true);
    expect(isStrippedHeader(name.toUpperCase())).toBe(true);
    expect(isStrippedHeader(name.replaceAll("-", "_"))).toBe(true);
  });

  it("strips every x-caller-* spelling, including names the gate does not set", () => {
    for (const name of ["x-caller-arn", "X_CALLER_ARN", "x-caller-anything", "x_caller_", "X-Caller_Assertion"]) {
      expect(isStrippedHeader(name), name).toBe(true);
    }
  });

  it("passes other headers", () => {
    for (const name of ["content-type", "x-trace_id", "accept", "x-callers", "x-forwarded", "cookie"]) {
      expect(isStrippedHeader(name), name).toBe(false);
    }
  });

  it("covers the method-override, URL-override and forwarding headers", () => {
    const names = new Set(STRIPPED_HEADERS.map((h) => h.name));
    for (const name of [
      "authorization",
      "proxy-authorization",
      "x-http-method-override",
      "x-http-method",
      "x-method-override",
      "x-original-url",
      "x-rewrite-url",
      "x-original-uri",
      "forwarded",
      "x-forwarded-for",
      "x-forwarded-host",
      "x-forwarded-proto",
      "x-forwarded-prefix",
      "x-forwarded-port",
      "x-real-ip",
      "true-client-ip",
    ]) {
      expect(names.has(name), name).toBe(true);
    }
  });

  it("writes X-Forwarded-For, -Proto and -Host from what the gate saw", () => {
    const out = hygienicHeaders(new Headers({ "x-forwarded-for": "10.0.0.1", x_forwarded_host: "evil.example", accept: "text/plain" }), client);
    expect(Object.fromEntries(out)).toEqual({
      accept: "text/plain",
      "x-forwarded-for": "203.0.113.5",
      "x-forwarded-host": "gate.example.com",
      "x-forwarded-proto": "https",
    });
  });

  it("writes no X-Forwarded-For when the runtime names no client IP", () => {
    const out = hygienicHeaders(new Headers({ "x-forwarded-for": "10.0.0.1" }), { ...client, ip: undefined });
    expect(out.has("x-forwarded-for")).toBe(false);
  });

  it.each(["!", "#", "$", "%", "&", "'", "*", "+", ".", "^", "`", "|", "~"])("headerNameCharset: a name with %s never reaches the origin", (c) => {
    expect(isPortableHeaderName(`X-Caller${c}Arn`)).toBe(false);
    const inbound = new Headers({ [`X-Caller${c}Arn`]: "forged", [`X-Trace${c}Id`]: "t", "x-kept_1": "k" });
    const out = hygienicHeaders(inbound, client);
    expect([...out.keys()].filter((n) => n.startsWith("x-") && !n.startsWith("x-forwarded-"))).toEqual(["x-kept_1"]);
  });

  it("headerNameCharset: letters, digits, '-' and '_' are portable", () => {
    for (const name of ["content-type", "X_Trace_2", "a1", "X-Custom-Header"]) expect(isPortableHeaderName(name), name).toBe(true);
  });
});

describe("isCallerAlias (rule forwardAuthNoCallerAliases)", () => {
  it("is true for a name PHP reads as an X-Caller-* header but spelled otherwise", () => {
    for (const name of ["X-Caller_User", "X_Caller-Arn", "x_caller_role", "X-Caller.User", "X.CALLER.ARN", "x-caller user"]) expect(isCallerAlias(name), name).toBe(true);
  });
  it("is false for the gate's own spelling in any case, and for other names", () => {
    for (const name of ["X-Caller-User", "x-caller-arn", "X-CALLER-ASSERTION", "X-Callerid", "x_request_id", "Caller_Id"]) expect(isCallerAlias(name), name).toBe(false);
  });
});
