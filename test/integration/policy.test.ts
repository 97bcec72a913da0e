import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { COOKBOOK } from "../support/policy";
import { captureLog, through } from "../support/gate";
import { bearer, mintToken } from "../support/tokens";

/**
 * Every policy feature deciding through the Worker: real tokens, the STS emulator, the echo
 * origin, and the decision log line. The emulator's identities (test/emulator/identities.json)
 * are all in account 111122223333 except other-account-deployer (444455556666).
 */
const A = "111122223333";
const B = "444455556666";

interface Outcome {
  status: number;
  code: string | undefined;
  detail: string | undefined;
  /** The one decision line the gate logged for the request. */
  log: Record<string, unknown>;
}

async function send(policy: unknown, who: string, method = "GET", path = "/"): Promise<Outcome> {
  const { raw: lines, spy } = captureLog();
  try {
    const res = await through(createGateApp(), { ...env, POLICY: policy }, new Request(`https://localhost${path}`, { method, headers: bearer(await mintToken(who)) }));
    const body = res.status === 200 ? {} : ((await res.json()) as { code?: string; detail?: string });
    if (res.status === 200) await res.body?.cancel();
    const decisions = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "decision");
    expect(decisions, lines.join("\n")).toHaveLength(1);
    return { status: res.status, code: body.code, detail: body.detail, log: decisions[0]! };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("per-route rules (method and path)", () => {
  it.each([
    ["deployer", "POST", "/deploy/app", "ci-deploy"],
    ["deployer", "PUT", "/deploy", "ci-deploy"],
    ["deployer", "GET", "/deploy/app", "readers"],
    ["reader", "GET", "/anything/at/all", "readers"],
    ["reader", "HEAD", "/admin/users", "readers"],
    ["alice", "DELETE", "/admin/users/7", "admin"],
    ["alice", "POST", "/admin", "admin"],
  ])("allows %s to %s %s by rule %s, and logs the rule and pattern", async (who, method, path, rule) => {
    const out = await send(COOKBOOK, who, method, path);
    expect(out.status).toBe(200);
    expect(out.log).toMatchObject({ outcome: "allow", status: 200, method, path, rule });
    expect(typeof out.log.pattern).toBe("string");
  });

  it.each([
    ["deployer", "DELETE", "/deploy/app"],
    ["deployer", "POST", "/deployer"],
    ["deployer", "POST", "/admin/users"],
    ["reader", "POST", "/deploy/app"],
    ["alice", "GET", "/reports"],
  ])("denies %s to %s %s: no rule matches", async (who, method, path) => {
    const out = await send(COOKBOOK, who, method, path);
    expect(out.status).toBe(403);
    expect(out.code).toBe("policy_denied");
    expect(out.detail).toContain(`is not allowed to ${method} ${path}`);
    expect(out.log.reason).toContain(`no rule matches ${method} ${path} for arn:aws:iam::${A}:`);
    expect(out.log).toMatchObject({ outcome: "deny", status: 403, code: "policy_denied", detail: out.detail });
    expect(out.log.rule).toBeUndefined();
  });

  // An origin may decode %2F, or treat `..;` as `..`, and route these to /admin: no glob matches them.
  it.each([["/deploy/..%2Fadmin"], ["/deploy%2Fapp"], ["/deploy/..;/admin"], ["/deploy/%252e%252e/admin"], ["/deploy/..%5Cadmin"]])(
    "denies a path an origin could read differently: POST %s",
    async (path) => {
      const out = await send(COOKBOOK, "deployer", "POST", path);
      expect(out.status).toBe(403);
      expect(out.log.reason).toContain("no paths glob matches it");
    },
  );

  it("matches globs after the URL parser has resolved dot segments", async () => {
    expect((await send(COOKBOOK, "deployer", "POST", "/deploy/../admin")).status).toBe(403);
    expect((await send(COOKBOOK, "deployer", "POST", "/other/%2e%2e/deploy/app")).log).toMatchObject({ outcome: "allow", path: "/deploy/app" });
  });
});

describe("deny over allow", () => {
  const policy = { allow: [`arn:aws:iam::${A}:role/*`], deny: [`arn:aws:iam::${A}:role/reader`] };

  it("denies a principal a deny pattern matches, though an allow pattern matches too", async () => {
    const out = await send(policy, "reader");
    expect(out.status).toBe(403);
    expect(out.code).toBe("policy_denied");
    expect(out.detail).toBe(`arn:aws:iam::${A}:role/reader (assumed-role) is not allowed to GET /.`);
    expect(out.log.reason).toBe(`denied by deny pattern arn:aws:iam::${A}:role/reader`);
    expect(out.log).toMatchObject({ outcome: "deny", code: "policy_denied", principal: `arn:aws:iam::${A}:role/reader`, type: "assumed-role" });
  });

  it("allows the others, by the shorthand's rule allow", async () => {
    const out = await send(policy, "deployer");
    expect(out.status).toBe(200);
    expect(out.log).toMatchObject({ rule: "allow", pattern: `arn:aws:iam::${A}:role/*` });
  });

  it("wins over a route-specific rule too", async () => {
    const out = await send({ ...COOKBOOK, deny: [`arn:aws:iam::${A}:role/deployer`] }, "deployer", "POST", "/deploy/app");
    expect(out.status).toBe(403);
    expect(out.log.reason).toContain("denied by deny pattern");
  });
});

describe("principal types (ATTACKS #11)", () => {
  const everyone = (types?: string[]) => ({
    rules: [{ name: "everyone", allow: [`arn:aws:iam::${A}:*`, `arn:aws:sts::${A}:federated-user/*`] }],
    ...(types ? { principalTypes: types } : {}),
  });

  it.each([["federated-bob", "federated-user"], ["root", "root"]])("denies %s unless %s is listed", async (who, type) => {
    const denied = await send(everyone(), who);
    expect(denied.status).toBe(403);
    expect(denied.code).toBe("principal_type_denied");
    expect(denied.log).toMatchObject({ code: "principal_type_denied", type });

    const allowed = await send(everyone(["user", "assumed-role", type]), who);
    expect(allowed.status).toBe(200);
    expect(allowed.log).toMatchObject({ outcome: "allow", rule: "everyone", type });
  });

  it("lets the default types in without listing them", async () => {
    expect((await send(everyone(), "alice")).status).toBe(200);
    expect((await send(everyone(), "deployer")).status).toBe(200);
  });
});

describe("accounts (ATTACKS #12)", () => {
  const policy = { accounts: [A], allow: [`arn:aws:iam::${A}:role/deployer`, `arn:aws:iam::${B}:role/deployer`] };

  it("denies a same-named role in an account that is not listed, though a pattern names it", async () => {
    const out = await send(policy, "other-account-deployer");
    expect(out.status).toBe(403);
    expect(out.detail).toBe(`arn:aws:iam::${B}:role/deployer (assumed-role) is not allowed to GET /.`);
    expect(out.log.reason).toBe(`account ${B} is not in accounts`);
    expect(out.log).toMatchObject({ code: "policy_denied", account: B });
  });

  it("allows the listed account's role", async () => {
    expect((await send(policy, "deployer")).log).toMatchObject({ outcome: "allow", account: A });
  });
});

describe("unique-ID pinning (ATTACKS #12, delete-and-recreate)", () => {
  const pinned = (id: string) => ({ ...COOKBOOK, pin: { [`arn:aws:iam::${A}:role/deployer`]: id } });

  it("allows the role whose UserId carries the pinned ID (deployer is AROAEMULATORDEPLOYER1:ci-run-42)", async () => {
    const out = await send(pinned("AROAEMULATORDEPLOYER1"), "deployer", "POST", "/deploy/app");
    expect(out.status).toBe(200);
    expect(out.log).toMatchObject({ rule: "ci-deploy" });
  });

  it("denies the same role name with another unique ID: a recreated role", async () => {
    const out = await send(pinned("AROAEMULATORDEPLOYER2"), "deployer", "POST", "/deploy/app");
    expect(out.status).toBe(403);
    expect(out.code).toBe("policy_denied");
    expect(out.detail).toBe(`arn:aws:iam::${A}:role/deployer (assumed-role) is not allowed to POST /deploy/app.`);
    expect(out.log.reason).toBe(`UserId does not carry the pinned unique ID for arn:aws:iam::${A}:role/deployer`);
    // The pinned ID is configuration: it is not told to the caller.
    expect(out.detail).not.toContain("AROAEMULATORDEPLOYER2");
  });

  it("leaves unpinned principals alone", async () => {
    expect((await send(pinned("AROAEMULATORDEPLOYER2"), "reader", "GET", "/x")).status).toBe(200);
    expect((await send(pinned("AROAEMULATORDEPLOYER2"), "alice", "GET", "/admin/x")).status).toBe(200);
  });

  it("pins users by their AIDA ID", async () => {
    const user = (id: string) => ({ ...COOKBOOK, pin: { [`arn:aws:iam::${A}:user/alice`]: id } });
    expect((await send(user("AIDAEMULATORALICE0001"), "alice", "GET", "/admin/x")).status).toBe(200);
    expect((await send(user("AIDAEMULATORALICE0002"), "alice", "GET", "/admin/x")).status).toBe(403);
  });
});

describe("the policy as configuration", () => {
  it("takes the full form as a JSON string too", async () => {
    const out = await send(JSON.stringify(COOKBOOK), "deployer", "POST", "/deploy/app");
    expect(out.log).toMatchObject({ outcome: "allow", rule: "ci-deploy" });
  });

  it.each([
    [
      "a path glob that is not absolute",
      { rules: [{ name: "a", allow: [`arn:aws:iam::${A}:role/x`] }, { name: "b", paths: ["deploy/**"], allow: [`arn:aws:iam::${A}:role/x`] }] },
      "POLICY.rules[1].paths[0]: must start with '/'",
    ],
    ["a wildcard partition", { allow: [`arn:*:iam::${A}:role/deployer`] }, "POLICY.allow[0]: the partition field must be literally aws, aws-cn or aws-us-gov"],
    ["a wildcard account in deny", { allow: [], deny: ["arn:aws:iam::*:role/deployer"] }, "POLICY.deny[0]: the account field must be a literal 12-digit account ID"],
    ["a lower-case method", { rules: [{ name: "a", methods: ["get"], allow: [`arn:aws:iam::${A}:role/x`] }] }, "POLICY.rules[0].methods[0]: methods are upper-case: GET"],
  ])("fails closed on %s: 500 misconfigured, a log line with the path", async (_why, policy, message) => {
    const lines = captureLog().raw;
    const res = await through(createGateApp(), { ...env, POLICY: policy }, new Request("https://localhost/", { headers: bearer(await mintToken("deployer")) }));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe("misconfigured");
    const config = lines.map((l) => JSON.parse(l) as { event: string; message?: string }).filter((l) => l.event === "config");
    expect(config.some((l) => l.message?.startsWith(message)), JSON.stringify(config)).toBe(true);
  });
});
