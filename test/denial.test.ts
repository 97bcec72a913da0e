import { describe, expect, it } from "vitest";
import { denialDetail } from "../src/denial";
import { identityFromSts } from "../src/identity";

const deployer = identityFromSts(
  { arn: "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42", account: "111122223333", userId: "AROAEMULATORDEPLOYER1:ci-run-42" },
  "aws",
);

describe("rule denialWithoutPolicy (ATTACKS #25)", () => {
  it("names the caller's principal and type, the method and the path", () => {
    expect(denialDetail(deployer, { method: "DELETE", path: "/admin/users/7" })).toBe(
      "arn:aws:iam::111122223333:role/deployer (assumed-role) is not allowed to DELETE /admin/users/7.",
    );
  });

  it("quotes at most 200 characters of the path", () => {
    const path = `/${"a".repeat(300)}`;
    const detail = denialDetail(deployer, { method: "GET", path });
    expect(detail).toContain(`GET ${path.slice(0, 200)}….`);
    expect(detail).not.toContain(path.slice(0, 201));
    expect(denialDetail(deployer, { method: "GET", path: path.slice(0, 200) })).toContain(`${path.slice(0, 200)}.`);
  });

  it("carries nothing but the principal, its type, the method and the path", () => {
    // The session name and the role's session ARN stay in the decision log.
    const detail = denialDetail(deployer, { method: "GET", path: "/x" });
    expect(detail).not.toContain("ci-run-42");
    expect(detail).not.toContain("assumed-role/deployer");
  });
});
