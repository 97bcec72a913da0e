/**
 * `npm run bench -- --loop`: the gate's own cost per isolate-cache hit, without sockets or a load
 * generator. This Worker imports the gate's Worker entry (src/worker.ts, bundled with it) and
 * calls its `fetch` `n` times with one valid token; the origin is a service binding (ORIGIN) to a
 * trivial Worker. The baseline loop calls that binding directly. The harness reads this workerd's
 * CPU time around each loop, so the difference of the two is the gate's own cost per hit.
 *
 *   GET /loop?mode=base|gate|gate-nolog|apps50|apps50-nolog&n=3000   with X-Bench-Token: <token>
 *
 * `-nolog` turns `console.log` into a no-op for the loop (an ablation: what delivering the
 * decision line costs). `apps50` is the gate with 50 apps, the request for the last one.
 */
import gate from "../../src/worker";
import { benchApps, BENCH_POLICY } from "./apps";
import { BENCH_AUDIENCE } from "./settings";

interface LoopEnv {
  ORIGIN: Fetcher;
  STS: Fetcher;
  IDENTITY_CACHE: KVNamespace;
}

// The STS and ORIGIN bindings are development wiring, which the gate serves only on localhost.
const HOST = "127.0.0.1";
const ORIGIN_URL = "http://origin.bench.internal";
const URL_OF_HIT = `http://${HOST}/bench?x=1`;

/** One env object per gate, made once: the gate caches its parsed configuration per env object. */
const envs = new Map<string, object>();
function gateEnv(env: LoopEnv, apps: boolean): object {
  const key = apps ? "apps50" : "single";
  let e = envs.get(key);
  if (e === undefined) {
    const shared = { IDENTITY_CACHE: env.IDENTITY_CACHE, STS: env.STS, ORIGIN: env.ORIGIN };
    e = apps ? { ...shared, APPS: benchApps(50, HOST, ORIGIN_URL) } : { ...shared, AUDIENCE: BENCH_AUDIENCE, ORIGIN_URL, POLICY: BENCH_POLICY };
    envs.set(key, e);
  }
  return e;
}

export default {
  async fetch(request: Request, env: LoopEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const mode = url.searchParams.get("mode") ?? "gate";
    const n = Number(url.searchParams.get("n") ?? "3000");
    const token = request.headers.get("x-bench-token") ?? "";
    const headers = { authorization: `Bearer ${token}` };
    const statuses: Record<number, number> = {};
    const count = (status: number) => (statuses[status] = (statuses[status] ?? 0) + 1);
    const log = console.log;
    if (mode.endsWith("-nolog")) console.log = () => {};
    try {
      if (mode === "base") {
        for (let i = 0; i < n; i++) {
          const r = await env.ORIGIN.fetch(new Request(URL_OF_HIT, { headers }));
          await r.arrayBuffer();
          count(r.status);
        }
      } else {
        const e = gateEnv(env, mode.startsWith("apps50"));
        for (let i = 0; i < n; i++) {
          const r = await gate.fetch(new Request(URL_OF_HIT, { headers }), e, ctx);
          await r.arrayBuffer();
          count(r.status);
        }
      }
    } finally {
      console.log = log;
    }
    return Response.json({ mode, n, statuses });
  },
} satisfies ExportedHandler<LoopEnv>;
