import { env } from "cloudflare:workers";
import { createStsEmulator, IDENTITIES } from "../emulator/sts";
import { decodeToken } from "./tokens";

/** How many requests carrying this token's signature reached the emulator worker. */
export async function stsCallsFor(token: string): Promise<number> {
  const signature = /X-Amz-Signature=([0-9a-f]{64})/.exec(safeDecode(token))?.[1];
  if (signature === undefined) throw new Error("token carries no signature to count");
  const res = await env.STS.fetch(`https://emulator.control/calls?signature=${signature}`);
  return ((await res.json()) as { count: number }).count;
}

function safeDecode(token: string): string {
  try {
    return decodeToken(token);
  } catch {
    return "";
  }
}

/**
 * The emulator's core run in the test's own isolate with a fixed clock, for tokens recorded
 * in the past (the emulator Worker keeps real time). Counts its calls.
 */
export function emulatorAt(now: number) {
  const calls: string[] = [];
  const requests: Request[] = [];
  const emulator = createStsEmulator({ identities: IDENTITIES, now: () => now, onCall: (c) => calls.push(c.signature) });
  const binding = {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      requests.push(request.clone());
      return emulator.fetch(request);
    },
  };
  return { binding: binding as unknown as Fetcher, calls, requests };
}
