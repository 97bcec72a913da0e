/**
 * `npm run bench`: the gate against a pass-through proxy, priced as production pays for it.
 * See BENCHMARKS.md for the method and the latest figures.
 *
 *   npm run bench                       full run: 3 rounds × 5 s per scenario, writes BENCHMARKS.md
 *   npm run bench -- --quick            1 round × 1 s, no vitest bench or bundle, writes nothing
 *   npm run bench -- --rounds 2 --duration 3 --connections 8 --no-write --skip-vitest --skip-bundle
 *   npm run bench -- --note "…"           a note in the results
 *   npm run bench -- --diagnose           plus the diagnostic scenarios (canned STS)
 *   npm run bench -- --loop [--loop-n 3000] [--loop-rounds 8] [--loop-processes 3] [--loop-modes base,gate,…]
 *                                                        only the loop instrument (test/bench/loop.ts)
 *   npm run bench -- --loop --loop-variant DIR --loop-modes base,quiet,b-quiet
 *                                                        A/B: the gate of another checkout (DIR/src) as `b-<mode>`
 *   npm run bench -- --loop --profile quiet              CPU profile of the loop Worker while one loop mode runs
 *   npm run bench -- --quick --profile <scenario>        CPU profile inside workerd (profile.ts)
 *   npm run bench -- --quick --only memory --gate-bundle <file.js>   A/B a patched bundle
 *   npm run bench -- --quick --only memory --compat-flags a,b       A/B the gate's compatibility flags
 *
 * Processes, so that each one's CPU is its own: this one (orchestrator; Miniflare's Node side,
 * which parses the gate's log lines), the origin (test/bench/origin.ts), the load generator
 * (test/bench/loader.ts, autocannon), the STS emulator (test/bench/sts-server.ts, a Node HTTP
 * server the gate reaches through an `external` service binding), and two workerd processes:
 * one Miniflare for the proxy, one for the gate's Workers. Each workerd's CPU time is read from
 * /proc/<pid>/stat. Traffic is 127.0.0.1 only.
 */
