import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import type { GateWorker } from "../../src/gate/dispatch";

/** The test gate's env (wrangler.toml [env.test]) with STS and the echo origin counted, not replaced. */
export function countedEnv(overrides: Record<string, unknown> = {}) {
  const calls = { sts: 0, origin: 0 };
  const testEnv = {
    ...env,
    STS: { fetch: (input: RequestInfo, init?: RequestInit) => (calls.sts++, env.STS.fetch(input, init)) },
    ORIGIN: { fetch: (input: RequestInfo, init?: RequestInit) => (calls.origin++, env.ORIGIN.fetch(input, init)) },
    ...overrides,
  };
  return { env: testEnv, calls };
}

/** A gate (`createGateApp()`) or any Worker-shaped app (a Hono app with `stsAuth`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Servable = GateWorker | { fetch(request: Request, env: any, ctx: ExecutionContext): Response | Promise<Response> };

/** One request through a gate, with a real execution context whose waitUntil work is awaited. */
export async function through(gate: Servable, testEnv: object, url: string | Request, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await (gate as GateWorker).fetch(new Request(url, init), testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export type LogLine = Record<string, unknown>;

/**
 * Captures console.log, silenced, until `spy.mockRestore()` (or the test's restoreAllMocks):
 * `raw` holds each line as logged.
 */
export function captureLog() {
  const raw: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => void raw.push(String(line)));
  return { raw, spy };
}

/**
 * The lines a console.log spy saw, parsed as JSON. With `onlyJson`, lines that are not JSON
 * are skipped instead of failing the test.
 */
export function logLines<T = LogLine>(spy: { mock: { calls: unknown[][] } }, options: { onlyJson?: boolean } = {}): T[] {
  return spy.mock.calls.flatMap((c) => {
    try {
      return [JSON.parse(String(c[0])) as T];
    } catch (e) {
      if (options.onlyJson) return [];
      throw e;
    }
  });
}

/** The decision lines a console.log spy saw. */
export function decisionLines(spy: { mock: { calls: unknown[][] } }): LogLine[] {
  return logLines(spy).filter((l) => l.event === "decision");
}

/** Runs `run` and returns what it logged, parsed, and its decision lines. */
export async function linesDuring<T>(run: () => Promise<T>): Promise<{ result: T; lines: LogLine[]; decisions: LogLine[] }> {
  const { raw, spy } = captureLog();
  try {
    const result = await run();
    const lines = raw.map((l) => JSON.parse(l) as LogLine);
    return { result, lines, decisions: lines.filter((l) => l.event === "decision") };
  } finally {
    spy.mockRestore();
  }
}

/** A problem+json answer's code, or undefined for any other answer. */
export async function problemCode(res: Response): Promise<string | undefined> {
  if (res.headers.get("content-type") !== "application/problem+json") return undefined;
  return ((await res.clone().json()) as { code: string }).code;
}


export type { Echo, Problem } from "./types";
