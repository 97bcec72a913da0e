import { describe, expect, it } from "vitest";
import { isGatePath } from "../../src/revocation/paths";

/** As the Worker sees a path: after the URL parser (dot segments resolved, escapes kept). */
const parsed = (path: string) => new URL(`https://gate.invalid${path}`).pathname;

describe("gatePrefix: isGatePath reads every spelling of the prefix as the gate's", () => {
  it.each([
    ["the prefix itself", "/.well-known/sts-gate"],
    ["a path under it", "/.well-known/sts-gate/revocations"],
    ["another case", "/.WELL-KNOWN/Sts-Gate/revocations"],
    ["an escape", "/.well-known/%73ts-gate/revocations"],
    ["repeated slashes", "//.well-known//sts-gate/revocations"],
    ["a ';' after the segment (servlet path parameter)", "/.well-known/sts-gate;/revocations"],
    ["a ';' parameter with a value", "/.well-known/sts-gate;x=1/revocations"],
    ["a ';' on the first segment", "/.well-known;/sts-gate/revocations"],
    ["an escaped ';'", "/.well-known/sts-gate%3b/revocations"],
    ["a NUL", "/.well-known/sts-gate%00/revocations"],
    ["a NUL and more", "/.well-known/sts-gate%00x/revocations"],
    ["a trailing dot", "/.well-known/sts-gate./revocations"],
    ["trailing dots on both", "/.well-known../sts-gate../revocations"],
    ["a long s (U+017F), which NFKC folds to s", "/.well-known/%C5%BFts-gate/revocations"],
    ["a fullwidth letter", "/.well-known/%EF%BD%93ts-gate/revocations"],
    ["a segment of dots before it", "/.../.well-known/sts-gate/revocations"],
    ["a parameter-only segment before it", "/;x/.well-known/sts-gate/revocations"],
    ["an escaped letter beside a malformed escape", "/.well-known/%73ts-gate/revocations/%zz"],
    ["a malformed escape before it", "/%zz/../.well-known/%73ts-gate/x"],
  ])("%s: %s", (_why, path) => {
    expect(isGatePath(parsed(path))).toBe(true);
  });

  it.each([["/"], ["/.well-known/jwks.json"], ["/.well-known/sts-gatex/y"], ["/x/.well-known/sts-gate/revocations"], ["/.well-known/sts/gate"], ["/sts-gate"]])(
    "%s is not the gate's",
    (path) => {
      expect(isGatePath(parsed(path))).toBe(false);
    },
  );
});
