import { GateError } from "../errors.ts";

/**
 * Rule `noMethodOverrideParameter` (ATTACKS #17): Laravel, Symfony and Express's
 * `methodOverride("_method")` run the method named by a `_method` query parameter on a POST,
 * after the gate checked POST against the policy. The gate cannot know which origins honour it,
 * so a request that carries one is refused (400 `method_override`) rather than forwarded.
 * Names are compared after decoding and without case: `%5Fmethod` and `_METHOD` count.
 */
export function checkNoMethodOverride(search: string): void {
  if (search === "" || !/method/i.test(search)) return;
  for (const name of new URLSearchParams(search).keys()) {
    if (name.toLowerCase() === "_method") {
      throw new GateError("method_override", "The query names a method override (_method); the gate forwards only the method it checked.");
    }
  }
}
