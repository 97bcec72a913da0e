import { describe, expect, it } from "vitest";
import { isAmbiguousTarget, rawRequestTarget } from "../../src/origin/raw-target";

describe("rawTargetBinding: the target as the origin's router sees it", () => {
  it.each([
    ["/base/x?y=1", "/base/x?y=1"],
    ["/base/admin/../public/x", "/base/admin/../public/x"],
    ["//x/y", "//x/y"],
    ["https://o.example/base/x?y=1", "/base/x?y=1"],
    ["https://o.example", "/"],
    ["https://o.example?y=1", "/?y=1"],
    ["http://o.example:8080/a#frag", "/a"],
  ])("%s is %s, byte for byte", (url, target) => {
    expect(rawRequestTarget(url)).toBe(target);
  });

  it.each([["x/y"], [""], ["o.example/x"]])("%j is no target", (url) => {
    expect(rawRequestTarget(url)).toBeUndefined();
  });

  it.each([
    ["/base/admin/../public/x"],
    ["/base/./x"],
    ["/base/%2e%2e/x"],
    ["/base/%2E./x"],
    ["/base/.%2e/x"],
    ["/base/%2e/x"],
    ["/base/x/.."],
    ["/base\\admin"],
  ])("%s is ambiguous: refused", (target) => {
    expect(isAmbiguousTarget(target)).toBe(true);
  });

  it.each([["/base/x"], ["/base/.x"], ["/base/x..y"], ["/base/...", ], ["/base/x?to=../y"], ["/base/x?q=a\\b"], ["/base/%2e%2e%2fx"]])("%s is not", (target) => {
    expect(isAmbiguousTarget(target)).toBe(false);
  });
});
