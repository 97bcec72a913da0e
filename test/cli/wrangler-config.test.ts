import { describe, expect, it } from "vitest";
import { policySource, readDeployTarget } from "../../src/cli/wrangler-config";
import { readTomlFixture as read, WRANGLER_TOML as TOML } from "../support/wrangler-toml";

describe("readDeployTarget", () => {
  it("reads the top level without --env, and an environment's own tables with it", () => {
    expect(readDeployTarget(TOML, undefined).vars.AUDIENCE).toBe("top");
    expect(readDeployTarget(TOML, "").varsTable).toBe("[vars]");
    const staging = readDeployTarget(TOML, "staging");
    expect(staging.varsTable).toBe("[env.staging.vars]");
    expect(staging.vars.AUDIENCE).toBeUndefined();
  });
});

describe("policySource", () => {
  it("hands on a wrangler.toml's POLICY as JSON, under a label that says where it is", () => {
    expect(policySource("wrangler.toml", undefined, read)).toEqual({
      file: "wrangler.toml [vars.POLICY]",
      text: JSON.stringify({ allow: ["arn:aws:iam::111122223333:role/deployer"] }),
    });
    expect(policySource("wrangler.toml", "staging", read)).toEqual({
      file: "wrangler.toml [env.staging.vars.POLICY]",
      text: '{"allow":["arn:aws:iam::111122223333:user/alice"]}',
    });
  });

  it("leaves other files to be read as they are, and refuses --env for them", () => {
    expect(policySource("p.json", undefined, read)).toEqual({ file: "p.json" });
    expect(policySource("p.json", "staging", read)).toEqual({ error: "--env applies to a wrangler.toml file only", exitCode: 2 });
  });

  it("says which table has no POLICY, and which file cannot be read", () => {
    expect(policySource("wrangler.toml", "empty", read)).toEqual({ error: "wrangler.toml: [env.empty.vars] has no POLICY", exitCode: 1 });
    expect(policySource("other.toml", undefined, read)).toEqual({ error: "cannot read other.toml: ENOENT: other.toml", exitCode: 1 });
  });
});