import { execFile, fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { exportJWK, generateKeyPair, calculateJwkThumbprint } from "jose";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from "miniflare";
import { bundleWorker } from "./bundle";
import type { Plugin } from "esbuild";
import { KV_SCENARIO_MEMORY_ENTRIES } from "./settings";
import type { LoadResult, LoaderCommand, LoaderReply } from "./loader";
import { formatSummary, saveProfile, startProfiling, summarize } from "./profile";
import { evaluateTargets, renderLoop, renderResults, type BenchRun, type LoopResult, type ScenarioSummary } from "./report";
import type { StsFlavour, StsServerCommand, StsServerReply } from "./sts-server";
import { BENCH_AUDIENCE, EXPIRES_VALUES, mintBenchToken } from "./tokens";
import { benchApps } from "./apps";

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "node_modules/.bin");
/** Tools run on this Node (the project's Node 22), never on whatever `node` is first on PATH. */
const TOOL_ENV = { ...process.env, PATH: `${BIN}:${process.env.PATH ?? ""}`, WRANGLER_SEND_METRICS: "false", CI: "1" };
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const VITEST = join(ROOT, "node_modules/vitest/vitest.mjs");

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  rounds: number;
  duration: number;
  connections: number;
  warmup: number;
  latencyMs: number;
  write: boolean;
  vitest: boolean;
  bundle: boolean;
  note: string | undefined;
  /** Profile this scenario's Worker(s) in workerd instead of running the rounds. */
  profile: string | undefined;
  diagnose: boolean;
  /** Scenario keys to run (the baseline always runs). */
  only: string[] | undefined;
  /** A prebuilt gate bundle (e.g. a patched copy, for an A/B experiment) instead of bundling src/worker.ts. */
  gateBundle: string | undefined;
  /** The gate Workers' compatibility flags instead of wrangler.toml's (an A/B experiment). */
  compatFlags: string[] | undefined;
  /** `--loop`: only the loop instrument (a full run measures it too, after the rounds). */
  loopOnly: boolean;
  loopN: number;
  loopRounds: number;
  loopProcesses: number;
  /** `--loop-variant DIR`: the loop's gate `b` is DIR/src/worker.ts (a checkout with one change). */
  loopVariant: string | undefined;
  loopModes: string[] | undefined;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes("--quick");
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i === -1 ? undefined : argv[i + 1];
  };
  const number = (name: string, fallback: number): number => {
    const v = value(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
    return n;
  };
  return {
    rounds: number("--rounds", quick ? 1 : 3),
    duration: number("--duration", quick ? 1 : 5),
    connections: number("--connections", 16),
    warmup: number("--warmup", quick ? 0.5 : 1),
    latencyMs: number("--sts-latency", 30),
    write: argv.includes("--write") || (!quick && !argv.includes("--no-write")),
    vitest: !quick && !argv.includes("--skip-vitest"),
    bundle: !quick && !argv.includes("--skip-bundle"),
    note: value("--note"),
    profile: value("--profile"),
    diagnose: argv.includes("--diagnose"),
    only: value("--only")?.split(","),
    gateBundle: value("--gate-bundle"),
    compatFlags: value("--compat-flags")?.split(",").filter((f) => f !== ""),
    loopOnly: argv.includes("--loop"),
    loopN: number("--loop-n", 3000),
    loopRounds: number("--loop-rounds", quick ? 2 : 8),
    loopProcesses: number("--loop-processes", quick ? 1 : 3),
    loopVariant: value("--loop-variant"),
    loopModes: value("--loop-modes")?.split(",").filter((m) => m !== ""),
  };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

type Expectation = "memory" | "kv" | "miss" | "local-deny" | "refused" | "none" | "quiet";

interface Scenario {
  key: string;
  label: string;
  worker: string;
  pool: string;
  /** What every request of the scenario must be, from the gate's decision logs and STS counts. */
  expect: Expectation;
  /** One-shot token pool (a fresh token per request): topped up between runs. */
  oneShot?: boolean;
  /** Which listener of the STS server the Worker's binding reaches (whose call counter to read). */
  sts?: StsFlavour;
  /** Only with --diagnose: not a target, an experiment to see where the time goes. */
  diagnostic?: boolean;
  /**
   * Tokens minted just before the run so that they expire in under 60 s: the gate's own rule then
   * skips the KV write (KV refuses shorter expirations), which prices the fresh path apart from
   * Miniflare's local KV write.
   */
  nearExpiry?: boolean;
  /** Count the KV entries written during each run (one per STS call, or none with nearExpiry). */
  countKvWrites?: boolean;
  /** The path requested instead of `/`, and headers sent besides the token (forward-auth). */
  path?: string;
  headers?: Record<string, string>;
}

const SCENARIOS: Scenario[] = [
  { key: "baseline", label: "baseline: pass-through proxy", worker: "proxy", pool: "memory", expect: "none" },
  { key: "memory", label: "gate, token in the isolate cache", worker: "gate", pool: "memory", expect: "memory" },
  // Issue 20: 50 apps on one host, the request for the last one configured; its ratio is to the single-app hit.
  { key: "memory-apps50", label: "isolate-cache hit, 50 apps (the request for the last app)", worker: "gate-apps50", pool: "memory", expect: "memory" },
  // Issue 20: the operator's switch for high volume, LOG_ALLOWED="false": the same hit without its allow line.
  { key: "memory-quiet", label: "gate, isolate cache, LOG_ALLOWED=false", worker: "gate-quiet", pool: "memory", expect: "quiet" },
  // Issue 21: forward-auth answers a fronting proxy at /.well-known/sts-gate/verify; nothing is forwarded.
  {
    key: "forward-auth",
    label: "gate, forward-auth (/verify), isolate cache",
    worker: "gate-fwd",
    pool: "memory",
    expect: "memory",
    path: "/.well-known/sts-gate/verify",
    headers: { "x-forwarded-method": "GET", "x-forwarded-uri": "/bench?x=1" },
  },
  { key: "memory-assertion", label: "gate + Ed25519 assertion, isolate cache", worker: "gate-assert", pool: "memory", expect: "memory" },
  { key: "kv", label: "gate, token in KV only", worker: "gate-kv", pool: "kv", expect: "kv" },
  // The proxy's token (its own pool), so that the KV scenario's pool advances only through gate-kv.
  { key: "kv-probe", label: "no gate: one Miniflare KV read, then the proxy's forward", worker: "kv-probe", pool: "memory", expect: "none" },
  { key: "fresh", label: "gate, fresh token, KV write", worker: "gate-fresh", pool: "fresh", expect: "miss", oneShot: true, sts: "instant", countKvWrites: true },
  {
    key: "fresh-nokv",
    label: "gate, fresh token, no KV write (< 60 s left)",
    worker: "gate-nokv",
    pool: "fresh-nokv",
    expect: "miss",
    oneShot: true,
    sts: "instant",
    nearExpiry: true,
    countKvWrites: true,
  },
  { key: "fresh-slow", label: "gate, fresh token, STS +30 ms", worker: "gate-slow", pool: "fresh-slow", expect: "miss", oneShot: true, sts: "slow" },
  { key: "junk", label: "gate, junk tokens (rejected locally)", worker: "gate", pool: "junk", expect: "local-deny" },
  { key: "refused", label: "gate, token STS refused (remembered)", worker: "gate", pool: "refused", expect: "refused" },
];

/** `--diagnose`: the fresh-token path with an STS that verifies nothing (the STS server's CPU out of the picture). */
const DIAGNOSTICS: Scenario[] = [
  { key: "fresh-canned", label: "gate, fresh token, canned STS, KV write", worker: "gate-canned", pool: "fresh-canned", expect: "miss", oneShot: true, sts: "canned", diagnostic: true, countKvWrites: true },
  {
    key: "fresh-canned-nokv",
    label: "gate, fresh token, canned STS, no KV write",
    worker: "gate-canned",
    pool: "fresh-canned-nokv",
    expect: "miss",
    oneShot: true,
    sts: "canned",
    diagnostic: true,
    nearExpiry: true,
    countKvWrites: true,
  },
];

/** The Workers of the gate's Miniflare (everything but the proxy), reached on their own sockets. */
const GATE_WORKERS = ["gate", "gate-quiet", "gate-fwd", "gate-apps50", "gate-assert", "gate-warm", "gate-kv", "kv-probe", "gate-fresh", "gate-nokv", "gate-slow", "gate-canned"];

/** Functions whose inclusive time --profile reports (names as esbuild left them in the bundle). */
const INCLUSIVE = [
  "validateAuthorization",
  "resolve",
  "cacheKey",
  "readKv",
  "writeKv",
  "exchangeWithSts",
  "buildStsRequest",
  "readCapped",
  "interpret",
  "identityFromSts",
  "decide",
  "forwardToOrigin",
  "originHeaders",
  "sign",
  "log",
  "verify",
  "signHex",
];

// ---------------------------------------------------------------------------------------------
// Child processes

function forkTs(file: string, env: Record<string, string> = {}): ChildProcess {
  return fork(join(ROOT, file), [], { execArgv: ["--import", "tsx"], cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

/** The STS server process (test/bench/sts-server.ts): its call counters, over IPC. */
class StsServer {
  private nextId = 1;
  private readonly waiting = new Map<number, (calls: Record<StsFlavour, number>) => void>();
  constructor(private readonly child: ChildProcess) {
    child.on("message", (raw) => {
      const reply = raw as StsServerReply;
      if (reply.type !== "calls") return;
      this.waiting.get(reply.id)?.(reply.calls);
      this.waiting.delete(reply.id);
    });
  }
  /** Requests the flavour's listener has answered so far. */
  calls(flavour: StsFlavour): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolvePromise) => {
      this.waiting.set(id, (calls) => resolvePromise(calls[flavour]));
      this.child.send({ type: "calls", id } satisfies StsServerCommand);
    });
  }
  exit(): void {
    this.child.send({ type: "exit" } satisfies StsServerCommand);
  }
}

function firstMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    child.once("message", (m) => resolvePromise(m as T));
    child.once("exit", (code) => reject(new Error(`child exited (${code}) before it was ready`)));
  });
}

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

class Loader {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: LoaderReply) => void; reject: (e: Error) => void }>();
  constructor(private readonly child: ChildProcess) {
    child.on("message", (raw) => {
      const reply = raw as LoaderReply;
      if (reply.type === "ready") return;
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (reply.type === "failed") w.reject(new Error(`loader: ${reply.message}`));
      else w.resolve(reply);
    });
  }
  private send(command: WithoutId<Exclude<LoaderCommand, { type: "exit" }>>): Promise<LoaderReply> {
    const id = this.nextId++;
    return new Promise((resolvePromise, reject) => {
      this.waiting.set(id, { resolve: resolvePromise, reject });
      this.child.send({ ...command, id } as LoaderCommand);
    });
  }
  /** Every minted token takes the next index of the run, so pools never share a token. */
  private nextIndex = 0;
  get next(): number {
    return this.nextIndex;
  }
  async mint(pool: string, count: number, start: number, options: { audience?: string; cyclic: boolean }): Promise<number> {
    const r = await this.send({ type: "mint", pool, from: this.nextIndex, count, start, ...options });
    this.nextIndex += count;
    return (r as { size: number }).size;
  }
  async junk(pool: string, start: number): Promise<number> {
    const r = await this.send({ type: "junk", pool, start });
    return (r as { size: number }).size;
  }
  async load(url: string, pool: string, connections: number, run: { duration: number } | { amount: number }, headers?: Record<string, string>): Promise<LoadResult> {
    const r = await this.send({ type: "load", url, pool, connections, ...run, headers });
    return (r as { result: LoadResult }).result;
  }
  exit(): void {
    this.child.send({ type: "exit" } satisfies LoaderCommand);
  }
}

