import { expect } from "vitest";
import { CallerVerificationError } from "../../src/origin";

/** The code of the CallerVerificationError a verification rejects with (and that it rejects). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CallerVerificationError);
  return (error as CallerVerificationError).code;
}
