/**
 * Rule `sharedInflightCalls`: concurrent requests for one key share one piece of work, so a
 * burst of requests carrying one new token costs one KV read and one STS call. `shared` tells a
 * waiter that it did not do the work itself.
 */
export class SingleFlight<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  async run(key: string, work: () => Promise<T>): Promise<{ value: T; shared: boolean }> {
    const pending = this.inflight.get(key);
    if (pending) return { value: await pending, shared: true };
    const started = work();
    this.inflight.set(key, started);
    try {
      return { value: await started, shared: false };
    } finally {
      this.inflight.delete(key);
    }
  }
}
