/**
 * The one deadline helper: races work against a timer, and on expiry aborts the work's signal
 * and either rejects with `onTimeout()` or resolves to `fallback`. The timer is always cleared,
 * because in workerd a pending timer keeps the request's context alive.
 */
export interface Deadline<T> {
  ms: number;
  /** What a late answer becomes: thrown (reject), or returned instead (fallback). */
  onTimeout: { reject: () => unknown } | { fallback: T };
  /** Aborted when the deadline passes, so the work (a fetch, an upload) stops too. */
  controller?: AbortController;
}

export async function withDeadline<T>(work: Promise<T>, deadline: Deadline<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      deadline.controller?.abort();
      if ("reject" in deadline.onTimeout) reject(deadline.onTimeout.reject());
      else resolve(deadline.onTimeout.fallback);
    }, deadline.ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
