/**
 * Bench-only: Miniflare's local KV read, alone. Per request it reads one of the entries the
 * gate wrote (`get(key, "json")`, as the gate's readKv does, cycling the keys so that none is
 * read twice in a row) and then forwards to the origin exactly as the proxy does. Its workerd
 * CPU per request, less the proxy's, is what one local KV read costs: the share of the "token
 * in KV only" scenario that is Miniflare's, not the gate's.
 */
interface ProbeEnv {
  IDENTITY_CACHE: KVNamespace;
  ORIGIN_URL: string;
}

let keys: Promise<string[]> | undefined;
let next = 0;

async function listKeys(kv: KVNamespace): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv.list(cursor === undefined ? {} : { cursor });
    names.push(...page.keys.map((k) => k.name));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor !== undefined);
  return names;
}

export default {
  async fetch(request: Request, env: ProbeEnv): Promise<Response> {
    // Listed once per isolate (during the warm-up), never in a measured request.
    keys ??= listKeys(env.IDENTITY_CACHE);
    const all = await keys;
    if (all.length === 0) return new Response("kv-probe: the namespace is empty", { status: 500 });
    const entry = await env.IDENTITY_CACHE.get(all[next++ % all.length]!, "json");
    if (entry === null) return new Response("kv-probe: entry missing", { status: 500 });
    const incoming = new URL(request.url);
    const target = `${env.ORIGIN_URL.replace(/\/+$/, "")}${incoming.pathname}${incoming.search}`;
    return fetch(target, { method: request.method, headers: request.headers, redirect: "manual" });
  },
} satisfies ExportedHandler<ProbeEnv>;
