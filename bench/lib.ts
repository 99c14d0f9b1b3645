// Small helpers for the benchmarks: timed commands, statistics, /proc memory readings, table output.
import { spawn, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Timed {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command and measure its wall time from spawn to exit with closed stdio. Rejects on timeout or spawn errors. */
/** With `stderrFd`, stdout goes to /dev/null and stderr to that fd (for detached children that keep their stdio). */
export function timed(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number; stderrFd?: number } = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const stdio: StdioOptions = opts.stderrFd !== undefined ? ['ignore', 'ignore', opts.stderrFd] : ['ignore', 'pipe', 'pipe'];
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, args, { env: opts.env ?? process.env, stdio });
    let stdout = '';
    let stderr = '';
    p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`timed out after ${opts.timeout ?? 30_000} ms: ${cmd} ${args.join(' ')}`));
    }, opts.timeout ?? 30_000);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code: code ?? -1, stdout, stderr });
    });
  });
}

/** Like timed(), but a non-zero exit is an error too. */
export async function timedOk(cmd: string, args: string[], opts: Parameters<typeof timed>[2] = {}): Promise<Timed> {
  const r = await timed(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}… exited ${r.code}: ${oneLine(r.stderr || r.stdout)}`);
  return r;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const oneLine = (s: string, max = 160): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

export const errMsg = (e: unknown): string => oneLine(e instanceof Error ? e.message : String(e));

export interface Stats {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of a sorted array. */
function pct(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i]!;
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length / 2;
  const median = s.length % 2 ? s[Math.floor(mid)]! : (s[mid - 1]! + s[mid]!) / 2;
  return { n: s.length, median, p90: pct(s, 0.9), min: s[0]!, max: s[s.length - 1]!, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

export const fmtMs = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)) + ' ms';
export const fmtMiB = (kib: number): string => (kib / 1024).toFixed(2) + ' MiB';
export const fmtStats = (s: Stats): string => `${fmtMs(s.median)} (p90 ${fmtMs(s.p90)})`;

/** A field (in kB) from /proc/<pid>/status, e.g. VmRSS. */
export function procStatusKiB(pid: number, field: string): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!m) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]);
}

/** A field (in kB) from /proc/<pid>/smaps_rollup, e.g. Pss. */
export function smapsRollupKiB(pid: number, field: string): number {
  const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!m) throw new Error(`no ${field} in smaps_rollup of pid ${pid}`);
  return Number(m[1]);
}

/** A summary row of the final table. */
export interface Row {
  section: string;
  metric: string;
  value: string;
  baseline: string;
  ratio: string;
  goal: string;
  verdict: string;
}

export const rows: Row[] = [];

export function addRow(r: Partial<Row> & { section: string; metric: string }): void {
  const row: Row = { value: '', baseline: '', ratio: '', goal: '', verdict: '', ...r };
  rows.push(row);
}

/** Print one figure as a line as soon as it is measured. */
export function say(line: string): void {
  process.stdout.write(line + '\n');
}

const cell = (s: string, max = 64): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export function printTable(): void {
  const head: Row = { section: 'section', metric: 'metric', value: 'value', baseline: 'baseline (same run)', ratio: 'ratio', goal: 'goal', verdict: '' };
  const cols: (keyof Row)[] = ['section', 'metric', 'value', 'baseline', 'ratio', 'goal', 'verdict'];
  const body = rows.map((r) => ({ ...r, value: cell(r.value), baseline: cell(r.baseline) }));
  const all = [head, ...body];
  const w = cols.map((c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: Row): string => cols.map((c, i) => r[c].padEnd(w[i]!)).join('  ').trimEnd();
  say('');
  say(line(head));
  say(w.map((n) => '-'.repeat(n)).join('  '));
  let last = '';
  for (const r of body) {
    say(line({ ...r, section: r.section === last ? '' : r.section }));
    last = r.section;
  }
}

/** One measured command among several run round-robin, so drift hits every variant alike. */
export interface Variant {
  name: string;
  run: () => Promise<Timed>;
  samples: number[];
  failures: number;
  error?: string;
  /** Shown instead of numbers when the variant could not run. */
  na?: string;
}

export const newVariant = (name: string, run: () => Promise<Timed>): Variant => ({ name, run, samples: [], failures: 0 });

/**
 * `warmup + n` rounds, each running every live variant once; samples after the warm-up. A variant
 * whose first attempt fails, or that fails three times, is retired with `retire(v)` as its text.
 */
export async function runInterleaved(variants: Variant[], warmup: number, n: number, retire: (v: Variant) => string, onRound?: (i: number) => void): Promise<void> {
  for (let i = 0; i < warmup + n; i++) {
    onRound?.(i);
    for (const v of variants) {
      if (v.na) continue;
      try {
        const r = await v.run();
        if (r.code !== 0) throw new Error(`exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
        if (i >= warmup) v.samples.push(r.ms);
      } catch (e) {
        v.failures++;
        v.error = errMsg(e);
        if (i === 0 || v.failures >= 3) v.na = retire(v);
      }
    }
  }
}

export const col = (v: Variant): string => (v.samples.length && !v.na ? fmtStats(stats(v.samples)) : v.na ?? 'no samples');
