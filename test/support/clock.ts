/**
 * A clock the test moves: pass `now` where the code under test takes an injected clock, then
 * set `t` (or `advance`) to move it. Nothing reads the wall clock after `start`.
 */
export function clock(start = Date.now()) {
  const c = {
    t: start,
    now: () => c.t,
    advance: (ms: number) => (c.t += ms),
  };
  return c;
}
