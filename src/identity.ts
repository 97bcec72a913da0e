import { GateError } from "./errors.ts";
import type { StsPartition } from "./sts-endpoints.ts";

import { PRINCIPAL_TYPES, type PrincipalType } from "./protocol.ts";

export { PRINCIPAL_TYPES, type PrincipalType };

/** What STS said, field for field. */
export interface StsAnswer {
  arn: string;
  account: string;
  userId: string;
}

/** The caller, derived from the ARN and checked against the rest of the answer. */
export interface CallerIdentity extends StsAnswer {
  type: PrincipalType;
  /** The principal policies match: an assumed-role session becomes its role. */
  principal: string;
  partition: StsPartition;
  /**
   * An assumed-role session's role name. Its IAM path is not in the session's ARN, so it stays
   * unknown. Absent for every other principal type.
   */
  role?: string;
  /** An assumed-role session's session name: chosen by the caller, it identifies no one. */
  session?: string;
  /** An IAM Identity Center session's permission set (rule `identityCenterSession`). */
  permissionSet?: string;
  /** An IAM Identity Center session's user: the session name, which AWS sets to the user's name. */
  user?: string;
}

/** What an assumed-role session adds to the identity: role, session and, for Identity Center, permission set and user. */
export type SessionFacts = Pick<CallerIdentity, "role" | "session" | "permissionSet" | "user">;

/**
 * Rule `identityCenterSession`: a session is an IAM Identity Center session only when its role
 * name is exactly `AWSReservedSSO_<permission set>_<16 lower-case hex>`. AWS reserves the
 * `AWSReservedSSO_` prefix and sets the session name of such a session to the person's Identity
 * Center user name. A role that only resembles the pattern gets neither field.
 */
export const IDENTITY_CENTER_ROLE = /^AWSReservedSSO_(.+)_([0-9a-f]{16})$/;

export function sessionFacts(role: string, session: string): SessionFacts {
  const sso = IDENTITY_CENTER_ROLE.exec(role);
  if (sso === null) return { role, session };
  return { role, session, permissionSet: sso[1]!, user: session };
}

// IAM's own character sets. None admits `:`, so no name can smuggle an ARN field boundary.
const NAME = "[\\w+=,.@-]";
const PATH = "(?:/[\\w+=,.@-]+)*/";
const ARN = /^arn:(aws|aws-cn|aws-us-gov):(iam|sts)::(\d{12}):(.+)$/;

const RESOURCES: ReadonlyArray<{
  service: "iam" | "sts";
  type: PrincipalType;
  pattern: RegExp;
  canonical: (account: string, m: RegExpExecArray, partition: string) => string;
  userId: (account: string, m: RegExpExecArray) => RegExp;
}> = [
  {
    service: "iam",
    type: "user",
    pattern: new RegExp(`^user(${PATH})(${NAME}{1,64})$`),
    canonical: (a, m, p) => `arn:${p}:iam::${a}:user${m[1]}${m[2]}`,
    userId: () => /^AIDA[A-Z0-9]{12,124}$/,
  },
  {
    service: "sts",
    type: "assumed-role",
    pattern: new RegExp(`^assumed-role/(${NAME}{1,64})/(${NAME}{2,64})$`),
    // The session name is chosen by whoever assumed the role; policy is about the role.
    canonical: (a, m, p) => `arn:${p}:iam::${a}:role/${m[1]}`,
    userId: (_a, m) => new RegExp(`^AROA[A-Z0-9]{12,124}:${escapeRegExp(m[2]!)}$`),
  },
  {
    service: "iam",
    type: "role",
    pattern: new RegExp(`^role(${PATH})(${NAME}{1,64})$`),
    canonical: (a, m, p) => `arn:${p}:iam::${a}:role${m[1]}${m[2]}`,
    userId: () => /^AROA[A-Z0-9]{12,124}$/,
  },
  {
    service: "sts",
    type: "federated-user",
    pattern: new RegExp(`^federated-user/(${NAME}{2,32})$`),
    canonical: (a, m, p) => `arn:${p}:sts::${a}:federated-user/${m[1]}`,
    userId: (a, m) => new RegExp(`^${a}:${escapeRegExp(m[1]!)}$`),
  },
  {
    service: "iam",
    type: "root",
    pattern: /^root$/,
    canonical: (a, _m, p) => `arn:${p}:iam::${a}:root`,
    userId: (a) => new RegExp(`^${a}$`),
  },
];

/**
 * Rule `identityFromArn`: the principal comes from the ARN alone, and UserId and Account
 * must agree with it (never the other way round: a federated user's `123456789012:bob`
 * cut at the colon looks like the root user's ID).
 */
export function identityFromSts(answer: StsAnswer, expectedPartition: StsPartition): CallerIdentity {
  const arn = ARN.exec(answer.arn);
  if (arn === null) throw new GateError("principal_unsupported", "STS returned an ARN the gate does not recognise.");
  const [, partition, service, account, resource] = arn as unknown as [string, StsPartition, string, string, string];
  if (partition !== expectedPartition) {
    throw new GateError("sts_inconsistent_identity", "The ARN's partition is not the endpoint's partition.");
  }
  if (answer.account !== account) {
    throw new GateError("sts_inconsistent_identity", "Account does not match the ARN's account.");
  }
  for (const shape of RESOURCES) {
    if (shape.service !== service) continue;
    const m = shape.pattern.exec(resource);
    if (m === null) continue;
    if (!shape.userId(account, m).test(answer.userId)) {
      throw new GateError("sts_inconsistent_identity", `UserId does not fit a principal of type ${shape.type}.`);
    }
    const identity: CallerIdentity = { ...answer, type: shape.type, principal: shape.canonical(account, m, partition), partition };
    return shape.type === "assumed-role" ? { ...identity, ...sessionFacts(m[1]!, m[2]!) } : identity;
  }
  throw new GateError("principal_unsupported", "STS returned a principal type the gate does not support.");
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
