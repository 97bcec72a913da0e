/**
 * Rule `gatePrefix`: everything under /.well-known/sts-gate/ belongs to the gate. Nothing there is
 * ever forwarded to the origin; a path the gate does not know answers 404.
 */
export const GATE_PREFIX = "/.well-known/sts-gate";
export const REVOCATIONS_PATH = `${GATE_PREFIX}/revocations`;

/**
 * Whether a request path is the gate's. Compared after percent-decoding, regardless of case and
 * with repeated slashes read as one, so that no spelling of the prefix (`/.well-known/%73ts-gate/…`,
 * `/.WELL-KNOWN/…`, `//.well-known//sts-gate/…`) slips past the gate to an origin that decodes,
 * folds case or merges slashes before routing.
 */
export function isGatePath(pathname: string): boolean {
  let decoded = pathname;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    // A malformed escape: compare the raw text.
  }
  decoded = decoded.replace(/\/{2,}/g, "/");
  const folded = decoded.toLowerCase();
  return folded === GATE_PREFIX || folded.startsWith(`${GATE_PREFIX}/`);
}
