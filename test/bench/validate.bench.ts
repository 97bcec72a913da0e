/**
 * `vitest bench` of the local token check, `validateAuthorization` (src/token/validate.ts): the
 * work the gate does on every request before any cache or STS. Run by `npm run bench` as
 *   npx vitest bench --run test/bench/validate.bench.ts
 * with the repository's vitest config, so it runs in workerd like the Worker does. Each result
 * is also written to dist/bench/validate-<name>.json, which the harness reads for BENCHMARKS.md.
 */
import { expect, test } from "vitest";
import { GateError } from "../../src/errors";
import { validateAuthorization } from "../../src/token/validate";
import { encodeToken, presignUrl, TEST_AUDIENCE } from "../support/tokens";

const OPTIONS = { time: 1000, warmupTime: 200 };

test("validateAuthorization", async ({ bench }) => {
  const signedAt = Date.UTC(2026, 0, 2, 3, 4, 5);
  const now = signedAt + 60_000;
  // alice: long-term key (~1.1 KiB header); deployer: session token (~1.3 KiB), the common case in CI.
  const alice = `Bearer ${encodeToken(await presignUrl("alice", { at: signedAt, audience: TEST_AUDIENCE }))}`;
  const deployer = `Bearer ${encodeToken(await presignUrl("deployer", { at: signedAt, audience: TEST_AUDIENCE }))}`;
  // A token that passes every step but the last one: the most expensive local rejection.
  const expired = alice;
  const expiredNow = signedAt + 16 * 60_000;
  expect(validateAuthorization(alice, now).accessKeyId).toBe("AKIAEMULATORALICE001");
  expect(validateAuthorization(deployer, now).securityToken).toBeDefined();
  expect(() => validateAuthorization(expired, expiredNow)).toThrow(GateError);

  let sink = 0;
  await bench("valid token (alice, long-term key)", { writeResult: "dist/bench/validate-alice.json" }, () => {
    sink += validateAuthorization(alice, now).expiresAt;
  }).run(OPTIONS);
  await bench("valid token (deployer, session token)", { writeResult: "dist/bench/validate-deployer.json" }, () => {
    sink += validateAuthorization(deployer, now).expiresAt;
  }).run(OPTIONS);
  await bench("expired token (rejected at the last rule)", { writeResult: "dist/bench/validate-expired.json" }, () => {
    try {
      validateAuthorization(expired, expiredNow);
    } catch (error) {
      sink += (error as GateError).status;
    }
  }).run(OPTIONS);
  expect(sink).toBeGreaterThan(0);
});
