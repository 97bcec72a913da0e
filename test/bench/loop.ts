/**
 * `npm run bench -- --loop`: the gate's own cost per isolate-cache hit, without sockets or a load
 * generator. This Worker imports the gate's Worker entry (src/worker.ts, bundled with it) and
 * calls its `fetch` `n` times with one valid token; the origin is a service binding (ORIGIN) to a
 * trivial Worker. The baseline loop calls that binding directly. The harness reads this workerd's
 * CPU time around each loop, so the difference of the two is the gate's own cost per hit.
 *
 *   GET /loop?mode=base|base-log|gate|gate-nolog|quiet|apps50|apps50-nolog|b|b-<mode>&n=3000
 *   with X-Bench-Token: <token>
 *
 * `-nolog` turns `console.log` into a no-op for the loop (an ablation: what delivering the
 * decision line costs); `base-log` is the baseline with one console.log per hit (what a line
 * costs by itself). `quiet` is the gate with LOG_ALLOWED="false" (the operator's switch: no allow
 * line, none built). `apps50` is the gate with 50 apps, the request for the last one. `b-<mode>`
 * is that mode with the gate of `--loop-variant` (loop-variant.ts), for A/B ablations.
 */
import gate from "../../src/worker";
import variant from "./loop-variant";
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
function gateEnv(env: LoopEnv, kind: "single" | "apps50" | "quiet"): object {
  let e = envs.get(kind);
  if (e === undefined) {
    const shared = { IDENTITY_CACHE: env.IDENTITY_CACHE, STS: env.STS, ORIGIN: env.ORIGIN };
    const single = { ...shared, AUDIENCE: BENCH_AUDIENCE, ORIGIN_URL, POLICY: BENCH_POLICY };
    e = kind === "apps50" ? { ...shared, APPS: benchApps(50, HOST, ORIGIN_URL) } : kind === "quiet" ? { ...single, LOG_ALLOWED: "false" } : single;
    envs.set(kind, e);
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
      if (mode === "base" || mode === "base-log") {
        // `base-log`: the baseline plus one console.log of a decision-sized line, i.e. what one line costs by itself.
        const line = `{"event":"bench","pad":"${"x".repeat(440)}"}`;
        for (let i = 0; i < n; i++) {
          const r = await env.ORIGIN.fetch(new Request(URL_OF_HIT, { headers }));
          await r.arrayBuffer();
          count(r.status);
          if (mode === "base-log") console.log(line);
        }
      } else {
        // `b-<mode>`: the same mode with the variant's gate.
        const own = mode.startsWith("b-") ? mode.slice(2) : mode === "b" ? "gate" : mode;
        const e = gateEnv(env, own.startsWith("apps50") ? "apps50" : own === "quiet" ? "quiet" : "single");
        const which = own === mode ? gate : variant;
        for (let i = 0; i < n; i++) {
          const r = await which.fetch(new Request(URL_OF_HIT, { headers }), e, ctx);
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
