/** The gate's version, as package.json says (a test keeps the two equal); reported by the health check. */
export const GATE_VERSION = "0.1.0";
