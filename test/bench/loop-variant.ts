/**
 * The second gate of the loop (modes `b`, `b-nolog`): this repository's, unless `npm run bench --
 * --loop --loop-variant DIR` bundles DIR/src/worker.ts here instead (a checkout with one change),
 * so that an ablation and the gate it changes are measured in the same workerd, round by round.
 */
export { default } from "../../src/worker";
