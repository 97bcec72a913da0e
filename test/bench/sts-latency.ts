/**
 * Bench-only: the STS emulator with added latency. Waits DELAY_MS, then forwards the request
 * unchanged to the emulator Worker (service binding UPSTREAM), which counts and verifies it
 * as usual. test/emulator/ is not modified.
 */
interface LatencyEnv {
  UPSTREAM: Fetcher;
  DELAY_MS: string;
}

export default {
  async fetch(request: Request, env: LatencyEnv): Promise<Response> {
    await new Promise((resolve) => setTimeout(resolve, Number(env.DELAY_MS)));
    return env.UPSTREAM.fetch(request);
  },
} satisfies ExportedHandler<LatencyEnv>;
