/**
 * The benchmark's STS: the emulator's runtime-neutral core (test/emulator/sts.ts, full SigV4
 * verification) wrapped in a Node `http` server, in its own process (forked by run.ts), so that
 * its CPU is not the gate's: in production STS is AWS's CPU. The gate reaches it through an
 * `external` service binding (`serviceBindings: { STS: { external: { address, http: {} } } }`),
 * which keeps the request's Host header, so the emulator sees the STS host the gate addressed.
 *
 * One listener per flavour: `instant`, `slow` (answers after --sts-latency ms) and `canned`
 * (answers alice's identity at once and verifies nothing: `--diagnose` only). Each counts the
 * requests it answered; the parent reads the counters over IPC.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import process from "node:process";
import { createStsEmulator, IDENTITIES } from "../emulator/sts";

export type StsFlavour = "instant" | "slow" | "canned";

export type StsServerCommand = { type: "calls"; id: number } | { type: "exit" };
export type StsServerReply =
  | { type: "ready"; ports: Record<StsFlavour, number> }
  | { type: "calls"; id: number; calls: Record<StsFlavour, number> };

const delayMs = Number(process.env.STS_DELAY_MS ?? "30");
const emulator = createStsEmulator({ identities: IDENTITIES });
const calls: Record<StsFlavour, number> = { instant: 0, slow: 0, canned: 0 };

const CANNED = Buffer.from(
  JSON.stringify({
    GetCallerIdentityResponse: {
      GetCallerIdentityResult: { Arn: "arn:aws:iam::111122223333:user/alice", Account: "111122223333", UserId: "AIDAEMULATORALICE0001" },
      ResponseMetadata: { RequestId: "00000000-0000-4000-8000-000000000000" },
    },
  }),
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  // A GET: the gate never sends STS a body.
  return new Request(`https://${req.headers.host ?? "missing-host.invalid"}${req.url ?? "/"}`, { method: req.method, headers });
}

async function answer(flavour: StsFlavour, req: IncomingMessage, res: ServerResponse): Promise<void> {
  calls[flavour]++;
  if (flavour === "canned") {
    res.writeHead(200, { "content-type": "application/json", "content-length": CANNED.length });
    res.end(CANNED);
    return;
  }
  if (flavour === "slow") await sleep(delayMs);
  const response = await emulator.fetch(toRequest(req));
  const body = Buffer.from(await response.arrayBuffer());
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  headers["content-length"] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body);
}

function listen(flavour: StsFlavour): Promise<number> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      answer(flavour, req, res).catch((error: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`bench STS server: ${String(error)}`);
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("sts-server: no TCP address");
      resolve(address.port);
    });
  });
}

const ports = { instant: await listen("instant"), slow: await listen("slow"), canned: await listen("canned") };

process.on("message", (raw) => {
  const command = raw as StsServerCommand;
  if (command.type === "exit") process.exit(0);
  if (command.type === "calls") process.send!({ type: "calls", id: command.id, calls: { ...calls } } satisfies StsServerReply);
});
process.on("disconnect", () => process.exit(0));
process.send!({ type: "ready", ports } satisfies StsServerReply);