// ---------------------------------------------------------------------------------------------
// Decision-log tally: workerd's console lines reach Node through Miniflare's structured logs.

class Tally {
  decisions = 0;
  memory = 0;
  kv = 0;
  miss = 0;
  allow = 0;
  codes: Record<string, number> = {};
  other: string[] = [];
  reset(): void {
    this.decisions = this.memory = this.kv = this.miss = this.allow = 0;
    this.codes = {};
    this.other = [];
  }
  add(message: string): void {
    if (!message.startsWith('{"event":"decision"')) {
      if (this.other.length < 5 && !message.includes('"setting":"ASSERTION_PRIVATE_JWK"')) this.other.push(message.slice(0, 300));
      return;
    }
    this.decisions++;
    if (message.includes('"cache":"memory"')) this.memory++;
    else if (message.includes('"cache":"kv"')) this.kv++;
    else if (message.includes('"cache":"miss"')) this.miss++;
    if (message.includes('"outcome":"allow"')) this.allow++;
    const code = /"code":"([a-z_]+)"/.exec(message)?.[1];
    if (code) this.codes[code] = (this.codes[code] ?? 0) + 1;
  }
}

// ---------------------------------------------------------------------------------------------
// workerd's CPU time: robust to other work on a shared machine, unlike req/s

/** The workerd processes Miniflare started (children of this process). */
async function workerdPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
    const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
    if (m && m[1] === "workerd" && Number(m[2]) === process.pid) pids.push(Number(entry));
  }
  return pids;
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (`getconf CLK_TCK`, 100 on Linux). */
let clockTicks = 100;

/**
 * Microseconds on CPU of one process, all its threads (live and exited): utime + stime of
 * /proc/<pid>/stat. One tick is 10 ms; over a 5 s run that is a few µs per request.
 */
async function cpuUsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // pid (comm) state ppid …: fields after the last ')' start at field 3, so utime (14) is [11].
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(rest[11]) + Number(rest[12]);
  return Number.isFinite(ticks) ? (ticks / clockTicks) * 1e6 : Number.NaN;
}

/**
 * The loop's clock: nanoseconds on CPU of each live thread of the process (/proc/<pid>/task/<tid>/schedstat,
 * the scheduler's own account), summed. The loop's calls are short and its workerd keeps its
 * threads, so this resolves what 10 ms ticks cannot; falls back to the ticks where there is none.
 */
