import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createGateApp, type GateAppOptions } from "../../src/gate/dispatch";
import { REVOCATIONS_PATH } from "../../src/revocation/paths";
import { REVOCATION_PREFIX } from "../../src/storage/keys";
import { logLines as logLinesOf, through, type LogLine } from "./gate";
import { bearer, mintToken } from "./tokens";

export const A = "111122223333";
export const ALICE = `arn:aws:iam::${A}:user/alice`;
export const DEPLOYER_ROLE = `arn:aws:iam::${A}:role/deployer`;
export const DEPLOYER_SESSION = `arn:aws:sts::${A}:assumed-role/deployer/ci-run-42`;
export const DEPLOYER_KEY = "ASIAEMULATORDEPLOY01";

/** The test gate's policy with alice as the only admin: the revocation API is on. */
export const ADMIN_POLICY = { allow: [ALICE, DEPLOYER_ROLE, `arn:aws:iam::${A}:user/*`], admins: [ALICE] };

/** An env whose policy has admins. One object per test: the gate parses configuration per env. */
export function adminEnv(policy: object = ADMIN_POLICY): typeof env {
  return { ...env, POLICY: policy as typeof env.POLICY };
}

/** One gate app is one isolate: its own identity cache and revocation snapshot. */
export function isolate(options: GateAppOptions = {}) {
  return createGateApp(options);
}

export type Gate = ReturnType<typeof createGateApp>;

export async function call(
  gate: Gate,
  testEnv: object,
  path: string,
  init: { method?: string; token?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...(init.token === undefined ? {} : (bearer(init.token) as Record<string, string>)), ...init.headers };
  if (init.body !== undefined) headers["content-type"] ??= "application/json";
  const res = await through(gate, testEnv, new Request(`https://localhost${path}`, { method: init.method ?? "GET", headers, body: init.body }));
  return res;
}

/** POST a revocation as alice (an admin), with a fresh token. */
export async function revoke(gate: Gate, testEnv: object, body: object): Promise<Response> {
  return call(gate, testEnv, REVOCATIONS_PATH, { method: "POST", token: await mintToken("alice"), body: JSON.stringify(body) });
}

export async function codeOf(res: Response): Promise<string> {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return ((await res.json()) as { code: string }).code;
}

/** Revocations are shared by every gate on the namespace: remove this file's between tests. */
export async function clearRevocations(): Promise<void> {
  const { keys } = await env.IDENTITY_CACHE.list({ prefix: REVOCATION_PREFIX });
  await Promise.all(keys.map((k) => env.IDENTITY_CACHE.delete(k.name)));
}

/** The JSON lines a console.log spy saw (other output skipped). */
export function logLines(spy: { mock: { calls: unknown[][] } }): LogLine[] {
  return logLinesOf(spy, { onlyJson: true });
}
