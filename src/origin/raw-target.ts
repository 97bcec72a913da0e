/**
 * Rule `rawTargetBinding` (ATTACKS #33): the origin verifier compares `htu` with the request
 * target as the origin's router sees it, byte for byte, not with a normalised URL.
 *
 * A Node or Express origin routes on the raw `req.url`. Parsed as a WHATWG URL,
 * `/base/admin/../public/x` becomes `/base/public/x`: an assertion the gate issued for the
 * public path would then pass for a request that Express hands to the admin handler. So the
 * target is taken as given, and a target with a dot segment (`.` or `..`, raw or `%2e`-escaped)
 * or a `\` is refused outright: the gate serialises every URL it forwards, so it never sends one.
 */

/**
 * The request target of `url`: the text from the path on, as given. `url` is a request target
 * already (`/x?y`, Node's `req.url`) or absolute (`https://o.example/x?y`, a Worker's
 * `request.url`, which the runtime has serialised). Undefined when it is neither.
 */
export function rawRequestTarget(url: string): string | undefined {
  if (url.startsWith("/")) return url;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  if (scheme === null) return undefined;
  const rest = url.slice(scheme[0].length);
  const end = rest.search(/[/?#]/);
  if (end === -1) return "/";
  const target = rest.slice(end);
  // An absolute URL with no path ("https://o.example?x") has the empty path, which is "/".
  return target.startsWith("/") ? target.split("#")[0]! : `/${target.split("#")[0]!}`;
}

/** A dot segment, raw or escaped (`.`, `..`, `%2e`, `.%2E`, …), or a `\` in the path. */
export function isAmbiguousTarget(target: string): boolean {
  const path = target.split("?")[0]!;
  if (path.includes("\\")) return true;
  return path.split("/").some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}
