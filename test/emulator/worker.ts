// The STS emulator as a Worker, plus a control API on the reserved host `emulator.control` so
// tests can ask whether a given token ever reached "STS" (e.g. to prove the gate rejected it locally).
import { createStsEmulator, IDENTITIES } from "./sts";

const CONTROL_HOST = "emulator.control";
const MAX_TRACKED_SIGNATURES = 100_000;

// Module-level on purpose: counts must survive across requests to the same isolate.
const callsBySignature = new Map<string, number>();
let totalCalls = 0;

const emulator = createStsEmulator({
  identities: IDENTITIES,
  onCall({ signature }) {
    callsBySignature.set(signature, (callsBySignature.get(signature) ?? 0) + 1);
    if (callsBySignature.size > MAX_TRACKED_SIGNATURES) {
      // Map iterates in insertion order, so the first key is the oldest.
      const oldest = callsBySignature.keys().next().value;
      if (oldest !== undefined) callsBySignature.delete(oldest);
    }
  },
});

// A counter shared by every test file (they run in separate isolates, this Worker is one):
// tests use it to make tokens that no other file can have minted.
let sequence = 0;

function control(request: Request): Response {
  const url = new URL(request.url);
  if (request.method === "POST" && url.pathname === "/sequence") return Response.json({ next: sequence++ });
  if (request.method !== "GET" || url.pathname !== "/calls") {
    return Response.json({ error: "control API: GET /calls[?signature=<64 hex>], POST /sequence" }, { status: 404 });
  }
  const signature = url.searchParams.get("signature");
  if (signature === null) return Response.json({ total: totalCalls });
  if (!/^[0-9a-f]{64}$/.test(signature)) {
    return Response.json({ error: "signature must be 64 lowercase hex characters" }, { status: 400 });
  }
  return Response.json({ count: callsBySignature.get(signature) ?? 0 });
}

export default {
  async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).host === CONTROL_HOST) return control(request);
    // `total` counts every STS request, even one too malformed to carry a signature.
    totalCalls++;
    return emulator.fetch(request);
  },
} satisfies ExportedHandler;
