/** The library entry (`sts-gate`): importing it has no side effect; the Worker is src/worker.ts. */
export { createGateApp, type GateAppOptions, type GateWorker } from "./gate/dispatch.ts";
export { stsAuth, type Caller, type StsAuthOptions } from "./middleware.ts";
export { GateProblem, PROBLEMS, type ProblemCode } from "./problem.ts";
