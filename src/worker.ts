/**
 * The Worker's entry (`main` in wrangler.toml): the gate, configured from its env. Kept apart
 * from the library entry (src/index.ts), which builds nothing when imported.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { createGateApp, type RpcVerdict } from "./gate/dispatch.ts";

const gate = createGateApp();

export default gate;

/**
 * For other Workers: bind it with
 * `services = [{ binding = "GATE", service = "sts-gate", entrypoint = "StsGate" }]` and call
 * `await env.GATE.verify(request)`. The same verifier and policy as over HTTP, deciding on the
 * request's Authorization, method, path and host; resolves to a plain verdict, never throws.
 */
export class StsGate extends WorkerEntrypoint {
  async verify(request: Request): Promise<RpcVerdict> {
    return gate.verify(request, this.env as object, this.ctx);
  }
}
