import type { CliError } from "./aws-config.ts";

/**
 * Rule `cliGateHttps`: every command that sends a token or an admin token (`revoke`,
 * `revocations`, `unrevoke`, `whoami`, `proxy`) sends it only to an https gate, or over http to
 * this machine. `usage` turns a message into the command's own usage error.
 */
export function gateUrl(text: string | undefined, usage: (message: string) => CliError): URL {
  if (text === undefined) throw usage("--gate is required");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage(`--gate is not a URL: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw usage("--gate must not carry credentials, a query or a fragment");
  }
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && isLoopback(url.hostname)) return url;
  throw usage("--gate must be an https URL (http only for a loopback host, e.g. http://127.0.0.1:8787)");
}

/** This machine by its address or its one name; not `*.localhost`, which a resolver may send elsewhere. */
function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
