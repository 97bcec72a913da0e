import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { verifyCaller, type VerifiedCaller } from "../../src/origin";
import { REVOCATIONS_PATH } from "../../src/revocation/paths";
import { captureLog, through, type Echo } from "../support/gate";
import { bearer, mintToken } from "../support/tokens";
import { gateJwks, TEST_AUDIENCE_CLAIM, TEST_ISSUER } from "./assertion-support";

/**
 * People as callers (issue 22): IAM Identity Center sessions in the policy (selectors) and at
 * the origin (headers, claims, the origin verifier), through the Worker, with the STS emulator
 * and the echo origin. The emulator's Identity Center identities (test/emulator/identities.json):
 *
 * - sso-admin: AdministratorAccess in 111122223333, user Alice.Smith@example.com
 * - sso-admin-other-account: AdministratorAccess in 444455556666, user alice.smith@example.com
 * - sso-admin-readonly: AdministratorAccess_ReadOnly in 111122223333, user bob@contractor.example
 * - sso-lookalike: AWSReservedSSO_AdministratorAccess_0123456789ABCDEF (upper-case hex): not one
 * - email-session: the plain role deployer, session name Alice.Smith@example.com: not one
 */
const A = "111122223333";
const B = "444455556666";
const ADMIN_ROLE = "AWSReservedSSO_AdministratorAccess_0123456789abcdef";

afterEach(() => vi.restoreAllMocks());

interface Outcome {
  status: number;
  log: Record<string, unknown>;
  echo: Echo | undefined;
}

async function send(policy: unknown, who: string, init: { path?: string; method?: string; headers?: Record<string, string> } = {}): Promise<Outcome> {
  const { raw: lines, spy } = captureLog();
  try {
    const res = await through(createGateApp(), { ...env, POLICY: policy as typeof env.POLICY }, new Request(`https://localhost${init.path ?? "/items"}`, { method: init.method ?? "GET", headers: { ...bearer(await mintToken(who)), ...init.headers } }));
    const echo = res.status === 200 && (init.path ?? "/items").startsWith("/items") ? ((await res.json()) as Echo) : undefined;
    if (echo === undefined) await res.body?.cancel();
    const decisions = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "decision");
    expect(decisions, lines.join("\n")).toHaveLength(1);
    return { status: res.status, log: decisions[0]!, echo };
  } finally {
    spy.mockRestore();
  }
}

const ADMIN_SELECTOR = { permissionSet: "AdministratorAccess", account: A };