async function preciseCpuUsOf(pid: number): Promise<number> {
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  let ns = 0;
  for (const tid of tids) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/schedstat`, "utf8").catch(() => "");
    const n = Number(stat.split(" ")[0]);
    if (!Number.isFinite(n) || stat === "") return cpuUsOf(pid);
    ns += n;
  }
  return tids.length === 0 ? cpuUsOf(pid) : ns / 1000;
}

/** The one workerd a Miniflare started: the child of this process that was not there before it. */
async function newWorkerd(known: Set<number>): Promise<number> {
  const fresh = (await workerdPids()).filter((p) => !known.has(p));
  if (fresh.length !== 1) throw new Error(`expected one new workerd process, found ${fresh.length} (${fresh.join(", ")})`);
  known.add(fresh[0]!);
  return fresh[0]!;
}

// ---------------------------------------------------------------------------------------------
// Helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Resolves the loop's `./loop-variant` to another checkout's Worker entry. */
function loopVariantPlugin(dir: string): Plugin {
  const entry = resolve(dir, "src/worker.ts");
  return {
    name: "loop-variant",
    setup(build) {
      build.onResolve({ filter: /\/loop-variant$/ }, () => ({ path: entry }));
    },
  };
}

function bundle(entry: string, outfile: string): Promise<string> {
  return bundleWorker(ROOT, entry, outfile);
}

/** The gate's compatibility date and flags, as wrangler.toml deploys them (top level). */
async function compatibility(): Promise<{ date: string; flags: string[] }> {
  const toml = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  const m = /^compatibility_date\s*=\s*"([0-9-]+)"/m.exec(toml);
  if (!m) throw new Error("wrangler.toml has no compatibility_date");
  const top = toml.split(/^\[/m)[0]!;
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(top)?.[1]?.match(/"[^"]*"/g)?.map((f) => f.slice(1, -1)) ?? [];
  return { date: m[1]!, flags };
}

async function assertionKey(): Promise<string> {
  const { privateKey } = await generateKeyPair("EdDSA", { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, "sha256");
  return JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d, kid, alg: "EdDSA", use: "sig" });
}

async function text(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await exec(cmd, args, { cwd: ROOT });
    return stdout.trim();
  } catch {
    return "unknown";
  }
}

async function machine(): Promise<BenchRun["machine"]> {
  const cpuinfo = await readFile("/proc/cpuinfo", "utf8").catch(() => "");
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown";
  const pkg = JSON.parse(await readFile(join(ROOT, "node_modules/miniflare/package.json"), "utf8")) as { version: string };
  const commit = await text("git", ["rev-parse", "--short", "HEAD"]);
  const dirty = (await text("git", ["status", "--porcelain", "--untracked-files=no", "--", "src"])) !== "";
  return {
    nproc: os.availableParallelism(),
    cpu,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    workerd: (await text(join(BIN, "workerd"), ["--version"])).replace(/^workerd\s+/, ""),
    miniflare: pkg.version,
    commit: `${commit}${dirty ? " + uncommitted changes in src/" : ""}`,
    loadBefore: os.loadavg()[0]!,
    loadAfter: 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Bundle size and vitest bench (after the load rounds, with Miniflare stopped)

async function bundleSize(): Promise<BenchRun["bundle"]> {
  const outdir = await mkdtemp(join(os.tmpdir(), "sts-gate-bench-bundle-"));
  try {
    const { stdout } = await exec(process.execPath, [WRANGLER, "deploy", "--dry-run", "--env=", "--outdir", outdir, "--minify"], { cwd: ROOT, env: TOOL_ENV });
    // Named after wrangler.toml's main (src/worker.ts): the one .js file wrangler writes.
    const file = join(outdir, (await readdir(outdir)).find((f) => f.endsWith(".js"))!);
    const code = await readFile(file);
    const wranglerLine = /Total Upload:[^\n]*/.exec(stdout)?.[0]?.trim();
    return { minifiedBytes: code.length, gzipBytes: gzipSync(code).length, wrangler: wranglerLine };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

async function validateBench(): Promise<BenchRun["validate"]> {
  const names = ["alice", "deployer", "expired"] as const;
  for (const n of names) await rm(join(ROOT, `dist/bench/validate-${n}.json`), { force: true });
  await exec(process.execPath, [VITEST, "bench", "--run", "test/bench/validate.bench.ts"], { cwd: ROOT, env: TOOL_ENV, maxBuffer: 16 * 1024 * 1024 });
  const out: NonNullable<BenchRun["validate"]> = {};
  for (const n of names) {
    const data = JSON.parse(await readFile(join(ROOT, `dist/bench/validate-${n}.json`), "utf8")) as {
      latency: { samplesCount: number; rme: number };
      totalTime: number;
    };
    // workerd's clock ticks in whole milliseconds, so per-sample times are 0 or 1 ms: the rate is
    // the sample count over the measured time, not tinybench's mean of per-sample rates.
    out[n] = { opsPerSec: (data.latency.samplesCount / data.totalTime) * 1000, samples: data.latency.samplesCount };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Main

/** One round of one scenario, as measured. */
type RunRecord = LoadResult & { stsCalls: number; kvWrites?: number; cpuUs: number; tally: Tally; check: string | undefined };

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const scenarios = (options.diagnose ? [...SCENARIOS, ...DIAGNOSTICS] : SCENARIOS).filter(
    (s) => options.only === undefined || s.key === "baseline" || options.only.includes(s.key),
  );
  const started = Date.now();
  const info = await machine();
  clockTicks = Number(await text("getconf", ["CLK_TCK"])) || 100;
  console.log(
    `sts-gate bench: ${options.rounds} round(s) × ${options.duration} s × ${scenarios.length} scenarios, ${options.connections} connections` +
      ` (load average ${info.loadBefore.toFixed(2)} on ${info.nproc} CPUs)`,
  );

  // Inside the repository (dist/ is ignored): Miniflare names modules relative to the working
  // directory, and a bundle outside it fails to load.
  await mkdir(join(ROOT, "dist/bench"), { recursive: true });
  const tmp = await mkdtemp(join(ROOT, "dist/bench/workers-"));
  const children: ChildProcess[] = [];
  let mfProxy: Miniflare | undefined;
  let mf: Miniflare | undefined;
  try {
    const [gateJs, gateSmallCacheJs, proxyJs, kvProbeJs, compat, privateJwk] = await Promise.all([
      options.gateBundle ? Promise.resolve(resolve(options.gateBundle)) : bundle("src/worker.ts", join(tmp, "gate.js")),
      bundle("test/bench/gate-small-cache.ts", join(tmp, "gate-small-cache.js")),
      bundle("test/bench/proxy.ts", join(tmp, "proxy.js")),
      bundle("test/bench/kv-probe.ts", join(tmp, "kv-probe.js")),
      compatibility(),
      assertionKey(),
    ]);
    const [loopJs, loopOriginJs] = await Promise.all([
      bundleWorker(ROOT, "test/bench/loop.ts", join(tmp, "loop.js"), options.loopVariant ? [loopVariantPlugin(options.loopVariant)] : []),
      bundle("test/bench/loop-origin.ts", join(tmp, "loop-origin.js")),
    ]);

    const date = compat.date;
    // The gate's flags: wrangler.toml's, or --compat-flags for an experiment (a run that is never written).
    const gateFlags = options.compatFlags ?? compat.flags;
    const origin = forkTs("test/bench/origin.ts");
    children.push(origin);
    const { port } = await firstMessage<{ port: number }>(origin);
    const originUrl = `http://127.0.0.1:${port}`;

    const stsChild = forkTs("test/bench/sts-server.ts", { STS_DELAY_MS: String(options.latencyMs) });
    children.push(stsChild);
    const { ports: stsPorts } = await firstMessage<Extract<StsServerReply, { type: "ready" }>>(stsChild);
    const sts = new StsServer(stsChild);
    const loopSetup: LoopSetup = { loopJs, loopOriginJs, date, flags: gateFlags, stsPort: stsPorts.instant, n: options.loopN, rounds: options.loopRounds, modes: options.loopModes };
    if (options.loopOnly && options.profile) {
      const mode = options.profile;
      if (!LOOP_MODES.some((m) => m.key === mode || `b-${m.key}` === mode)) throw new Error(`--loop --profile: no loop mode ${mode} (${LOOP_MODES.map((m) => m.key).join(", ")})`);
      await mkdir(join(ROOT, "dist/bench"), { recursive: true });
      await measureLoop({ ...loopSetup, profile: { mode, bundle: loopJs, out: join(ROOT, `dist/bench/profile-loop-${mode}`) } }).catch((e: unknown) => {
        if (!(e instanceof LoopProfiled)) throw e;
      });
      sts.exit();
      return;
    }
    if (options.loopOnly) {
      const loop = await measureLoops(loopSetup, options.loopProcesses);
      console.log(`\n${renderLoop(loop)}`);
      sts.exit();
      return;
    }

    const loaderChild = forkTs("test/bench/loader.ts");
    children.push(loaderChild);
    await firstMessage<LoaderReply>(loaderChild);
    const loader = new Loader(loaderChild);

    const tally = new Tally();
    const socket = [{ host: "127.0.0.1", port: 0 }];
    const vars = { AUDIENCE: BENCH_AUDIENCE, ORIGIN_URL: originUrl, POLICY: { allow: ["arn:aws:iam::111122223333:user/alice"] } };
    // STS is another process, as AWS is in production: workerd's builtin `external` service.
    const stsBinding = (flavour: StsFlavour) => ({ external: { address: `127.0.0.1:${stsPorts[flavour]}`, http: {} } });
    const gate = (name: string, kv: string, flavour: StsFlavour, extra: Record<string, string> = {}, scriptPath = gateJs): V4WorkerOptions => ({
      name,
      modules: true,
      scriptPath,
      compatibilityDate: date,
      compatibilityFlags: gateFlags,
      bindings: { ...vars, ...extra },
      kvNamespaces: { IDENTITY_CACHE: kv },
      serviceBindings: { STS: stsBinding(flavour) },
      unsafeDirectSockets: socket,
    });
    /** One Miniflare, i.e. one workerd process; the inspector only where --profile looks. */
    const miniflare = (which: "proxy" | "gate", workers: V4WorkerOptions[]) =>
      new Miniflare(
        convertV4MiniflareOptions({
          host: "127.0.0.1",
          port: 0,
          ...(options.profile && (which === "proxy") === (options.profile === "baseline") ? { inspectorHost: "127.0.0.1", inspectorPort: 0 } : {}),
          enableDevRegistry: false,
          telemetry: { enabled: false },
          handleStructuredLogs: ({ message }) => tally.add(message),
          workers,
        }),
      );
    const known = new Set(await workerdPids());
    // The proxy alone in one workerd, the gate's Workers in another: each one's CPU is read apart.
    mfProxy = miniflare("proxy", [
      { name: "proxy", modules: true, scriptPath: proxyJs, compatibilityDate: date, bindings: { ORIGIN_URL: originUrl }, unsafeDirectSockets: socket },
    ]);
    await mfProxy.ready;
    const proxyPid = await newWorkerd(known);
    mf = miniflare("gate", [
      gate("gate", "kv-gate", "instant"),
      gate("gate-assert", "kv-gate-assert", "instant", { ASSERTION_PRIVATE_JWK: privateJwk }),
      gate("gate-fwd", "kv-gate-fwd", "instant", { FORWARD_AUTH: "true" }),
      gate("gate-quiet", "kv-gate-quiet", "instant", { LOG_ALLOWED: "false" }),
      { ...gate("gate-apps50", "kv-gate-apps50", "instant"), bindings: { APPS: benchApps(50, "127.0.0.1", originUrl) as unknown as string } },
      // gate-warm writes the KV entries that gate-kv (another isolate, same namespace) reads.
      gate("gate-warm", "kv-shared", "instant"),
      gate("gate-kv", "kv-shared", "instant", {}, gateSmallCacheJs),
      { name: "kv-probe", modules: true, scriptPath: kvProbeJs, compatibilityDate: date, bindings: { ORIGIN_URL: originUrl }, kvNamespaces: { IDENTITY_CACHE: "kv-shared" }, unsafeDirectSockets: socket },
      gate("gate-fresh", "kv-gate-fresh", "instant"),
      gate("gate-nokv", "kv-gate-nokv", "instant"),
      gate("gate-slow", "kv-gate-slow", "slow"),
      gate("gate-canned", "kv-gate-canned", "canned"),
    ]);
    await mf.ready;
    const gatePid = await newWorkerd(known);
    const pidOf = (s: Scenario) => (s.worker === "proxy" ? proxyPid : gatePid);
    const directUrl = async (m: Miniflare, name: string) => new URL("/bench?x=1", await m.unsafeGetDirectURL(name)).toString();
    const urls: Record<string, string> = { proxy: await directUrl(mfProxy, "proxy") };
    for (const name of GATE_WORKERS) urls[name] = await directUrl(mf, name);
    type KvList = { list(options: { cursor?: string; limit: number }): Promise<{ keys: unknown[]; list_complete: boolean; cursor?: string }> };
    const kvCount = async (worker: string): Promise<number> => {
      const kv = (await mf!.getKVNamespace("IDENTITY_CACHE", worker)) as unknown as KvList;
      let n = 0;
      let cursor: string | undefined;
      do {
        const page = await kv.list({ cursor, limit: 1000 });
        n += page.keys.length;
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor !== undefined);
      return n;
    };

    // ---- Tokens and warm-up ------------------------------------------------------------------
    const t0 = Date.now();
    // Many more than gate-kv's isolate cache holds, cycled: each token is 255 others away from its
    // previous use, so it has always been evicted from the 16-entry LRU by then.
    const kvTokens = 16 * KV_SCENARIO_MEMORY_ENTRIES;
    await loader.mint("memory", 1, t0, { cyclic: true });
    await loader.mint("refused", 1, t0, { cyclic: true, audience: "some-other-service" });
    await loader.junk("junk", t0);
    await loader.mint("kv", kvTokens, t0, { cyclic: true });
    const consumed: Record<string, number> = {};
    const minted: Record<string, number> = {};
    const mostPerRun: Record<string, number> = {};
    let perRunPools = 0;
    /** The pool to use for this run of s, with enough unused tokens in it. */
    const topUp = async (s: Scenario, seconds: number): Promise<string> => {
      // Enough for the busiest run so far plus half again, and at least a generous first guess.
      const guess = s.key === "fresh-slow" ? Math.ceil((options.connections * 1000) / options.latencyMs) : 1200;
      const need = Math.ceil(Math.max(guess * seconds, ((mostPerRun[s.key] ?? 0) / options.duration) * seconds * 1.5)) + 200;
      if (s.nearExpiry) {
        // A new pool each run, signed 14 min 1 s ago (the pool's later tokens a few seconds more).
        const pool = `${s.pool}-${perRunPools++}`;
        const start = Date.now() - 14 * 60_000 - 1_000 + Math.floor(loader.next / EXPIRES_VALUES) * 1000;
        await loader.mint(pool, need, start, { cyclic: false });
        return pool;
      }
      const have = (minted[s.pool] ?? 0) - (consumed[s.pool] ?? 0);
      if (have < need) minted[s.pool] = await loader.mint(s.pool, need - have, t0, { cyclic: false });
      return s.pool;
    };
    console.log(`minted ${kvTokens + 2} tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const warm: BenchRun["warmup"] = [];
    const warmCheck = async (label: string, worker: string, pool: string, amount: number, expectCalls: number, expectStatus: number) => {
      const before = await sts.calls("instant");
      const r = await loader.load(urls[worker]!, pool, Math.min(options.connections, amount), { amount });
      await sleep(300);
      const calls = (await sts.calls("instant")) - before;
      const ok = calls === expectCalls && (r.statuses[expectStatus] ?? 0) === amount;
      warm.push({ label, requests: amount, stsCalls: calls, expected: expectCalls, ok });
      if (!ok) console.log(`warm-up ${label}: ${JSON.stringify(r.statuses)}, ${calls} STS calls (expected ${expectCalls})`, tally.other);
    };
    await warmCheck("isolate-cache token, gate", "gate", "memory", 1, 1, 200);
    await warmCheck("isolate-cache token, gate-assert", "gate-assert", "memory", 1, 1, 200);
    // A proxied request through gate-fwd puts the token in its isolate cache; forward-auth then hits it.
    await warmCheck("isolate-cache token, gate-fwd", "gate-fwd", "memory", 1, 1, 200);
    await warmCheck("isolate-cache token, gate-apps50 (the last of 50 apps)", "gate-apps50", "memory", 1, 1, 200);
    await warmCheck("isolate-cache token, gate-quiet", "gate-quiet", "memory", 1, 1, 200);
    await warmCheck("refused token, gate", "gate", "refused", 1, 1, 401);
    // gate-warm (another isolate, the same KV namespace as gate-kv) verifies each KV token once
    // through STS and writes its KV entry, as the gate does in production.
    await warmCheck(`${kvTokens} KV-scenario tokens through gate-warm`, "gate-warm", "kv", kvTokens, kvTokens, 200);
    let stored = 0;
    for (let attempt = 0; attempt < 40 && stored < kvTokens; attempt++) {
      if (attempt > 0) await sleep(100);
      stored = await kvCount("gate-kv");
    }
    warm.push({ label: "KV entries written by gate-warm (waitUntil)", requests: 0, stsCalls: stored, expected: kvTokens, ok: stored === kvTokens });

    // ---- Rounds --------------------------------------------------------------------------------
    const runs = new Map<string, RunRecord[]>();
    const runScenario = async (s: Scenario, seconds: number, record: boolean) => {
      const pool = s.oneShot ? await topUp(s, seconds) : s.pool;
      const flavour = s.sts ?? "instant";
      const before = await sts.calls(flavour);
      const kvBefore = s.countKvWrites ? await kvCount(s.worker) : 0;
      tally.reset();
      const pid = pidOf(s);
      const cpuBefore = await cpuUsOf(pid);
      const r = await loader.load(s.path === undefined ? urls[s.worker]! : new URL(s.path, urls[s.worker]).toString(), pool, options.connections, { duration: seconds }, s.headers);
      // waitUntil work (the KV writes) finishes, and is counted, in this pause.
      await sleep(300);
      const cpuUs = ((await cpuUsOf(pid)) - cpuBefore) / Math.max(1, r.completed);
      const calls = (await sts.calls(flavour)) - before;
      const kvWrites = s.countKvWrites ? (await kvCount(s.worker)) - kvBefore : undefined;
      const t = Object.assign(new Tally(), tally);
      if (s.oneShot) {
        consumed[pool] = (consumed[pool] ?? 0) + r.handedOut;
        mostPerRun[s.key] = Math.max(mostPerRun[s.key] ?? 0, (r.handedOut / seconds) * options.duration);
      }
      if (!record) return;
      let check = checkRun(s, r, calls, t);
      if (kvWrites !== undefined && kvWrites !== (s.nearExpiry ? 0 : calls)) {
        check = `${check ? `${check}; ` : ""}${kvWrites} KV writes for ${calls} STS calls (expected ${s.nearExpiry ? 0 : calls})`;
      }
      const list = runs.get(s.key) ?? [];
      list.push({ ...r, stsCalls: calls, kvWrites, cpuUs, tally: t, check });
      runs.set(s.key, list);
      console.log(
        `  ${s.key.padEnd(17)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  ` +
          `workerd ${cpuUs.toFixed(0).padStart(5)} µs/req  STS ${String(calls).padStart(6)}  ${check ?? "ok"}${r.exhausted ? "  (token pool ran out: run cut short)" : ""}`,
      );
    };

    if (options.profile) {
      const s = [...SCENARIOS, ...DIAGNOSTICS].find((x) => x.key === options.profile);
      if (!s) throw new Error(`--profile: no scenario ${options.profile} (${[...SCENARIOS, ...DIAGNOSTICS].map((x) => x.key).join(", ")})`);
      const bundles: Record<string, string> = { proxy: proxyJs, "gate-kv": gateSmallCacheJs, "kv-probe": kvProbeJs };
      await runScenario(s, Math.max(options.warmup, 2), false);
      const owner = s.worker === "proxy" ? mfProxy : mf;
      const profiler = await startProfiling(await owner.getInspectorURL(), s.worker);
      await runScenario(s, options.duration, true);
      const profile = await profiler.stop();
      const path = join(ROOT, `dist/bench/profile-${s.key}-${s.worker}.cpuprofile`);
      await saveProfile(path, profile);
      const summary = await summarize(profile, s.worker, bundles[s.worker] ?? gateJs, INCLUSIVE);
      const out = `${formatSummary(summary, 40)}\n  (profile: ${path}; open it in Chrome DevTools → Performance)`;
      await writeFile(join(ROOT, `dist/bench/profile-${s.key}-${s.worker}.txt`), `${out}\n`);
      console.log(`\n${out}`);
      return;
    }
    if (options.warmup > 0) {
      console.log(`JIT warm-up: ${options.warmup} s per scenario (not recorded)`);
      for (const s of scenarios) await runScenario(s, options.warmup, false);
    }
    for (let round = 0; round < options.rounds; round++) {
      console.log(`round ${round + 1}/${options.rounds}`);
      // Rotate the order each round, so no scenario always runs first or right after another.
      const order = scenarios.map((_, i) => scenarios[(i + round) % scenarios.length]!);
      for (const s of order) await runScenario(s, options.duration, true);
    }
    info.loadAfter = os.loadavg()[0]!;

    await mf.dispose();
    mf = undefined;
    await mfProxy.dispose();
    mfProxy = undefined;
    loader.exit();
    // The loop instrument, with the load rounds' workerd processes gone.
    const loop = await measureLoops(loopSetup, options.loopProcesses).catch((e: unknown) => (console.log(`loop failed: ${String(e)}`), undefined));
    if (loop) console.log(renderLoop(loop));
    sts.exit();

    // ---- Summaries -----------------------------------------------------------------------------
    const baselineRuns = runs.get("baseline")!;
    const perRound = (list: RunRecord[], f: (r: RunRecord, base: RunRecord) => number) => median(list.map((r, i) => f(r, baselineRuns[i]!)));
    const summaries: ScenarioSummary[] = scenarios.map((s) => {
      const list = runs.get(s.key)!;
      const completed = list.reduce((a, r) => a + r.completed, 0);
      const calls = list.reduce((a, r) => a + r.stsCalls, 0);
      return {
        key: s.key,
        label: s.label,
        rps: median(list.map((r) => r.rps)),
        p50: median(list.map((r) => r.p50)),
        p99: median(list.map((r) => r.p99)),
        cpuUs: median(list.map((r) => r.cpuUs)),
        // Each round's figure against the same round's baseline, then the median.
        ratio: perRound(list, (r, base) => r.rps / base.rps),
        // Issue 20: the 50-app hit against the single-app hit of the same round.
        ...(s.key === "memory-apps50" && runs.has("memory") ? { ratioToSingle: median(list.map((r, i) => r.rps / runs.get("memory")![i]!.rps)) } : {}),
        ownCpuUs: s.key === "baseline" ? undefined : perRound(list, (r, base) => r.cpuUs - base.cpuUs),
        stsPer1000: completed === 0 ? 0 : (calls / completed) * 1000,
        completed,
        stsCalls: calls,
        diagnostic: s.diagnostic,
        kvWritesPer1000: s.countKvWrites ? (list.reduce((a, r) => a + (r.kvWrites ?? 0), 0) / Math.max(1, completed)) * 1000 : undefined,
        rounds: list.map((r, i) => ({
          rps: r.rps,
          p50: r.p50,
          p99: r.p99,
          cpuUs: r.cpuUs,
          ownCpuUs: s.key === "baseline" ? undefined : r.cpuUs - baselineRuns[i]!.cpuUs,
          stsCalls: r.stsCalls,
          completed: r.completed,
        })),
        checks: list.map((r) => r.check).filter((c): c is string => c !== undefined),
        statuses: list.reduce<Record<string, number>>((acc, r) => {
          for (const [k, v] of Object.entries(r.statuses)) acc[k] = (acc[k] ?? 0) + v;
          return acc;
        }, {}),
      };
    });
    // The KV row's own cost, and the part of it that one Miniflare KV read costs (kv-probe − proxy), per round.
    const kvRuns = runs.get("kv");
    const probeRuns = runs.get("kv-probe");
    const kvShare =
      kvRuns && probeRuns
        ? {
            readUs: perRound(probeRuns, (r, base) => r.cpuUs - base.cpuUs),
            share: median(kvRuns.map((r, i) => (probeRuns[i]!.cpuUs - baselineRuns[i]!.cpuUs) / (r.cpuUs - baselineRuns[i]!.cpuUs))),
          }
        : undefined;

    const validate = options.vitest ? await validateBench().catch((e: unknown) => (console.log(`vitest bench failed: ${String(e)}`), undefined)) : undefined;
    const bundleInfo = options.bundle ? await bundleSize().catch((e: unknown) => (console.log(`bundle size failed: ${String(e)}`), undefined)) : undefined;

    if (options.only || options.gateBundle || options.compatFlags) {
      // A partial or patched run is an experiment: print it, never record it.
      options.write = false;
    }
    const warmFailures = warm.filter((w) => !w.ok).map((w) => `warm-up ${w.label}`);
    const targets = evaluateTargets(summaries, kvShare, warmFailures, bundleInfo, loop);

    const run: BenchRun = {
      date: new Date(started).toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      options: { rounds: options.rounds, duration: options.duration, connections: options.connections, stsLatencyMs: options.latencyMs, kvTokens },
      machine: info,
      note: options.note,
      scenarios: summaries,
      kvShare,
      warmup: warm,
      validate,
      bundle: bundleInfo,
      loop,
      targets,
    };
    const lastRunPath = join(ROOT, "test/bench/last-run.json");
    const previous = existsSync(lastRunPath) ? (JSON.parse(await readFile(lastRunPath, "utf8")) as BenchRun) : undefined;
    const markdown = renderResults(run, previous);
    console.log(`\n${markdown}`);
    if (options.write) {
      const mdPath = join(ROOT, "BENCHMARKS.md");
      const START = "<!-- bench:results:start -->";
      const END = "<!-- bench:results:end -->";
      const existing = existsSync(mdPath) ? await readFile(mdPath, "utf8") : `# Benchmarks\n\n${START}\n${END}\n`;
      const a = existing.indexOf(START);
      const b = existing.indexOf(END);
      if (a === -1 || b < a) throw new Error(`BENCHMARKS.md lacks the ${START} … ${END} markers`);
      await writeFile(mdPath, `${existing.slice(0, a + START.length)}\n${markdown}\n${existing.slice(b)}`);
      await writeFile(lastRunPath, `${JSON.stringify(run, null, 2)}\n`);
      console.log(`wrote BENCHMARKS.md and test/bench/last-run.json (${run.seconds} s)`);
    } else {
      console.log(`(not written: --quick or --no-write; ${run.seconds} s)`);
    }
  } finally {
    await mf?.dispose().catch(() => {});
    await mfProxy?.dispose().catch(() => {});
    for (const child of children) if (child.connected) child.disconnect();
    await rm(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The loop instrument (test/bench/loop.ts): the gate's own cost per hit, no sockets

interface LoopSetup {
  loopJs: string;
  loopOriginJs: string;
  date: string;
  flags: string[];
  stsPort: number;
  n: number;
  rounds: number;
  /** `--loop-modes a,b,…`: only these loop modes (an ablation: `base,quiet,b-quiet` with --loop-variant). */
  modes?: string[];
  /** `--loop --profile <mode>`: sample the loop Worker's JavaScript while that mode runs. */
  profile?: { mode: string; bundle: string; out: string };
}

/**
 * The loop in `processes` workerd processes, one after the other, each its own measurement: a
 * process's JIT settles its own way, which moves a mode by 15 to 30 µs between otherwise
 * identical runs on this VM, so each figure is the median of the processes' figures.
 */
async function measureLoops(setup: LoopSetup, processes: number): Promise<LoopResult> {
  const runs: LoopResult[] = [];
  for (let p = 0; p < Math.max(1, processes); p++) runs.push(await measureLoop(setup));
  if (runs.length === 1) return runs[0]!;
  return {
    n: setup.n,
    rounds: setup.rounds,
    processes: runs.length,
    modes: runs[0]!.modes.map((m, i) => {
      const own = runs.map((r) => r.modes[i]!.ownUs);
      return {
        ...m,
        usPerHit: median(runs.map((r) => r.modes[i]!.usPerHit)),
        ownUs: m.ownUs === undefined ? undefined : median(own.map((u) => u!)),
        roundsUs: runs.flatMap((r) => r.modes[i]!.roundsUs),
        processesUs: runs.map((r) => (m.ownUs === undefined ? r.modes[i]!.usPerHit : r.modes[i]!.ownUs!)),
      };
    }),
    checks: runs.flatMap((r, p) => r.checks.map((c) => `process ${p + 1}: ${c}`)),
  };
}

/**
 * One workerd holding the loop Worker and its trivial origin; the loop's CPU is read from
 * /proc around each call of `n` hits. Every mode runs once unrecorded (JIT, and the one STS
 * call of each gate), then `rounds` rounds in rotated order. A gate mode's own cost is the
 * median over the rounds of (its µs per hit − the baseline loop's in the same round).
 */
async function measureLoop(setup: LoopSetup): Promise<LoopResult> {
  const known = new Set(await workerdPids());
  const lines = { decisions: 0, memoryAllow: 0, other: undefined as string | undefined };
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      enableDevRegistry: false,
      telemetry: { enabled: false },
      ...(setup.profile ? { inspectorHost: "127.0.0.1", inspectorPort: 0 } : {}),
      // As in the load rounds: each decision line crosses to Node, where it is counted.
      handleStructuredLogs: ({ message }) => {
        if (!message.startsWith('{"event":"decision"')) {
          if (!message.includes('"setting":"ASSERTION_PRIVATE_JWK"') && !message.startsWith('{"event":"bench"')) lines.other ??= message.slice(0, 300);
          return;
        }
        lines.decisions++;
        if (message.includes('"cache":"memory"') && message.includes('"outcome":"allow"')) lines.memoryAllow++;
        else lines.other ??= message.slice(0, 300);
      },
      workers: [
        {
          name: "loop",
          modules: true,
          scriptPath: setup.loopJs,
          compatibilityDate: setup.date,
          compatibilityFlags: setup.flags,
          kvNamespaces: { IDENTITY_CACHE: "kv-loop" },
          serviceBindings: { ORIGIN: "loop-origin", STS: { external: { address: `127.0.0.1:${setup.stsPort}`, http: {} } } },
        },
        { name: "loop-origin", modules: true, scriptPath: setup.loopOriginJs, compatibilityDate: setup.date },
      ],
    }),
  );
  try {
    await mf.ready;
    const pid = await newWorkerd(known);
    const token = await mintBenchToken({ identity: "alice", at: Date.now(), expires: 900 });
    const loopModes = setup.modes ? setup.modes.map((key) => ({ key, label: LOOP_MODES.find((m) => m.key === key)?.label ?? key })) : LOOP_MODES;
    const modes = loopModes.map((m) => m.key);
    const perHit: Record<string, number[]> = Object.fromEntries(modes.map((m) => [m, []]));
    const checks: string[] = [];
    const once = async (mode: string, n: number, record: boolean) => {
      const before = lines.decisions;
      const allowBefore = lines.memoryAllow;
      const cpuBefore = await preciseCpuUsOf(pid);
      const r = await mf.dispatchFetch(`http://loop.internal/loop?mode=${mode}&n=${n}`, { headers: { "x-bench-token": token } });
      const body = (await r.json()) as { statuses: Record<string, number> };
      const us = ((await preciseCpuUsOf(pid)) - cpuBefore) / n;
      await sleep(50);
      if (!record) return;
      perHit[mode]!.push(us);
      if ((body.statuses["200"] ?? 0) !== n) checks.push(`${mode}: answers ${JSON.stringify(body.statuses)}`);
      const logged = lines.decisions - before;
      const expected = mode.startsWith("base") || mode.endsWith("-nolog") || mode.endsWith("quiet") ? 0 : n;
      if (logged !== expected || (expected > 0 && lines.memoryAllow - allowBefore !== n)) checks.push(`${mode}: ${logged} decision lines (expected ${expected}, every one an isolate-cache allow)`);
    };
    for (const mode of modes) await once(mode, Math.min(300, setup.n), false);
    if (setup.profile) return await profileLoop(mf, setup.profile, (n) => once(setup.profile!.mode, n, false), setup.n * setup.rounds);
    // The warm-up's first hit of each gate is its one STS call: not a line of the recorded rounds.
    lines.other = undefined;
    for (let round = 0; round < setup.rounds; round++) {
      const order = modes.map((_, i) => modes[(i + round) % modes.length]!);
      for (const mode of order) await once(mode, setup.n, true);
    }
    if (lines.other !== undefined) checks.push(`a log line that is not an isolate-cache allow: ${lines.other}`);
    const base = perHit.base!;
    return {
      n: setup.n,
      rounds: setup.rounds,
      modes: loopModes.map(({ key, label }) => ({
        key,
        label,
        usPerHit: median(perHit[key]!),
        ownUs: key === "base" ? undefined : median(perHit[key]!.map((us, i) => us - base[i]!)),
        roundsUs: perHit[key]!,
      })),
      checks,
    };
  } finally {
    await mf.dispose();
  }
}

