import type { VerifiedCaller } from "../../src/origin";

/** The gate's problem+json body (src/problem.ts). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

/** What the echo origin answers (test/echo-origin/worker.ts): the request as it arrived, and the caller it verified. */
export interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  caller: Omit<VerifiedCaller, "issuedAt" | "expiresAt"> & { issuedAt: string; expiresAt: string };
}
