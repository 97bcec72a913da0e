/**
 * CPU profiles from inside workerd: `node --cpu-prof` sees only Node, but workerd speaks the
 * V8 inspector protocol (Miniflare `inspectorPort`), one target per Worker. `npm run bench --
 * --profile <scenario>` samples the scenario's Worker (and the STS emulator) while it is under
 * load, and summarises self time by function and by source module of the esbuild bundle.
 */
import { readFile, writeFile } from "node:fs/promises";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Connects to one Worker's inspector target and starts the sampling profiler. */
export async function startProfiling(inspectorUrl: URL, worker: string): Promise<{ stop(): Promise<CpuProfile> }> {
  const list = (await (await fetch(`http://${inspectorUrl.host}/json`)).json()) as Array<{ id?: string; title?: string; webSocketDebuggerUrl?: string }>;
  const target = list.find((t) => t.id === `core:user:${worker}` || t.title === `core:user:${worker}` || t.webSocketDebuggerUrl?.endsWith(`/core:user:${worker}`));
  const wsUrl = target?.webSocketDebuggerUrl ?? `ws://${inspectorUrl.host}/core:user:${worker}`;
  const ws = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error(`inspector: cannot connect to ${wsUrl}`)), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id !== undefined) pending.get(message.id)?.(message.error ? Promise.reject(new Error(message.error.message)) : message.result);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 100 });
  await call("Profiler.start");
  return {
    async stop() {
      const result = (await call("Profiler.stop")) as { profile: CpuProfile };
      ws.close();
      return result.profile;
    },
  };
}

/** For each line of an esbuild bundle, the source module it came from (esbuild's `// path` comments). */
async function moduleByLine(bundlePath: string): Promise<string[]> {
  const lines = (await readFile(bundlePath, "utf8")).split("\n");
  const out: string[] = [];
  let current = "(bundle)";
  for (const line of lines) {
    const m = /^\/\/ ((?:src|test|node_modules)\/\S+)$/.exec(line);
    if (m) current = m[1]!.replace(/^node_modules\/([^/]+\/?[^/]*)\/.*$/, (_, pkg: string) => `node_modules/${pkg.startsWith("@") ? pkg : pkg.split("/")[0]}`);
    out.push(current);
  }
  return out;
}

export interface ProfileSummary {
  worker: string;
  totalMs: number;
  byModule: Array<{ module: string; selfMs: number; share: number }>;
  byFunction: Array<{ name: string; module: string; selfMs: number; share: number }>;
  inclusive: Array<{ name: string; totalMs: number; share: number }>;
}

/**
 * Self time per function and per module, and inclusive time of the named functions (time with
 * that function anywhere on the stack), as shares of all sampled time except idle.
 */
export async function summarize(profile: CpuProfile, worker: string, bundlePath: string, inclusiveOf: string[]): Promise<ProfileSummary> {
  const modules = await moduleByLine(bundlePath);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const bundleName = bundlePath.split("/").pop()!;
  const moduleOf = (frame: CallFrame) => {
    if (frame.url === "") return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
    // workerd's own JavaScript (node-internal:internal_timers, node-internal:internal_inspect behind
    // console.log, …) is not the bundle: name it by its URL, not by the bundle's line table.
    if (!frame.url.endsWith(bundleName)) return frame.url;
    return modules[frame.lineNumber] ?? frame.url;
  };
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  let total = 0;
  const modTotals = new Map<string, number>();
  const fnTotals = new Map<string, { name: string; module: string; us: number }>();
  const incl = new Map<string, number>(inclusiveOf.map((n) => [n, 0]));
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === "(idle)") continue;
    total += us;
    const module = moduleOf(node.callFrame);
    modTotals.set(module, (modTotals.get(module) ?? 0) + us);
    const key = `${node.callFrame.functionName || "(anonymous)"}@${module}:${node.callFrame.lineNumber}`;
    const entry = fnTotals.get(key) ?? { name: node.callFrame.functionName || "(anonymous)", module, us: 0 };
    entry.us += us;
    fnTotals.set(key, entry);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = byId.get(cur)!.callFrame.functionName;
      if (incl.has(name) && !seen.has(name)) {
        seen.add(name);
        incl.set(name, incl.get(name)! + us);
      }
    }
  }
  const share = (us: number) => (total === 0 ? 0 : us / total);
  return {
    worker,
    totalMs: total / 1000,
    byModule: [...modTotals].map(([module, us]) => ({ module, selfMs: us / 1000, share: share(us) })).sort((a, b) => b.selfMs - a.selfMs),
    byFunction: [...fnTotals.values()].map((f) => ({ name: f.name, module: f.module, selfMs: f.us / 1000, share: share(f.us) })).sort((a, b) => b.selfMs - a.selfMs),
    inclusive: [...incl].map(([name, us]) => ({ name, totalMs: us / 1000, share: share(us) })).sort((a, b) => b.totalMs - a.totalMs),
  };
}

export function formatSummary(s: ProfileSummary, top = 25): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)} %`;
  const lines = [`${s.worker}: ${s.totalMs.toFixed(0)} ms of CPU sampled (idle excluded)`, "", "  self time by module:"];
  for (const m of s.byModule.slice(0, 15)) lines.push(`    ${pct(m.share)}  ${m.module}`);
  lines.push("", "  self time by function:");
  for (const f of s.byFunction.slice(0, top)) lines.push(`    ${pct(f.share)}  ${f.name}  (${f.module})`);
  lines.push("", "  inclusive time (function anywhere on the stack):");
  for (const f of s.inclusive) lines.push(`    ${pct(f.share)}  ${f.name}`);
  return lines.join("\n");
}

export async function saveProfile(path: string, profile: CpuProfile): Promise<void> {
  await writeFile(path, JSON.stringify(profile));
}
