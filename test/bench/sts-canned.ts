/**
 * Bench-only, for the diagnostic scenarios (`npm run bench -- --diagnose`): an "STS" that
 * answers every request at once with alice's GetCallerIdentity result and verifies nothing, so
 * that the emulator's SigV4 work (which in production is AWS's CPU, not the gate's) does not
 * share workerd's one thread with the gate. Counts calls on the emulator's control API.
 */
let total = 0;

const ANSWER = JSON.stringify({
  GetCallerIdentityResponse: {
    GetCallerIdentityResult: { Arn: "arn:aws:iam::111122223333:user/alice", Account: "111122223333", UserId: "AIDAEMULATORALICE0001" },
    ResponseMetadata: { RequestId: "00000000-0000-4000-8000-000000000000" },
  },
});

export default {
  async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).host === "emulator.control") return Response.json({ total });
    total++;
    return new Response(ANSWER, { headers: { "content-type": "application/json" } });
  },
} satisfies ExportedHandler;
