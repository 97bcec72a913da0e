/**
 * The results section of BENCHMARKS.md, with the previous run's figures beside the new ones
 * (from test/bench/last-run.json) so that a regression shows up in review.
 */

export interface RoundFigures {
  rps: number;
  p50: number;
  p99: number;
  cpuUs?: number;
  stsCalls: number;
  completed: number;
}

export interface ScenarioSummary {
  key: string;
  label: string;
  /** Medians over the rounds. */
  rps: number;
  p50: number;
  p99: number;
  /** workerd's CPU time (all its threads) per completed request: every Worker involved, plus workerd's HTTP work. */
  cpuUs?: number;
  /** Median over the rounds of (this round's req/s ÷ the same round's baseline req/s). */
  ratio: number;
  stsPer1000: number;
  completed: number;
  stsCalls: number;
  rounds: RoundFigures[];
  /** What was wrong with a run (STS calls, statuses, cache sources); empty when exact. */
  checks: string[];
  statuses: Record<string, number>;
  /** --diagnose scenarios: shown apart, never a target. */
  diagnostic?: boolean;
  kvWritesPer1000?: number;
}

export interface Target {
  name: string;
  measured: string;
  /** undefined: not measured in this run. */
  pass: boolean | undefined;
  scenario?: string;
}

export interface BenchRun {
  date: string;
  seconds: number;
  options: { rounds: number; duration: number; connections: number; stsLatencyMs: number; kvTokens: number };
  machine: {
    nproc: number;
    cpu: string;
    memoryGiB: number;
    node: string;
    workerd: string;
    miniflare: string;
    commit: string;
    loadBefore: number;
    loadAfter: number;
  };
  note: string | undefined;
  scenarios: ScenarioSummary[];
  warmup: Array<{ label: string; requests: number; stsCalls: number; expected: number; ok: boolean }>;
  validate: Partial<Record<"alice" | "deployer" | "expired", { opsPerSec: number; samples: number }>> | undefined;
  bundle: { minifiedBytes: number; gzipBytes: number; wrangler: string | undefined } | undefined;
  targets: Target[];
}

const SCENARIO_TARGETS: Record<string, string> = {
  memory: "≥ 0.9 × req/s, p99 ≤ baseline + 1 ms",
  junk: "≥ 1.0 × req/s",
  fresh: "≥ 0.5 × req/s",
};

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => n.toFixed(2);
const cpu = (us: number | undefined) => (us === undefined || Number.isNaN(us) ? "—" : Math.round(us).toLocaleString("en-US"));
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const verdict = (pass: boolean | undefined) => (pass === undefined ? "—" : pass ? "PASS" : "**MISS**");

function delta(now: number, before: number | undefined): string {
  if (before === undefined || before === 0) return "";
  const pct = ((now - before) / before) * 100;
  return ` (${pct >= 0 ? "+" : ""}${pct.toFixed(0)} %)`;
}

