/** Shared by the harness and the bench-only gate entry (a Worker module may export only handlers). */

/** The isolate cache of the gate in the "token in KV only" scenario (test/bench/gate-small-cache.ts). */
export const KV_SCENARIO_MEMORY_ENTRIES = 16;
