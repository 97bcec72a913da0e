import { describe, expect, it } from "vitest";
import { whyAdmitsNoOne } from "../../src/policy/reach";
import { runPolicyCommand } from "../../src/cli/policy-command";
import { checkPolicyText, PolicySchema } from "../../src/policy";

const A = "111122223333";
const doc = (d: unknown) => PolicySchema.parse(d);

describe("whyAdmitsNoOne", () => {
  it.each([
    ["a plain allow", { allow: [`arn:aws:iam::${A}:role/deployer`] }],
    ["one pattern of two cut off", { accounts: [A], allow: [`arn:aws:iam::444455556666:role/x`, `arn:aws:iam::${A}:role/x`] }],
    ["a deny that only overlaps", { deny: [`arn:aws:iam::${A}:role/ci-*`], allow: [`arn:aws:iam::${A}:role/*`] }],
    ["federated users when enabled", { principalTypes: ["federated-user"], allow: [`arn:aws:sts::${A}:federated-user/*`] }],
    ["a later rule that can match", { accounts: [A], rules: [{ name: "a", allow: [`arn:aws:iam::444455556666:role/x`] }, { name: "b", allow: [`arn:aws:iam::${A}:user/alice`] }] }],
  ])("undefined for %s", (_why, d) => {
    expect(whyAdmitsNoOne(doc(d))).toBeUndefined();
  });

  it.each([
    ["every pattern outside accounts", { accounts: ["444455556666"], allow: [`arn:aws:iam::${A}:role/deployer`] }, /is for account 111122223333, which is not in accounts/],
    ["a deny that covers the allow", { deny: [`arn:aws:iam::${A}:role/*`], allow: [`arn:aws:iam::${A}:role/deployer`] }, /covered by deny pattern/],
    ["a deny that covers a wildcard allow", { deny: [`arn:aws:iam::${A}:*`], allow: [`arn:aws:iam::${A}:role/ci-*`] }, /covered by deny pattern/],
    ["a deny in another letter case", { deny: [`arn:aws:iam::${A}:role/Deployer`], allow: [`arn:aws:iam::${A}:role/deployer`] }, /covered by deny pattern/],
    ["only disabled principal types", { allow: [`arn:aws:sts::${A}:federated-user/bob`, `arn:aws:iam::${A}:root`] }, /not in principalTypes/],
    ["users when only roles are enabled", { principalTypes: ["role", "assumed-role"], allow: [`arn:aws:iam::${A}:user/alice`] }, /not in principalTypes/],
    ["no pattern at all", { allow: [] }, /no principal pattern/],
  ])("says why for %s", (_why, d, reason) => {
    expect(whyAdmitsNoOne(doc(d))).toMatch(reason);
  });

  it("npm run policy -- check warns, and still exits 0: the policy is valid", () => {
    const text = JSON.stringify({ accounts: ["444455556666"], allow: [`arn:aws:iam::${A}:role/deployer`] });
    const out = runPolicyCommand({ command: "check", file: "p.json" }, () => text);
    expect(out.exitCode).toBe(0);
    expect(out.stderr).toMatch(/^warning: POLICY admits no one: /m);
    const fine = checkPolicyText(JSON.stringify({ allow: [`arn:aws:iam::${A}:role/deployer`] }));
    expect(fine.ok && fine.warnings).toEqual([]);
  });
});