/** Samples the loop Worker while `run` calls one mode; prints and saves the summary (a `--profile` run is never a result). */
async function profileLoop(mf: Miniflare, p: NonNullable<LoopSetup["profile"]>, run: (n: number) => Promise<void>, n: number): Promise<never> {
  const profiler = await startProfiling(await mf.getInspectorURL(), "loop");
  await run(n);
  const profile = await profiler.stop();
  await saveProfile(`${p.out}.cpuprofile`, profile);
  const out = `${formatSummary(await summarize(profile, "loop", p.bundle, INCLUSIVE), 50)}\n  (profile: ${p.out}.cpuprofile)`;
  await writeFile(`${p.out}.txt`, `${out}\n`);
  console.log(`\n${out}`);
  throw new LoopProfiled();
}

class LoopProfiled extends Error {}

const LOOP_MODES = [
  { key: "base", label: "baseline loop: the origin binding directly" },
  { key: "gate", label: "the gate, one app" },
  { key: "gate-nolog", label: "the gate, one app, console.log a no-op" },
  { key: "quiet", label: "the gate, one app, LOG_ALLOWED=false" },
  { key: "base-log", label: "baseline loop + one console.log per hit (no gate)" },
  { key: "apps50", label: "the gate, 50 apps (the last one)" },
  { key: "apps50-nolog", label: "the gate, 50 apps, console.log a no-op" },
] as const;

