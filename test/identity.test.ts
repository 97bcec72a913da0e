import { describe, expect, it } from "vitest";
import { identityFromSts, type StsAnswer } from "../src/identity";
import { expectProblem } from "./support/helpers";

const ACCOUNT = "111122223333";

describe("identityFromSts", () => {
  it.each<[string, StsAnswer, { type: string; principal: string; role?: string; session?: string }]>([
    [
      "an IAM user",
      { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, account: ACCOUNT, userId: "AIDAEMULATORALICE0001" },
      { type: "user", principal: `arn:aws:iam::${ACCOUNT}:user/alice` },
    ],
    [
      "an IAM user with a path",
      { arn: `arn:aws:iam::${ACCOUNT}:user/division/team/alice`, account: ACCOUNT, userId: "AIDAEMULATORALICE0001" },
      { type: "user", principal: `arn:aws:iam::${ACCOUNT}:user/division/team/alice` },
    ],
    // The session name is the assumer's choice; policy must see only the role.
    [
      "an assumed-role session, as its role",
      { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-run-42`, account: ACCOUNT, userId: "AROAEMULATORDEPLOYER1:ci-run-42" },
      { type: "assumed-role", principal: `arn:aws:iam::${ACCOUNT}:role/deployer`, role: "deployer", session: "ci-run-42" },
    ],
    [
      "an assumed-role session whose name is an e-mail address",
      { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/reader/bob@example.com`, account: ACCOUNT, userId: "AROAEMULATORREADER001:bob@example.com" },
      // …which makes it no Identity Center session: no permissionSet, no user.
      { type: "assumed-role", principal: `arn:aws:iam::${ACCOUNT}:role/reader`, role: "reader", session: "bob@example.com" },
    ],
    [
      "a role",
      { arn: `arn:aws:iam::${ACCOUNT}:role/service/deployer`, account: ACCOUNT, userId: "AROAEMULATORDEPLOYER1" },
      { type: "role", principal: `arn:aws:iam::${ACCOUNT}:role/service/deployer` },
    ],
    [
      "a federated user",
      { arn: `arn:aws:sts::${ACCOUNT}:federated-user/bob.jones@example.com`, account: ACCOUNT, userId: `${ACCOUNT}:bob.jones@example.com` },
      { type: "federated-user", principal: `arn:aws:sts::${ACCOUNT}:federated-user/bob.jones@example.com` },
    ],
    [
      "the root user",
      { arn: `arn:aws:iam::${ACCOUNT}:root`, account: ACCOUNT, userId: ACCOUNT },
      { type: "root", principal: `arn:aws:iam::${ACCOUNT}:root` },
    ],
  ])("reads %s", (_why, answer, expected) => {
    expect(identityFromSts(answer, "aws")).toEqual({ ...answer, ...expected, partition: "aws" });
  });

  describe("IAM Identity Center sessions (rule identityCenterSession)", () => {
    const sso = (role: string, session = "Alice.Smith@example.com") =>
      identityFromSts({ arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`, account: ACCOUNT, userId: `AROAEMULATORSSOADMIN1:${session}` }, "aws");

    it.each([
      ["AWSReservedSSO_AdministratorAccess_0123456789abcdef", "AdministratorAccess"],
      ["AWSReservedSSO_AdministratorAccess_ReadOnly_1111222233334444", "AdministratorAccess_ReadOnly"],
      ["AWSReservedSSO_A_ffffffffffffffff", "A"],
      ["AWSReservedSSO__x_0000000000000000", "_x"],
    ])("reads %s as permission set %s, its session name as the user", (role, permissionSet) => {
      expect(sso(role)).toMatchObject({ role, session: "Alice.Smith@example.com", permissionSet, user: "Alice.Smith@example.com" });
    });

    it.each([
      ["upper-case hex", "AWSReservedSSO_AdministratorAccess_0123456789ABCDEF"],
      ["15 hex digits", "AWSReservedSSO_AdministratorAccess_0123456789abcde"],
      ["17 hex digits", "AWSReservedSSO_AdministratorAccess_0123456789abcdef0"],
      ["no underscore before the suffix", "AWSReservedSSO_AdministratorAccess0123456789abcdef"],
      ["no permission set", "AWSReservedSSO__0123456789abcdef"],
      ["a lower-case prefix", "awsreservedsso_AdministratorAccess_0123456789abcdef"],
      ["a prefix not at the start", "xAWSReservedSSO_AdministratorAccess_0123456789abcdef"],
      ["a non-hex suffix", "AWSReservedSSO_AdministratorAccess_0123456789abcdeg"],
    ])("a role that only resembles the pattern (%s) is no Identity Center session", (_why, role) => {
      const id = sso(role);
      expect(id).toMatchObject({ role, session: "Alice.Smith@example.com" });
      expect(id).not.toHaveProperty("permissionSet");
      expect(id).not.toHaveProperty("user");
    });

    it("gives a role (not a session), a user and a federated user neither role, session, permission set nor user", () => {
      for (const [arn, userId] of [
        [`arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_AdministratorAccess_0123456789abcdef`, "AROAEMULATORSSOADMIN1"],
        [`arn:aws:iam::${ACCOUNT}:user/alice`, "AIDAEMULATORALICE0001"],
        [`arn:aws:sts::${ACCOUNT}:federated-user/alice@example.com`, `${ACCOUNT}:alice@example.com`],
      ]) {
        const id = identityFromSts({ arn: arn!, account: ACCOUNT, userId: userId! }, "aws");
        for (const field of ["role", "session", "permissionSet", "user"]) expect(id, `${arn} ${field}`).not.toHaveProperty(field);
      }
    });
  });

  it.each([
    ["aws-cn", "arn:aws-cn:sts::111122223333:assumed-role/deployer/ci", "arn:aws-cn:iam::111122223333:role/deployer"],
    ["aws-us-gov", "arn:aws-us-gov:iam::111122223333:user/alice", "arn:aws-us-gov:iam::111122223333:user/alice"],
  ] as const)("keeps the %s partition in the canonical principal", (partition, arn, principal) => {
    const userId = arn.includes("assumed-role") ? "AROAEMULATORDEPLOYER1:ci" : "AIDAEMULATORALICE0001";
    const id = identityFromSts({ arn, account: ACCOUNT, userId }, partition);
    expect(id.principal).toBe(principal);
    expect(id.partition).toBe(partition);
  });

  // ATTACKS #3: a forged or confused answer must not agree with itself.
  it("refuses an Account that is not the ARN's account as sts_inconsistent_identity", () => {
    expectProblem(
      () => identityFromSts({ arn: `arn:aws:iam::${ACCOUNT}:user/alice`, account: "444455556666", userId: "AIDAEMULATORALICE0001" }, "aws"),
      "sts_inconsistent_identity",
    );
  });

  it.each([
    ["aws-cn ARN from a commercial endpoint", "arn:aws-cn:iam::111122223333:user/alice", "aws"],
    ["aws ARN from a China endpoint", "arn:aws:iam::111122223333:user/alice", "aws-cn"],
    ["aws ARN from a GovCloud endpoint", "arn:aws:iam::111122223333:user/alice", "aws-us-gov"],
  ] as const)("refuses an %s as sts_inconsistent_identity", (_why, arn, partition) => {
    expectProblem(() => identityFromSts({ arn, account: ACCOUNT, userId: "AIDAEMULATORALICE0001" }, partition), "sts_inconsistent_identity");
  });

  // ATTACKS #3 and #13: UserId must fit the principal the ARN names, never the other way round.
  it.each([
    ["user with a role's ID", "arn:aws:iam::111122223333:user/alice", "AROAEMULATORALICE0001"],
    ["user with a short ID", "arn:aws:iam::111122223333:user/alice", "AIDA12345678901"],
    ["user with a session suffix", "arn:aws:iam::111122223333:user/alice", "AIDAEMULATORALICE0001:x"],
    ["user with the account ID", "arn:aws:iam::111122223333:user/alice", ACCOUNT],
    ["assumed-role with a user's ID", "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42", "AIDAEMULATORDEPLOYER1:ci-run-42"],
    ["assumed-role with another session name", "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42", "AROAEMULATORDEPLOYER1:ci-run-43"],
    ["assumed-role without a session name", "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42", "AROAEMULATORDEPLOYER1"],
    // A session name with regex metacharacters must be matched literally.
    ["assumed-role whose session name is matched as a pattern", "arn:aws:sts::111122223333:assumed-role/deployer/a.b", "AROAEMULATORDEPLOYER1:axb"],
    ["role with a session suffix", "arn:aws:iam::111122223333:role/deployer", "AROAEMULATORDEPLOYER1:x"],
    ["role with a user's ID", "arn:aws:iam::111122223333:role/deployer", "AIDAEMULATORDEPLOYER1"],
    // ATTACKS #13: `111122223333:bob` cut at the colon is the root user's ID.
    ["federated user whose UserId is the bare account ID", "arn:aws:sts::111122223333:federated-user/bob.jones@example.com", ACCOUNT],
    ["federated user with another name", "arn:aws:sts::111122223333:federated-user/bob.jones@example.com", `${ACCOUNT}:eve@example.com`],
    ["federated user with another account", "arn:aws:sts::111122223333:federated-user/bob.jones@example.com", "444455556666:bob.jones@example.com"],
    ["federated user whose name is matched as a pattern", "arn:aws:sts::111122223333:federated-user/bob.jones", `${ACCOUNT}:bobxjones`],
    ["root with a federated user's ID", "arn:aws:iam::111122223333:root", `${ACCOUNT}:bob`],
    ["root with a user's ID", "arn:aws:iam::111122223333:root", "AIDAEMULATORALICE0001"],
    ["root with another account", "arn:aws:iam::111122223333:root", "444455556666"],
  ])("refuses a %s as sts_inconsistent_identity", (_why, arn, userId) => {
    expectProblem(() => identityFromSts({ arn, account: ACCOUNT, userId }, "aws"), "sts_inconsistent_identity");
  });

  it.each([
    ["a group", "arn:aws:iam::111122223333:group/admins"],
    ["an S3 bucket", "arn:aws:s3:::bucket"],
    ["a user under sts", "arn:aws:sts::111122223333:user/alice"],
    ["an assumed-role under iam", "arn:aws:iam::111122223333:assumed-role/deployer/ci"],
    ["a federated user under iam", "arn:aws:iam::111122223333:federated-user/bob"],
    ["root under sts", "arn:aws:sts::111122223333:root"],
    ["an empty user name", "arn:aws:iam::111122223333:user/"],
    ["a user name with ':'", "arn:aws:iam::111122223333:user/a:b"],
    ["a role path with ':'", "arn:aws:iam::111122223333:role/a:b/deployer"],
    ["a one-character session name", "arn:aws:sts::111122223333:assumed-role/deployer/x"],
    ["an assumed role without a session", "arn:aws:sts::111122223333:assumed-role/deployer"],
    ["a 33-character federated name", `arn:aws:sts::111122223333:federated-user/${"b".repeat(33)}`],
    ["a 65-character user name", `arn:aws:iam::111122223333:user/${"a".repeat(65)}`],
    ["an 11-digit account", "arn:aws:iam::11112222333:root"],
    ["a region in an IAM ARN", "arn:aws:iam:us-east-1:111122223333:user/alice"],
    ["an unknown partition", "arn:aws-iso:iam::111122223333:user/alice"],
    ["a trailing newline", "arn:aws:iam::111122223333:user/alice\n"],
    ["a root with a suffix", "arn:aws:iam::111122223333:rootx"],
    ["not an ARN", "alice"],
  ])("refuses %s as principal_unsupported", (_why, arn) => {
    expectProblem(() => identityFromSts({ arn, account: ACCOUNT, userId: "AIDAEMULATORALICE0001" }, "aws"), "principal_unsupported");
  });
});
