import { describe, expect, it } from "vitest";
import { checkNoMethodOverride, isMethodOverrideName, phpParameterName } from "../../src/edge/method-override";
import { expectProblem } from "../support/helpers";

describe("phpParameterName: the key PHP files a decoded parameter under", () => {
  it.each([
    ["_method", "_method"],
    [".method", "_method"],
    [" _method", "_method"],
    ["   .method", "_method"],
    ["_method\0junk", "_method"],
    ["_method[]", "_method"],
    ["_method[x]", "_method"],
    ["_method[", "_method"],
    ["a.b c", "a_b_c"],
    ["a b", "a_b"],
    ["x_method", "x_method"],
  ])("%j is %j", (decoded, key) => {
    expect(phpParameterName(decoded)).toBe(key);
  });
});

describe("noMethodOverrideParameter", () => {
  it.each([["_method"], ["_METHOD"], [".Method"], [" _method"], ["_method\0"], ["_method[]"]])("%j names the override", (name) => {
    expect(isMethodOverrideName(name)).toBe(true);
  });

  it.each([["method"], ["_methods"], ["x_method"], ["_method_"], ["__method"], ["_meth od"]])("%j does not", (name) => {
    expect(isMethodOverrideName(name)).toBe(false);
  });

  it.each([["?_method=DELETE"], ["?.method=DELETE"], ["?%20_method=PUT"], ["?+_method=PUT"], ["?_method%00=DELETE"], ["?_method%5B%5D=DELETE"], ["?_me%74hod=DELETE"], ["?%5F%6D%65%74%68%6F%64=DELETE"]])(
    "refuses %s as method_override",
    (search) => {
      expectProblem(() => checkNoMethodOverride(search), "method_override");
    },
  );

  it.each([[""], ["?a=1"], ["?method=fast"], ["?x.y=1&a[b]=2"], ["?%41=1"]])("lets %j through", (search) => {
    expect(() => checkNoMethodOverride(search)).not.toThrow();
  });
});