describe("Identity Center selectors (rule identityCenterSelector)", () => {
  it("admits the permission set's session in the selector's account, and logs the selector, the permission set and the user", async () => {
    const out = await send({ allow: [ADMIN_SELECTOR] }, "sso-admin");
    expect(out.status).toBe(200);
    expect(out.log).toMatchObject({
      outcome: "allow",
      rule: "allow",
      pattern: `{ permissionSet = "AdministratorAccess", account = "${A}" }`,
      role: ADMIN_ROLE,
      session: "Alice.Smith@example.com",
      permissionSet: "AdministratorAccess",
      user: "Alice.Smith@example.com",
    });
  });

  it("never admits a permission set whose name extends the selector's (AdministratorAccess_ReadOnly)", async () => {
    expect((await send({ allow: [ADMIN_SELECTOR] }, "sso-admin-readonly")).status).toBe(403);
    // …which is exactly what the ARN glob people write instead gets wrong.
    expect((await send({ allow: [`arn:aws:iam::${A}:role/AWSReservedSSO_AdministratorAccess_*`] }, "sso-admin-readonly")).status).toBe(200);
  });

  it("matches the account literally: the same permission set in another account is another selector", async () => {
    expect((await send({ allow: [ADMIN_SELECTOR] }, "sso-admin-other-account")).status).toBe(403);
    expect((await send({ allow: [{ permissionSet: "AdministratorAccess", account: B }] }, "sso-admin-other-account")).status).toBe(200);
    expect((await send({ allow: [{ permissionSet: "AdministratorAccess", account: B }] }, "sso-admin")).status).toBe(403);
  });

  it("matches only the aws partition unless the selector names another", async () => {
    expect((await send({ allow: [{ ...ADMIN_SELECTOR, partition: "aws-us-gov" }] }, "sso-admin")).status).toBe(403);
    expect((await send({ allow: [{ ...ADMIN_SELECTOR, partition: "aws" }] }, "sso-admin")).status).toBe(200);
  });

  it("compares the permission set regardless of case, and takes a * glob", async () => {
    expect((await send({ allow: [{ permissionSet: "administratoraccess", account: A }] }, "sso-admin")).status).toBe(200);
    expect((await send({ allow: [{ permissionSet: "Administrator*", account: A }] }, "sso-admin-readonly")).status).toBe(200);
    expect((await send({ allow: [{ permissionSet: "*_ReadOnly", account: A }] }, "sso-admin")).status).toBe(403);
  });

  it("with users, admits only a user one of the globs matches, regardless of case", async () => {
    const policy = { allow: [{ permissionSet: "*", account: A, users: ["*@example.com"] }] };
    expect((await send(policy, "sso-admin")).status).toBe(200);
    expect((await send(policy, "sso-admin-readonly")).status).toBe(403);
    expect((await send({ allow: [{ ...ADMIN_SELECTOR, users: ["ALICE.SMITH@EXAMPLE.COM"] }] }, "sso-admin")).status).toBe(200);
    expect((await send({ allow: [{ ...ADMIN_SELECTOR, users: ["carol@example.com", "*@elsewhere.example"] }] }, "sso-admin")).status).toBe(403);
  });

  it("never matches a caller who is not an Identity Center session", async () => {
    const policy = { allow: [{ permissionSet: "*", account: A }] };
    // A role that only resembles the pattern (upper-case hex), a plain role whose session name is
    // an email address, a plain role session, an IAM user.
    for (const who of ["sso-lookalike", "email-session", "deployer", "alice"]) {
      expect((await send(policy, who)).status, who).toBe(403);
    }
    expect((await send({ allow: [{ permissionSet: "*", account: A, users: ["alice.smith@example.com"] }] }, "email-session")).status).toBe(403);
  });

  it("denies by selector in deny, whatever allows", async () => {
    const policy = { allow: [`arn:aws:iam::${A}:role/*`], deny: [{ permissionSet: "AdministratorAccess_ReadOnly", account: A }] };
    const out = await send(policy, "sso-admin-readonly");
    expect(out.status).toBe(403);
    expect(out.log.reason).toBe(`denied by deny pattern { permissionSet = "AdministratorAccess_ReadOnly", account = "${A}" }`);
    expect((await send(policy, "sso-admin")).status).toBe(200);
  });

  it("selects admins of the revocation API by selector, and no one else", async () => {
    const policy = { allow: [`arn:aws:iam::${A}:role/*`], admins: [{ ...ADMIN_SELECTOR, users: ["alice.smith@example.com"] }] };
    expect((await send(policy, "sso-admin", { path: REVOCATIONS_PATH })).status).toBe(200);
    expect((await send(policy, "sso-admin-readonly", { path: REVOCATIONS_PATH })).status).toBe(403);
    expect((await send(policy, "email-session", { path: REVOCATIONS_PATH })).status).toBe(403);
  });

  it("selects in rules[].allow beside ARN patterns", async () => {
    const policy = {
      rules: [
        { name: "people", methods: ["POST"], allow: [ADMIN_SELECTOR] },
        { name: "ci", allow: [`arn:aws:iam::${A}:role/deployer`] },
      ],
    };
    expect((await send(policy, "sso-admin", { method: "POST" })).log).toMatchObject({ outcome: "allow", rule: "people" });
    expect((await send(policy, "email-session", { method: "POST" })).log).toMatchObject({ outcome: "allow", rule: "ci" });
    expect((await send(policy, "sso-admin-readonly", { method: "POST" })).status).toBe(403);
  });
});

const EVERYONE = {
  principalTypes: ["user", "assumed-role", "role", "federated-user"],
  allow: [`arn:aws:iam::${A}:role/*`, `arn:aws:iam::${A}:user/*`, `arn:aws:sts::${A}:federated-user/*`],
};

const FACTS = ["role", "session", "permission-set", "user"] as const;

/** What the echo origin received and verified, for a request the gate must forward. */
async function echoed(policy: unknown, who: string, init: { headers?: Record<string, string> } = {}): Promise<{ echo: Echo }> {
  const out = await send(policy, who, init);
  expect(out.status, `${who}: ${JSON.stringify(out.log)}`).toBe(200);
  return { echo: out.echo! };
}

function claimsOf(echo: Echo): Record<string, unknown> {
  return decodeJwt(echo.headers["x-caller-assertion"]!);
}

