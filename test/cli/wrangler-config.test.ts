import { describe, expect, it } from "vitest";
import { policySource, policySources, readDeployTarget } from "../../src/cli/wrangler-config";
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

describe("policySources with APPS (issue 20)", () => {
  const APPS = `
[vars]
ADMINS = ["arn:aws:iam::111122223333:role/gate-admin"]
[[vars.APPS]]
name = "payments"
[vars.APPS.policy]
allow = ["arn:aws:iam::111122223333:role/deployer"]
[[vars.APPS]]
name = "docs"
[vars.APPS.policy]
allow = ["arn:aws:iam::111122223333:user/alice"]
[[vars.APPS]]
name = "wiki"
`;
  const readApps = (file: string) => (file === "apps.toml" ? APPS : read(file));
  const admins = JSON.stringify(["arn:aws:iam::111122223333:role/gate-admin"]);

  it("check: each app's policy, named by the app, with the gate's ADMINS; an app without one is marked", () => {
    expect(policySources("apps.toml", { command: "check" }, readApps)).toEqual({
      sources: [
        { file: "apps.toml [vars] APPS[0] (payments)", app: "APPS[0] (payments)", admins, text: JSON.stringify({ allow: ["arn:aws:iam::111122223333:role/deployer"] }) },
        { file: "apps.toml [vars] APPS[1] (docs)", app: "APPS[1] (docs)", admins, text: JSON.stringify({ allow: ["arn:aws:iam::111122223333:user/alice"] }) },
        { file: "apps.toml [vars] APPS[2] (wiki)", app: "APPS[2] (wiki)", admins, text: "", missing: true },
      ],
    });
  });

  it("--app picks one app; explain needs it, and an unknown name or a gate without APPS is refused", () => {
    const docs = policySources("apps.toml", { command: "explain", app: "docs" }, readApps);
    expect("sources" in docs && docs.sources.map((s) => s.app)).toEqual(["APPS[1] (docs)"]);
    expect(policySources("apps.toml", { command: "explain" }, readApps)).toEqual({
      error: "apps.toml: [vars] has APPS, each with its own policy: explain needs --app NAME (its apps: payments, docs, wiki)",
      exitCode: 2,
    });
    expect(policySources("apps.toml", { command: "explain", app: "wiki" }, readApps)).toEqual({ error: "apps.toml: [vars] APPS[2] (wiki) has no policy", exitCode: 1 });
    expect(policySources("apps.toml", { command: "check", app: "blog" }, readApps)).toEqual({ error: "apps.toml: [vars] has no app named blog (its apps: payments, docs, wiki)", exitCode: 2 });
    expect(policySources("wrangler.toml", { command: "check", app: "docs" }, readApps)).toEqual({ error: "wrangler.toml: [vars] has no APPS; --app picks one app of a gate with APPS", exitCode: 2 });
    expect(policySources("p.json", { command: "check", app: "docs" }, readApps)).toEqual({ error: "--app applies to a wrangler.toml file with APPS only", exitCode: 2 });
  });

  it("an app's policy, like POLICY, may be JSON text: the check reads the document, as the gate does", () => {
    const text = `[[vars.APPS]]\nname = "a"\npolicy = '{"allow":["arn:aws:iam::111122223333:user/alice"]}'\n`;
    const found = policySources("s.toml", { command: "check" }, () => text);
    expect("sources" in found && found.sources[0]!.text).toBe('{"allow":["arn:aws:iam::111122223333:user/alice"]}');
  });
});
