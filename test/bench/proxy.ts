/**
 * The benchmark's baseline: a Worker that only forwards to the origin, the way the gate does
 * after it has admitted a request (same method, path and query appended to ORIGIN_URL, headers
 * and body passed through, redirects not followed), with no authentication at all.
 */
interface ProxyEnv {
  ORIGIN_URL: string;
}

export default {
  async fetch(request: Request, env: ProxyEnv): Promise<Response> {
    const incoming = new URL(request.url);
    const target = `${env.ORIGIN_URL.replace(/\/+$/, "")}${incoming.pathname}${incoming.search}`;
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    return fetch(target, { method: request.method, headers: request.headers, body: hasBody ? request.body : null, redirect: "manual" });
  },
} satisfies ExportedHandler<ProxyEnv>;
