import { createGateApp } from "./app";

export { createGateApp, type GateAppOptions } from "./app";
export { stsAuth, type Caller, type StsAuthOptions } from "./middleware";
export { GateProblem, PROBLEMS, type ProblemCode } from "./problem";

export default createGateApp();
