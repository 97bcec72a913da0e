import { createGateApp } from "./app";

export { createGateApp, type GateAppOptions } from "./app";
export { gateAuth, type Caller, type GateAuthOptions } from "./middleware";
export { GateProblem, PROBLEMS, type ProblemCode } from "./problem";

export default createGateApp();
