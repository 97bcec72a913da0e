/**
 * Bench-only entry for the "token in KV only" scenario: the gate exactly as src/worker.ts builds
 * it, but with an in-isolate identity cache of 16 entries instead of 10 000. The harness cycles
 * 256 tokens through it, so every request misses the isolate cache and is answered from KV
 * (which the gate-warm Worker, another isolate, filled through STS). Nothing else differs.
 */
import { createGateApp } from "../../src/gate/dispatch";
import { IdentityCache } from "../../src/verify/isolate-cache";
import { KV_SCENARIO_MEMORY_ENTRIES } from "./settings";

export default createGateApp({ cache: new IdentityCache(KV_SCENARIO_MEMORY_ENTRIES) });