describe("who is calling, at the origin (rules sessionHeadersWhenKnown, sessionClaimsWhenKnown)", () => {
  it("an Identity Center session: all four headers, all four claims, all four fields from the origin verifier", async () => {
    const { echo } = await echoed(EVERYONE, "sso-admin");
    expect(echo!.headers).toMatchObject({
      "x-caller-role": ADMIN_ROLE,
      "x-caller-session": "Alice.Smith@example.com",
      "x-caller-permission-set": "AdministratorAccess",
      "x-caller-user": "Alice.Smith@example.com",
    });
    expect(claimsOf(echo!)).toMatchObject({ role: ADMIN_ROLE, session: "Alice.Smith@example.com", permission_set: "AdministratorAccess", user: "Alice.Smith@example.com" });
    expect(echo!.caller).toMatchObject({ role: ADMIN_ROLE, session: "Alice.Smith@example.com", permissionSet: "AdministratorAccess", user: "Alice.Smith@example.com" });
  });

  it.each([
    ["email-session", "deployer", "Alice.Smith@example.com"],
    ["sso-lookalike", "AWSReservedSSO_AdministratorAccess_0123456789ABCDEF", "Alice.Smith@example.com"],
    ["deployer", "deployer", "ci-run-42"],
  ])("a plain role session (%s): role and session, never a permission set or a user", async (who, role, session) => {
    const { echo } = await echoed(EVERYONE, who);
    expect(echo!.headers["x-caller-role"]).toBe(role);
    expect(echo!.headers["x-caller-session"]).toBe(session);
    expect(echo!.headers).not.toHaveProperty("x-caller-permission-set");
    expect(echo!.headers).not.toHaveProperty("x-caller-user");
    const claims = claimsOf(echo!);
    expect(claims).toMatchObject({ role, session });
    expect(claims).not.toHaveProperty("permission_set");
    expect(claims).not.toHaveProperty("user");
    expect(echo!.caller).toMatchObject({ role, session });
    expect(echo!.caller).not.toHaveProperty("permissionSet");
    expect(echo!.caller).not.toHaveProperty("user");
  });

  it.each(["alice", "federated-bob"])("%s (not an assumed role): none of the four", async (who) => {
    const { echo } = await echoed(EVERYONE, who);
    for (const fact of FACTS) expect(echo!.headers, fact).not.toHaveProperty(`x-caller-${fact}`);
    const claims = claimsOf(echo!);
    for (const claim of ["role", "session", "permission_set", "user"]) expect(claims, claim).not.toHaveProperty(claim);
    for (const field of ["role", "session", "permissionSet", "user"]) expect(echo!.caller, field).not.toHaveProperty(field);
  });

  it("strips the client's own X-Caller-User, X-Caller-Permission-Set, X-Caller-Role and X-Caller-Session, in any spelling", async () => {
    const forged = { "X-Caller-User": "ceo@example.com", "x_caller_permission_set": "AdministratorAccess", "X-CALLER-ROLE": "admin", "X-Caller-Session": "ceo" };
    const { echo } = await echoed(EVERYONE, "alice", { headers: forged });
    for (const fact of FACTS) expect(echo!.headers, fact).not.toHaveProperty(`x-caller-${fact}`);
    expect(JSON.stringify(echo!.headers)).not.toContain("ceo");
    const { echo: sso } = await echoed(EVERYONE, "email-session", { headers: forged });
    expect(sso!.headers).not.toHaveProperty("x-caller-user");
    expect(sso!.headers["x-caller-session"]).toBe("Alice.Smith@example.com");
  });

  it("verifyCaller returns role, session, permissionSet and user from the gate's assertion", async () => {
    const { echo } = await echoed({ allow: [{ permissionSet: "AdministratorAccess", account: B }] }, "sso-admin-other-account");
    const request = new Request(echo!.url, { method: echo!.method, headers: echo!.headers });
    const jwks = await gateJwks({ ...env, POLICY: EVERYONE as unknown as typeof env.POLICY });
    const caller: VerifiedCaller = await verifyCaller(request, { jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE_CLAIM });
    expect(caller).toMatchObject({
      account: B,
      role: "AWSReservedSSO_AdministratorAccess_fedcba9876543210",
      session: "alice.smith@example.com",
      permissionSet: "AdministratorAccess",
      user: "alice.smith@example.com",
    });
    expect(caller.principalType).toBe("assumed-role");
  });
});
