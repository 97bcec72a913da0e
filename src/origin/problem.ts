import { CALLER_VERIFICATION_CODES, type CallerVerificationError } from "./verify.ts";

import { PROBLEM_CONTENT_TYPE, problemType } from "../protocol.ts";

export { PROBLEM_CONTENT_TYPE };

/** The RFC 9457 body for a refusal, in the same shape as the gate's own problems. */
export function callerProblem(error: CallerVerificationError): { body: string; status: 401 | 503; headers: Record<string, string> } {
  const { title } = CALLER_VERIFICATION_CODES[error.code];
  const body = JSON.stringify({
    type: problemType(error.code),
    title,
    status: error.status,
    detail: error.message,
    code: error.code,
  });
  const headers: Record<string, string> = { "content-type": PROBLEM_CONTENT_TYPE, "cache-control": "no-store" };
  // RFC 9110 §15.5.2: a 401 carries a challenge. The scheme names what is missing.
  if (error.status === 401) headers["www-authenticate"] = `Caller-Assertion error="${error.code}"`;
  else headers["retry-after"] = "5";
  return { body, status: error.status, headers };
}
