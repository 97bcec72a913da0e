/**
 * Rule `gatePrefix`: everything under /.well-known/sts-gate/ belongs to the gate. Nothing there is
 * ever forwarded to the origin; a path the gate does not know answers 404.
 */
export const GATE_PREFIX = "/.well-known/sts-gate";
export const REVOCATIONS_PATH = `${GATE_PREFIX}/revocations`;

/**
 * Whether a request path is the gate's. Compared the way the most lenient origin would route it,
 * so that no spelling of the prefix slips past the gate to an origin that reads it as the prefix:
 * - percent-decoded (`/.well-known/%73ts-gate/…`);
 * - each segment cut at `;` (`/.well-known/sts-gate;x=1/…`: servlet containers drop path
 *   parameters) and at NUL (`sts-gate%00`: C-string origins stop there);
 * - trailing dots dropped from each segment (`sts-gate.`: Windows and IIS drop them);
 * - Unicode compatibility-folded and lower-cased (`/.WELL-KNOWN/`, and `ſ`, U+017F, which NFKC
 *   and some origins fold to `s`);
 * - repeated slashes read as one (`//.well-known//sts-gate/…`).
 * This is deliberately wider than any one origin: a false match costs a 404 at an odd path, a
 * missed one forwards the gate's own API to the origin.
 */
export function isGatePath(pathname: string): boolean {
  const folded = foldPath(pathname);
  return folded === GATE_PREFIX || folded.startsWith(`${GATE_PREFIX}/`);
}

/**
 * A path as the most lenient origin reads it (see isGatePath): escapes decoded one run at a time,
 * so that one malformed escape (`%zz`) leaves the others decoded, as lenient decoders (Python's
 * unquote, PHP) do; NFKC-folded; each segment cut at `;` and at NUL and stripped of trailing dots;
 * lower-cased; repeated slashes merged.
 */
export function foldPath(pathname: string): string {
  const decoded = pathname.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
  return decoded
    .normalize("NFKC")
    .split("/")
    .map((segment) => segment.split(";")[0]!.split("\0")[0]!.replace(/\.+$/, ""))
    .join("/")
    .toLowerCase()
    .replace(/\/{2,}/g, "/");
}
