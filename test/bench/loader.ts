/**
 * The load generator, in its own process (forked by run.ts) so that its clock and event loop
 * are not shared with Miniflare, which parses every log line workerd prints. Holds the token
 * pools and drives autocannon on the parent's command, over IPC.
 */
import autocannon from "autocannon";
import process from "node:process";
import { distinctMint, junkAuthorizations, mintBenchToken } from "./tokens";

/** `null` means: send no Authorization header. */
type Header = string | null;

interface Pool {
  headers: Header[];
  next: number;
  /** Cyclic pools repeat; the others hand out each entry once, then the run stops. */
  cyclic: boolean;
}

export type LoaderCommand =
  | { type: "mint"; id: number; pool: string; from: number; count: number; start: number; audience?: string; cyclic: boolean }
  | { type: "junk"; id: number; pool: string; start: number }
  | { type: "load"; id: number; url: string; pool: string; connections: number; duration?: number; amount?: number; headers?: Record<string, string> }
  | { type: "exit" };

export interface LoadResult {
  completed: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Entries of the pool handed to requests (for a one-shot pool: distinct tokens sent at most). */
  handedOut: number;
  exhausted: boolean;
}

export type LoaderReply =
  | { type: "ready" }
  | { type: "done"; id: number; size?: number; result?: LoadResult }
  | { type: "failed"; id: number; message: string };

const pools = new Map<string, Pool>();

function poolFor(name: string, cyclic: boolean): Pool {
  let pool = pools.get(name);
  if (pool === undefined) {
    pool = { headers: [], next: 0, cyclic };
    pools.set(name, pool);
  }
  return pool;
}

/** Tokens `from` … `from + count - 1` of the run (the parent allocates indices, so pools never share a token). */
async function mint(command: Extract<LoaderCommand, { type: "mint" }>): Promise<number> {
  const pool = poolFor(command.pool, command.cyclic);
  const tokens: string[] = [];
  const BATCH = 256;
  for (let done = 0; done < command.count; done += BATCH) {
    const n = Math.min(BATCH, command.count - done);
    const batch = await Promise.all(
      Array.from({ length: n }, (_, k) => mintBenchToken({ ...distinctMint(command.from + done + k, command.start), audience: command.audience })),
    );
    tokens.push(...batch);
  }
  for (const token of tokens) pool.headers.push(`Bearer ${token}`);
  return pool.headers.length;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

async function load(command: Extract<LoaderCommand, { type: "load" }>): Promise<LoadResult> {
  const pool = pools.get(command.pool);
  if (pool === undefined) throw new Error(`no pool ${command.pool}`);
  const startedAt = pool.next;
  let exhausted = false;
  let latencies = new Float64Array(65_536);
  let count = 0;
  const statuses: Record<string, number> = {};

  const instance = autocannon({
    url: command.url,
    connections: command.connections,
    ...(command.amount !== undefined ? { amount: command.amount } : { duration: command.duration ?? 5 }),
    timeout: 10,
    requests: [
      {
        method: "GET",
        setupRequest: (request: autocannon.Request) => {
          let header: Header;
          if (pool.cyclic) {
            header = pool.headers[pool.next % pool.headers.length]!;
            pool.next++;
          } else if (pool.next < pool.headers.length) {
            header = pool.headers[pool.next++]!;
          } else {
            // Never send a token twice from a one-shot pool: stop instead (the parent tops up).
            if (!exhausted) {
              exhausted = true;
              instance.stop();
            }
            // Anything still sent goes without a token: a 401, never a second use of one.
            header = null;
          }
          const headers: Record<string, string> = { ...command.headers, ...(header === null ? {} : { authorization: header }) };
          return { ...request, headers };
        },
      },
    ],
  });
  instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (count === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[count++] = responseTime;
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  const sorted = latencies.subarray(0, count).sort();
  return {
    completed: count,
    seconds: result.duration,
    rps: count / result.duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    handedOut: pool.next - startedAt,
    exhausted,
  };
}

function reply(message: LoaderReply): void {
  process.send!(message);
}

process.on("message", (raw) => {
  const command = raw as LoaderCommand;
  if (command.type === "exit") {
    process.disconnect();
    return;
  }
  const work = async (): Promise<LoaderReply> => {
    switch (command.type) {
      case "mint":
        return { type: "done", id: command.id, size: await mint(command) };
      case "junk": {
        const pool = poolFor(command.pool, true);
        pool.headers.push(...(await junkAuthorizations(command.start)).map((h) => h ?? null));
        return { type: "done", id: command.id, size: pool.headers.length };
      }
      case "load":
        return { type: "done", id: command.id, result: await load(command) };
    }
  };
  work().then(reply, (error: unknown) => reply({ type: "failed", id: command.id, message: error instanceof Error ? error.stack ?? error.message : String(error) }));
});

reply({ type: "ready" });
