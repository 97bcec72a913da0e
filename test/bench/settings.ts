/** Shared by the harness and the bench-only gate entry (a Worker module may export only handlers). */

/** The isolate cache of the gate in the "token in KV only" scenario (test/bench/gate-small-cache.ts). */
export const KV_SCENARIO_MEMORY_ENTRIES = 16;
/** The audience of the benchmark's tokens (test/bench/tokens.ts); here so Workers can import it without the minting code. */
export const BENCH_AUDIENCE = "sts-gate-bench";
