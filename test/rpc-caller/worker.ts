/**
 * A second Worker for the tests: it binds the gate's `StsGate` entrypoint, as another team's
 * Worker would (`services = [{ binding = "GATE", service = "sts-gate", entrypoint = "StsGate" }]`),
 * passes its own incoming request to `verify`, and answers with the verdict as JSON.
 */
interface GateRpc {
  verify(request: Request): Promise<unknown>;
}

export default {
  async fetch(request: Request, env: { GATE: GateRpc }): Promise<Response> {
    const verdict = await env.GATE.verify(request);
    return Response.json(verdict);
  },
};