export function renderResults(run: BenchRun, previous: BenchRun | undefined): string {
  const m = run.machine;
  const prev = (key: string) => previous?.scenarios.find((s) => s.key === key);
  const lines: string[] = [];
  lines.push(`### Latest run: ${run.date.replace("T", " ").replace(/\.\d+Z$/, " UTC")}`);
  lines.push("");
  lines.push(
    `Machine: ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB RAM; Node ${m.node}; workerd ${m.workerd} (miniflare ${m.miniflare}); ` +
      `commit ${m.commit}. Load average (1 min) ${m.loadBefore.toFixed(2)} before the run, ${m.loadAfter.toFixed(2)} after it` +
      `${m.loadBefore > 0.5 ? ": **the machine was busy with other work, so the absolute figures are noisy**" : ""}.`,
  );
  if (run.note) lines.push("", `Note: ${run.note}`);
  lines.push("");
  lines.push(
    `Settings: ${run.options.rounds} rounds × ${run.options.duration} s per scenario, ${run.options.connections} connections, ` +
      `scenarios rotated each round; figures are medians of the rounds; "× baseline" is the median of each round's req/s over the same ` +
      `round's baseline. STS latency scenario: +${run.options.stsLatencyMs} ms. KV scenario: ${int(run.options.kvTokens)} tokens cycled. ` +
      `Whole run: ${run.seconds} s.` +
      (previous ? ` Previous run (in brackets): ${previous.date.replace("T", " ").replace(/\.\d+Z$/, " UTC")}, commit ${previous.machine.commit}, load average ${previous.machine.loadBefore.toFixed(2)}.` : " No previous run recorded."),
  );
  lines.push("");
  lines.push("| scenario | req/s | p50 ms | p99 ms | × baseline | workerd CPU µs / req | STS calls / 1 000 req | STS count exact | target |");
  lines.push("|---|--:|--:|--:|--:|--:|--:|:-:|---|");
  for (const s of run.scenarios.filter((x) => !x.diagnostic)) {
    const p = prev(s.key);
    const targets = run.targets.filter((t) => t.scenario === s.key);
    const target = SCENARIO_TARGETS[s.key] ? `${SCENARIO_TARGETS[s.key]}: ${targets.map((t) => verdict(t.pass)).join(", ")}` : "";
    lines.push(
      `| ${s.label} | ${int(s.rps)}${p ? ` [${int(p.rps)}]` : ""} | ${ms(s.p50)}${p ? ` [${ms(p.p50)}]` : ""} | ${ms(s.p99)}${p ? ` [${ms(p.p99)}]` : ""} | ` +
        `${s.ratio.toFixed(2)}${p ? ` [${p.ratio.toFixed(2)}]` : ""} | ${cpu(s.cpuUs)}${p?.cpuUs !== undefined ? ` [${cpu(p.cpuUs)}]` : ""} | ${s.stsPer1000.toFixed(s.stsPer1000 === 0 ? 0 : 1)}${p ? ` [${p.stsPer1000.toFixed(p.stsPer1000 === 0 ? 0 : 1)}]` : ""} | ` +
        `${s.checks.length === 0 ? "yes" : "**no**"} | ${target} |`,
    );
  }
  lines.push("");
  const diagnostics = run.scenarios.filter((x) => x.diagnostic);
  if (diagnostics.length > 0) {
    lines.push("Diagnostic scenarios (`--diagnose`; experiments, not targets):");
    lines.push("");
    lines.push("| scenario | req/s | p50 ms | p99 ms | × baseline | workerd CPU µs / req | STS calls / 1 000 req | KV writes / 1 000 req | exact |");
    lines.push("|---|--:|--:|--:|--:|--:|--:|--:|:-:|");
    for (const s of diagnostics) {
      lines.push(
        `| ${s.label} | ${int(s.rps)} | ${ms(s.p50)} | ${ms(s.p99)} | ${s.ratio.toFixed(2)} | ${cpu(s.cpuUs)} | ${s.stsPer1000.toFixed(1)} | ${(s.kvWritesPer1000 ?? 0).toFixed(1)} | ${s.checks.length === 0 ? "yes" : "**no**"} |`,
      );
    }
    lines.push("");
  }
  lines.push("| target (for the benchmark, not CI) | measured | previous | result |");
  lines.push("|---|---|---|:-:|");
  for (const t of run.targets) {
    const p = previous?.targets.find((x) => x.name === t.name);
    lines.push(`| ${t.name} | ${t.measured} | ${p ? `${p.measured} (${verdict(p.pass)})` : ""} | ${verdict(t.pass)} |`);
  }
  lines.push("");

  if (run.validate) {
    const pv = previous?.validate;
    lines.push("`validateAuthorization` (`vitest bench` in workerd, `test/bench/validate.bench.ts`):");
    lines.push("");
    lines.push("| token | ops/s | µs per call | previous ops/s |");
    lines.push("|---|--:|--:|--:|");
    const names = { alice: "valid, long-term key (alice)", deployer: "valid, session token (deployer)", expired: "expired (rejected at the last rule)" } as const;
    for (const key of ["alice", "deployer", "expired"] as const) {
      const v = run.validate[key];
      if (!v) continue;
      const before = pv?.[key]?.opsPerSec;
      lines.push(`| ${names[key]} | ${int(v.opsPerSec)} | ${(1e6 / v.opsPerSec).toFixed(1)} | ${before ? `${int(before)}${delta(v.opsPerSec, before)}` : ""} |`);
    }
    lines.push("");
  }
  if (run.bundle) {
    const pb = previous?.bundle;
    lines.push(
      `Bundle (\`wrangler deploy --dry-run --env="" --minify\`): ${kib(run.bundle.minifiedBytes)} minified, **${kib(run.bundle.gzipBytes)} gzipped**` +
        (pb ? ` (previous ${kib(pb.minifiedBytes)} / ${kib(pb.gzipBytes)}${delta(run.bundle.gzipBytes, pb.gzipBytes)})` : "") +
        (run.bundle.wrangler ? `; wrangler: "${run.bundle.wrangler}"` : "") +
        ".",
    );
    lines.push("");
  }
  lines.push("Warm-up checks (before the rounds):");
  lines.push("");
  for (const w of run.warmup) {
    lines.push(`- ${w.label}: ${w.requests > 0 ? `${int(w.requests)} requests, ${int(w.stsCalls)} STS calls` : int(w.stsCalls)} (expected ${int(w.expected)}) ${w.ok ? "✓" : "**✗**"}`);
  }
  const problems = run.scenarios.flatMap((s) => s.checks.map((c) => `- ${s.key}: ${c}`));
  if (problems.length > 0) {
    lines.push("", "Runs that were not exactly what the scenario must be:", "", ...problems);
  }
  lines.push("");
  lines.push("<details><summary>Every round</summary>");
  lines.push("");
  lines.push("| scenario | round | req/s | p50 ms | p99 ms | workerd CPU µs / req | requests | STS calls |");
  lines.push("|---|--:|--:|--:|--:|--:|--:|--:|");
  for (const s of run.scenarios) {
    s.rounds.forEach((r, i) => lines.push(`| ${s.key} | ${i + 1} | ${int(r.rps)} | ${ms(r.p50)} | ${ms(r.p99)} | ${cpu(r.cpuUs)} | ${int(r.completed)} | ${int(r.stsCalls)} |`));
  }
  lines.push("");
  lines.push("</details>");
  return lines.join("\n");
}
