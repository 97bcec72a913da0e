import { createGateApp } from "./app.ts";

export { createGateApp, type GateAppOptions } from "./app.ts";
export { stsAuth, type Caller, type StsAuthOptions } from "./middleware.ts";
export { GateProblem, PROBLEMS, type ProblemCode } from "./problem.ts";

export default createGateApp();
