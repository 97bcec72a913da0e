import type { CallerIdentity } from "./identity.ts";

/**
 * Rule `denialWithoutPolicy` (ATTACKS #25): a 403 names the caller, the request and (in its
 * code) the kind of refusal, and nothing of the policy. Anyone holding any valid identity can
 * read a denial, so quoting deny patterns, rule names, path globs, accounts or pins would map
 * the policy for them. The full reason goes to the decision log, for the operator.
 */
export function denialDetail(identity: CallerIdentity, request: { method: string; path: string }): string {
  return `${identity.principal} (${identity.type}) is not allowed to ${request.method} ${shorten(request.path)}.`;
}

function shorten(path: string): string {
  return path.length <= 200 ? path : `${path.slice(0, 200)}…`;
}
