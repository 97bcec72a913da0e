import { GateError } from "../errors.ts";

/**
 * Rule `noMethodOverrideParameter` (ATTACKS #17, #31): Laravel, Symfony and Express's
 * `methodOverride("_method")` run the method named by a `_method` query parameter on a POST,
 * after the gate checked POST against the policy. The gate cannot know which origins honour it,
 * so a request that carries one is refused (400 `method_override`) rather than forwarded.
 *
 * A name counts when it is `_method` after decoding and without case (`%5Fmethod`, `_METHOD`),
 * or after PHP's own name mangling (see {@link phpParameterName}): `.method`, ` _method`,
 * `_method%00` and `_method[]` all reach a PHP framework as `_method`.
 */
export function checkNoMethodOverride(search: string): void {
  // The scan is skipped only when no spelling can be there: `_me%74hod` hides its letters.
  if (search === "" || !(search.includes("%") || /method/i.test(search))) return;
  for (const name of new URLSearchParams(search).keys()) {
    if (isMethodOverrideName(name)) {
      throw new GateError("method_override", "The query names a method override (_method); the gate forwards only the method it checked.");
    }
  }
}

const OVERRIDE = "_method";

/** Whether a decoded parameter name reads as `_method` to the gate, or to PHP. */
export function isMethodOverrideName(decoded: string): boolean {
  return decoded.toLowerCase() === OVERRIDE || phpParameterName(decoded).toLowerCase() === OVERRIDE;
}

/**
 * Rule `phpParameterName`: the key PHP files a decoded query parameter under in `$_GET`
 * (php_register_variable_ex). It drops leading spaces, ends the name at NUL (C strings), turns `.`
 * and space into `_`, and reads `[` as the start of an array index, so `_method[x]` is `_method`.
 * A `[` that never closes becomes `_` in PHP; cutting there as well reads it as `_method`, which is
 * stricter, never looser.
 */
export function phpParameterName(decoded: string): string {
  let name = decoded.replace(/^ +/, "");
  const nul = name.indexOf("\0");
  if (nul !== -1) name = name.slice(0, nul);
  const bracket = name.indexOf("[");
  if (bracket !== -1) name = name.slice(0, bracket);
  return name.replace(/[. ]/g, "_");
}
