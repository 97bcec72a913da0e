import { SignJWT, importJWK, type JSONWebKeySet } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { generateAssertionKey, type GeneratedAssertionKey } from "../../src/assertion/generate";
import { PrivateJwkSchema } from "../../src/assertion/keys";
import { AssertionSigner } from "../../src/assertion/signer";
import { identityFromSts } from "../../src/identity";
import { verifyCaller, type VerifyCallerOptions } from "../../src/origin";
import { codeOf } from "../support/verification";

/**
 * The origin verifier and the Identity Center claims (issue 22): `role`, `session`,
 * `permission_set` and `user` become `role`, `session`, `permissionSet` and `user`, each only
 * when present; an assertion whose claims are not those of an Identity Center session is refused.
 */
const ISSUER = "urn:sts-gate:unit";
const AUDIENCE = "https://origin.example";
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const A = "111122223333";
const ROLE = "AWSReservedSSO_AdministratorAccess_0123456789abcdef";
const USER = "Alice.Smith@example.com";

const sso = identityFromSts({ arn: `arn:aws:sts::${A}:assumed-role/${ROLE}/${USER}`, account: A, userId: `AROAEMULATORSSOADMIN1:${USER}` }, "aws");
const user = identityFromSts({ arn: `arn:aws:iam::${A}:user/alice`, account: A, userId: "AIDAEMULATORALICE0001" }, "aws");

let key: GeneratedAssertionKey;
let jwks: JSONWebKeySet;
let signer: AssertionSigner;
let privateKey: CryptoKey;

beforeAll(async () => {
  key = await generateAssertionKey("EdDSA");
  jwks = { keys: [key.publicJwk] };
  signer = await AssertionSigner.create({ privateJwk: PrivateJwkSchema.parse(key.privateJwk), previousPublicJwk: undefined, issuer: ISSUER, audience: AUDIENCE });
  privateKey = (await importJWK(key.privateJwk, "EdDSA")) as CryptoKey;
});

const options = (): VerifyCallerOptions => ({ jwks, issuer: ISSUER, audience: AUDIENCE, now: () => NOW });

function request(assertion: string): Request {
  return new Request("https://origin.example/base/x?y=1", { headers: { "x-caller-assertion": assertion } });
}

async function handMade(patch: Record<string, unknown>): Promise<string> {
  const iat = Math.floor(NOW / 1000);
  const claims: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: sso.principal,
    arn: sso.arn,
    account: A,
    user_id: sso.userId,
    principal_type: "assumed-role",
    role: ROLE,
    session: USER,
    permission_set: "AdministratorAccess",
    user: USER,
    iat,
    exp: iat + 60,
    jti: "j-1",
    htm: "GET",
    htu: "/base/x?y=1",
    ...patch,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: "sts-gate-caller+jwt" }).sign(privateKey);
}

describe("verifyCaller and Identity Center claims", () => {
  it("returns role, session, permissionSet and user from the gate's assertion for an Identity Center session", async () => {
    const jwt = await signer.sign(sso, { method: "GET", htu: "/base/x?y=1" }, NOW);
    expect(await verifyCaller(request(jwt), options())).toMatchObject({
      principalType: "assumed-role",
      role: ROLE,
      session: USER,
      permissionSet: "AdministratorAccess",
      user: USER,
    });
  });

  it("returns none of them for an IAM user, whose assertion carries none", async () => {
    const jwt = await signer.sign(user, { method: "GET", htu: "/base/x?y=1" }, NOW);
    const caller = await verifyCaller(request(jwt), options());
    for (const field of ["role", "session", "permissionSet", "user"]) expect(caller, field).not.toHaveProperty(field);
  });

  it("accepts an assertion from a gate that does not write them yet", async () => {
    const caller = await verifyCaller(request(await handMade({ role: undefined, session: undefined, permission_set: undefined, user: undefined })), options());
    expect(caller).not.toHaveProperty("user");
  });

  it.each([
    ["a user without a permission set", { permission_set: undefined }],
    ["a permission set without a user", { user: undefined }],
    ["a user that is not the session name", { user: "ceo@example.com" }],
    ["a user without a role", { role: undefined }],
    ["an empty user", { user: "" }],
    ["a user that is not a string", { user: 7 }],
    ["an empty role", { role: "" }],
    ["a session that is not a string", { session: ["x"] }],
  ])("refuses %s as assertion_invalid", async (_why, patch) => {
    expect(await codeOf(verifyCaller(request(await handMade(patch)), options()))).toBe("assertion_invalid");
  });
});