/** Undefined if the run is exactly what the scenario must be; otherwise what was wrong. */
function checkRun(s: Scenario, r: LoadResult, calls: number, t: Tally): string | undefined {
  const problems: string[] = [];
  const status = (code: number) => r.statuses[code] ?? 0;
  if (r.errors > 0) problems.push(`${r.errors} connection errors`);
  switch (s.expect) {
    case "none":
      if (status(200) !== r.completed) problems.push(`non-200 answers ${JSON.stringify(r.statuses)}`);
      if (calls !== 0) problems.push(`${calls} STS calls (expected 0)`);
      break;
    case "quiet":
      // LOG_ALLOWED="false": every request a hit, and not one decision line.
      if (status(200) !== r.completed) problems.push(`non-200 answers ${JSON.stringify(r.statuses)}`);
      if (calls !== 0) problems.push(`${calls} STS calls (expected 0)`);
      if (t.decisions !== 0) problems.push(`${t.decisions} decision lines (expected none)`);
      break;
    case "memory":
    case "kv":
      if (status(200) !== r.completed) problems.push(`non-200 answers ${JSON.stringify(r.statuses)}`);
      if (calls !== 0) problems.push(`${calls} STS calls (expected 0)`);
      if (t[s.expect] !== t.decisions || t.decisions < r.completed) problems.push(`cache sources memory ${t.memory}, kv ${t.kv}, miss ${t.miss} of ${t.decisions} decisions`);
      break;
    case "miss":
      // A fresh token per request: every decision is an STS miss, and each made exactly one call.
      if (status(200) !== r.completed) problems.push(`non-200 answers ${JSON.stringify(r.statuses)}`);
      if (t.miss !== t.decisions || calls !== t.miss) problems.push(`${calls} STS calls for ${t.miss} misses of ${t.decisions} decisions`);
      if (calls > r.handedOut) problems.push(`${calls} STS calls for ${r.handedOut} distinct tokens`);
      break;
    case "local-deny":
      if (status(401) !== r.completed) problems.push(`answers ${JSON.stringify(r.statuses)}`);
      if (calls !== 0) problems.push(`${calls} STS calls (expected 0)`);
      break;
    case "refused":
      if (status(401) !== r.completed || (t.codes.sts_refused ?? 0) !== t.decisions) problems.push(`answers ${JSON.stringify(r.statuses)}, codes ${JSON.stringify(t.codes)}`);
      if (calls !== 0) problems.push(`${calls} STS calls (expected 0: the refusal is remembered)`);
      break;
  }
  if (t.other.length > 0 && s.expect !== "none") problems.push(`other log lines: ${t.other.join(" | ")}`);
  return problems.length === 0 ? undefined : problems.join("; ");
}

await main();
