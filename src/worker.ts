/**
 * The Worker's entry (`main` in wrangler.toml): the gate, configured from its env. Kept apart
 * from the library entry (src/index.ts), which builds nothing when imported.
 */
import { createGateApp } from "./gate/dispatch.ts";

export default createGateApp();
