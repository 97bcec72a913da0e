import { describe, expect, it } from "vitest";
import { appsForHost, matchApp, normalPrefix, underPrefix, type AppConfig } from "../../src/gate/apps";

/** Only what routing reads of an app. */
function app(name: string, hosts: string[] | undefined, pathPrefix = "/"): AppConfig {
  return { name, hosts, pathPrefix } as AppConfig;
}

const APPS = [app("api", ["api.example.com"]), app("docs", ["api.example.com"], "/docs"), app("tools", ["*.tools.example.com"]), app("exact", ["x.tools.example.com"])];

describe("appByHost: the app for a host and path", () => {
  it.each([
    ["api.example.com", "/x", "api"],
    ["API.Example.COM", "/x", "api"],
    ["api.example.com.", "/x", "api"],
    ["api.example.com", "/docs", "docs"],
    ["api.example.com", "/docs/a", "docs"],
    ["api.example.com", "/docsx", "api"],
    ["a.tools.example.com", "/", "tools"],
    ["x.tools.example.com", "/", "exact"],
  ])("%s %s is %s", (host, path, name) => {
    expect(matchApp(APPS, host, path)?.name).toBe(name);
  });

  it.each([["elsewhere.example.com"], ["a.b.tools.example.com"], ["tools.example.com"], ["example.com"], ["com"]])("%s has no app", (host) => {
    expect(matchApp(APPS, host, "/")).toBeUndefined();
    expect(appsForHost(APPS, host)).toEqual([]);
  });

  it("an app without hosts (the single-app gate) serves every host", () => {
    expect(matchApp([app("default", undefined)], "anything.example", "/x")?.name).toBe("default");
  });
});

describe("prefixBoundary", () => {
  it.each([
    ["/docs", "/docs", true],
    ["/docs", "/docs/", true],
    ["/docs", "/docs/a", true],
    ["/docs", "/docsx", false],
    ["/docs", "/doc", false],
    ["/", "/anything", true],
  ])("%s serves %s: %s", (prefix, path, expected) => {
    expect(underPrefix(prefix, path)).toBe(expected);
  });

  it.each([[undefined, "/"], ["/", "/"], ["/docs/", "/docs"], ["/docs", "/docs"]])("normalPrefix(%j) is %s", (prefix, expected) => {
    expect(normalPrefix(prefix)).toBe(expected);
  });
});
