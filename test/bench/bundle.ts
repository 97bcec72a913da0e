/** The benchmarks bundle their Workers as the test setup does: one helper, in test/support/. */
export { bundleWorker } from "../support/bundle";
