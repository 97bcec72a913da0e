import type { PolicyDocument } from "../../src/policy/schema";

/** The emulator's account. */
export const ACCOUNT = "111122223333";

/** The README's policy cookbook, as one policy: per-route rules for the emulator's identities. */
export const COOKBOOK: PolicyDocument = {
  rules: [
    { name: "ci-deploy", methods: ["POST", "PUT"], paths: ["/deploy/**"], allow: [`arn:aws:iam::${ACCOUNT}:role/deployer`] },
    { name: "readers", methods: ["GET", "HEAD"], allow: [`arn:aws:iam::${ACCOUNT}:role/*`] },
    { name: "admin", paths: ["/admin/**"], allow: [`arn:aws:iam::${ACCOUNT}:user/alice`] },
  ],
};
