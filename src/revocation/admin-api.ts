import { log } from "../log.ts";
import { GateProblem } from "../problem.ts";
import { parseRevocationRequest, type RevocationEntry } from "./entry.ts";
import { isGatePath, REVOCATIONS_PATH } from "./paths.ts";
import type { RevocationSnapshot } from "./snapshot.ts";

/** A revocation request is a few hundred bytes; anything much larger is not one. */
export const MAX_ADMIN_BODY_BYTES = 16 * 1024;

export type AdminRoute = { action: "list" } | { action: "revoke" } | { action: "unrevoke"; id: string };

/** The admin who made the request, as stsAuth verified them. */
export interface AdminActor {
  arn: string;
  accessKeyId: string;
}

/** A request under the gate's prefix that names no action: refused before authentication. */
export interface GateRouteRefusal {
  refusal: GateProblem;
  /** For 405: the methods the path takes. */
  allow?: string;
}

/**
 * Which admin action a request to the gate's own prefix is, decided before authentication: an
 * unknown path is 404 and a known path with another method 405, token or not.
 */
export function routeGateRequest(method: string, pathname: string): AdminRoute | GateRouteRefusal {
  if (pathname === REVOCATIONS_PATH) {
    if (method === "GET") return { action: "list" };
    if (method === "POST") return { action: "revoke" };
    return methodNotAllowed("GET, POST");
  }
  const id = pathname.startsWith(`${REVOCATIONS_PATH}/`) ? pathname.slice(REVOCATIONS_PATH.length + 1) : undefined;
  if (id !== undefined && id !== "" && !id.includes("/")) {
    if (method === "DELETE") return { action: "unrevoke", id };
    return methodNotAllowed("DELETE");
  }
  if (!isGatePath(pathname)) throw new Error("routeGateRequest called for a path outside the gate's prefix");
  return { refusal: new GateProblem("not_found", "The gate has nothing at this path.") };
}

function methodNotAllowed(allow: string): GateRouteRefusal {
  return { refusal: new GateProblem("method_not_allowed", `Allowed here: ${allow}.`), allow };
}

/** The answer to a refused route: its problem+json, with `Allow` for a 405. */
export function refusedRouteResponse({ refusal, allow }: GateRouteRefusal): Response {
  const res = refusal.getResponse();
  if (allow !== undefined) res.headers.set("allow", allow);
  return res;
}

/** The admin API, for an admin stsAuth has already verified: POST, GET and DELETE of revocations. */
export async function handleAdminRequest(route: AdminRoute, request: Request, actor: AdminActor, snapshot: RevocationSnapshot, requestId?: string): Promise<Response> {
  // The request id joins the action to its decision line and to the X-Request-Id the admin got.
  const who = { actor: actor.arn, actorAccessKeyId: actor.accessKeyId, ...(requestId !== undefined && { requestId }) };
  // Refusals are thrown (GateProblem), so the decision line carries their code and status.
  switch (route.action) {
    case "revoke": {
      const now = snapshot.clock();
      const parsed = parseRevocationRequest(await boundedText(request), now);
      if (!parsed.ok) throw new GateProblem(parsed.code, parsed.detail);
      const entry: RevocationEntry = {
        id: crypto.randomUUID(),
        ...parsed.request,
        createdAt: new Date(now).toISOString(),
        createdBy: actor.arn,
      };
      await unavailableOnFailure(snapshot.store.put(entry, now));
      snapshot.added(entry);
      log({ event: "admin", level: "info", action: "revoke", ...who, entry });
      return json(entry, 201, { location: `${REVOCATIONS_PATH}/${entry.id}` });
    }
    case "list": {
      const revocations = await activeEntries(snapshot);
      log({ event: "admin", level: "info", action: "list", ...who, count: revocations.length });
      return json({ revocations }, 200);
    }
    case "unrevoke": {
      const local = snapshot.localWrites().get(route.id);
      const stored = /^[0-9a-f-]{36}$/.test(route.id) ? await unavailableOnFailure(snapshot.store.get(route.id)) : undefined;
      const entry = stored ?? local ?? undefined;
      if (entry === undefined || local === null) throw new GateProblem("revocation_not_found", "No revocation has this id.");
      await unavailableOnFailure(snapshot.store.delete(entry.id));
      snapshot.removed(entry.id);
      log({ event: "admin", level: "info", action: "unrevoke", ...who, entry });
      return new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
    }
  }
}

/** The entries that still apply: KV's, with this isolate's own recent writes over them. */
async function activeEntries(snapshot: RevocationSnapshot): Promise<RevocationEntry[]> {
  const now = snapshot.clock();
  const byId = new Map((await unavailableOnFailure(snapshot.store.entries())).map((e) => [e.id, e]));
  for (const [id, entry] of snapshot.localWrites()) {
    if (entry === null) byId.delete(id);
    else byId.set(id, entry);
  }
  return [...byId.values()]
    .filter((e) => e.expiresAt === undefined || now < Date.parse(e.expiresAt))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

async function unavailableOnFailure<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch {
    log({ event: "kv", level: "error", message: "the revocation store failed" });
    throw new GateProblem("revocations_unavailable", "The gate could not reach its revocation store; nothing was changed. Retry shortly.");
  }
}

/** The body as text, refusing more than MAX_ADMIN_BODY_BYTES without reading it all. */
async function boundedText(request: Request): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_ADMIN_BODY_BYTES) throw tooLarge();
  if (request.body === null) return "";
  let size = 0;
  const counted = request.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > MAX_ADMIN_BODY_BYTES) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  let bytes: ArrayBuffer;
  try {
    bytes = await new Response(counted).arrayBuffer();
  } catch (error) {
    if (size > MAX_ADMIN_BODY_BYTES) throw tooLarge();
    throw error;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new GateProblem("body_not_json", "The body is not UTF-8 JSON.");
  }
}

function tooLarge(): GateProblem {
  return new GateProblem("body_too_large", `The body must be at most ${MAX_ADMIN_BODY_BYTES} bytes.`);
}

function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store", ...headers } });
}
