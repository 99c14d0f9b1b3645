// Interactive benchmarks: exec latency vs `runc exec`, and 100 MB of container output (run + wait,
// then `docker logs`) vs the raw writer and a `cat` of the log file, all in the same run.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../test/helpers/env.ts';
import { CONFIG, type Ctx } from './core.ts';
import { addRow, col, errMsg, fmtMs, fmtStats, newVariant, runInterleaved, say, stats, timed, timedOk, type Timed, type Variant } from './lib.ts';

const BERTH_CLI = join(ROOT, 'dist', 'berth.mjs');
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

const retire = (v: Variant): string => `n/a (${(v.error ?? '').slice(0, 60)})`;

// ---------------------------------------------------------------------------------------------
// exec c true

export async function benchExec(ctx: Ctx): Promise<void> {
  const { d } = ctx;
  const { n, warmup } = CONFIG;
  say(`\n== exec: exec c true, warm-up ${warmup}, then N=${n}; variants interleaved round-robin ==`);
  const c = await timedOk('docker', ['run', '-d', 'busybox', 'sleep', '1000'], { env: d.env });
  const id = c.stdout.trim();
  try {
    const runtimeRoot = join(d.execRoot, 'runtime');
    const docker = newVariant('docker CLI→berthd', () => timed('docker', ['exec', id, 'true'], { env: d.env }));
    const berth = newVariant('berth exec', () => timed(process.execPath, [BERTH_CLI, 'exec', id, 'true'], { env: d.env }));
    const floor = newVariant('floor runc exec', () => timed('runc', ['--root', runtimeRoot, 'exec', id, 'true']));
    // what any Node CLI pays before its first line runs: the bound on `berth exec`
    const nodeStart = newVariant('node -e 0', () => timed(process.execPath, ['-e', '0']));
    if (!existsSync(BERTH_CLI)) berth.na = 'n/a (berth CLI not built)';
    await runInterleaved([docker, berth, floor, nodeStart], warmup, n, retire);
    const floorMed = floor.samples.length && !floor.na ? stats(floor.samples).median : undefined;
    const ratio = (v: Variant): number | undefined => (floorMed && v.samples.length && !v.na ? stats(v.samples).median / floorMed : undefined);
    const rs = (v: Variant): string => (ratio(v) !== undefined ? `${ratio(v)!.toFixed(2)}×` : '–');
    say(`exec c true (median of ${n}, p90)   docker CLI→berthd  ${col(docker)}   berth  ${col(berth)}   floor runc exec  ${col(floor)}   ratio ${rs(docker)}  goal ≤ 2×`);
    for (const v of [docker, berth, floor]) if (v.error) say(`  ${v.name}: last error: ${v.error}`);
    const base = floor.na ? `runc exec: ${floor.na}` : `runc exec ${col(floor)}`;
    const r = ratio(docker);
    addRow({ section: 'exec c true', metric: 'docker CLI→berthd', value: col(docker), baseline: base, ratio: rs(docker), goal: '≤ 2× floor', verdict: r !== undefined ? verdict(r <= 2) : '' });
    const rb = ratio(berth);
    addRow({ section: 'exec c true', metric: 'berth exec', value: col(berth), baseline: base, ratio: rs(berth), goal: '≤ 2× floor', verdict: rb !== undefined ? verdict(rb <= 2) : '' });
    addRow({ section: 'exec c true', metric: 'node -e 0 (Node start-up alone)', value: col(nodeStart), baseline: base, ratio: rs(nodeStart), goal: '(info)' });
  } finally {
    await timed('docker', ['rm', '-f', id], { env: d.env }).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// 100 MB of output: run -d + wait, then logs

const PAYLOAD = 100_000_000;
const WRITER = `yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c ${PAYLOAD}`;
const LOGS_N = Number(process.env['BENCH_LOGS_N']) > 0 ? Number(process.env['BENCH_LOGS_N']) : 3;
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

async function bytesOf(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const r = await timedOk('sh', ['-c', `"$@" | wc -c`, 'sh', cmd, ...args], { env, timeout: 120_000 });
  return Number(r.stdout.trim());
}

export async function benchLogs(ctx: Ctx): Promise<void> {
  const { d } = ctx;
  say(`\n== logs: a container writes ${PAYLOAD / 1e6} MB to stdout (busybox yes | head -c); run -d + wait, then docker logs > /dev/null ==`);
  const ids: string[] = [];
  const sleeper = await timedOk('docker', ['run', '-d', 'busybox', 'sleep', '1000'], { env: d.env });
  ids.push(sleeper.stdout.trim());
  try {
    // floor for the writer: the same pipeline, via runc exec, into /dev/null (no conmon, no log),
    // measured before each run -d + wait; both are noisy here, so LOGS_N rounds and medians
    const runtimeRoot = join(d.execRoot, 'runtime');
    const floors: number[] = [];
    let floorErr = '';

    for (const variant of [{ label: 'max-size=200m', opts: ['--log-opt', 'max-size=200m'], goals: true }, { label: 'default (20m × 3)', opts: [], goals: false }]) {
      const runs: number[] = [];
      let id = '';
      let wait: Timed | undefined;
      for (let round = 0; round < LOGS_N; round++) {
        const w = await timed('runc', ['--root', runtimeRoot, 'exec', ids[0]!, 'sh', '-c', `${WRITER} > /dev/null`], { timeout: 120_000 });
        if (w.code === 0) floors.push(w.ms);
        else floorErr = w.stderr.trim();
        if (id) {
          await timed('docker', ['rm', '-f', id], { env: d.env }).catch(() => undefined);
          ids.pop();
        }
        const t0 = performance.now();
        const run = await timedOk('docker', ['run', '-d', ...variant.opts, 'busybox', 'sh', '-c', WRITER], { env: d.env });
        id = run.stdout.trim();
        ids.push(id);
        wait = await timedOk('docker', ['wait', id], { env: d.env, timeout: 120_000 });
        runs.push(performance.now() - t0);
      }
      const runWait = stats(runs).median;
      const writerFloor = floors.length ? stats(floors).median : undefined;
      say(`  floor: runc exec of the writer into /dev/null  ${writerFloor !== undefined ? `median ${fmtMs(writerFloor)} of ${floors.length}` : `error: ${floorErr}`};   run -d + wait, ${variant.label}: ${runs.map((x) => fmtMs(x)).join(', ')}`);
      const logPath = join(d.dataRoot, 'containers', id, `${id}-json.log`);
      const logsT = await timed('docker', ['logs', id], { env: d.env, timeout: 120_000, stderrFd: 2 });
      const delivered = await bytesOf('docker', ['logs', id], d.env);
      // the same stream without the CLI: berthd's part (frames included), read by curl into /dev/null
      const raw = await timed('sh', ['-c', `curl -sf --unix-socket ${d.sock} 'http://berth/v1.45/containers/${id}/logs?stdout=1&stderr=1' > /dev/null`], { timeout: 120_000 });
      const rawCol = raw.code === 0 ? `${fmtMs(raw.ms)} = ${mbps(delivered, raw.ms).toFixed(1)} MB/s of payload` : `n/a (curl exit ${raw.code})`;
      const files = await timedOk('sh', ['-c', `ls -1 ${logPath}* | wc -l; cat ${logPath}* | wc -c`]);
      const [nFiles = '?', logBytes = '0'] = files.stdout.trim().split('\n');
      const cat = await timedOk('sh', ['-c', `cat ${logPath}* > /dev/null`]);
      const rate = mbps(delivered, logsT.ms);
      const catRate = mbps(Number(logBytes), cat.ms);
      say(`  ${variant.label}: run -d + wait  median ${fmtMs(runWait)} of ${LOGS_N} (exit ${wait?.stdout.trim()}; writer floor ${writerFloor !== undefined ? fmtMs(writerFloor) : '–'})   ` +
        `docker logs > /dev/null  ${fmtMs(logsT.ms)} for ${(delivered / 1e6).toFixed(1)} MB = ${rate.toFixed(1)} MB/s   ` +
        `baseline cat of the ${nFiles} log file(s) (${(Number(logBytes) / 1e6).toFixed(1)} MB) ${fmtMs(cat.ms)} = ${catRate.toFixed(0)} MB/s   ` +
        `raw API via curl (no CLI demux) ${rawCol}`);
      addRow({
        section: '100 MB output', metric: `run -d + wait, ${variant.label}`, value: `${fmtMs(runWait)} (median of ${LOGS_N})`,
        baseline: writerFloor !== undefined ? `runc exec writer ${fmtMs(writerFloor)}` : 'writer floor: error',
        ratio: writerFloor ? `${(runWait / writerFloor).toFixed(2)}×` : '', goal: variant.goals ? '≤ 1.2 s' : '(info)', verdict: variant.goals ? verdict(runWait <= 1200) : '',
      });
      addRow({
        section: '100 MB output', metric: `docker logs > /dev/null, ${variant.label}`, value: `${rate.toFixed(1)} MB/s (${(delivered / 1e6).toFixed(1)} MB in ${fmtMs(logsT.ms)})`,
        baseline: `cat log ${catRate.toFixed(0)} MB/s`, goal: variant.goals ? '≥ 50 MB/s' : '(info)', verdict: variant.goals ? verdict(rate >= 50 && delivered >= PAYLOAD) : '',
      });
      addRow({ section: '100 MB output', metric: `raw API logs (curl), ${variant.label}`, value: rawCol, goal: '(info)' });
      if (variant.goals && delivered !== PAYLOAD) say(`  !! docker logs delivered ${delivered} bytes, expected ${PAYLOAD}`);
      await timed('docker', ['rm', '-f', id], { env: d.env }).catch(() => undefined);
      ids.pop();
    }
  } finally {
    if (ids.length) await timed('docker', ['rm', '-f', ...ids], { env: d.env }).catch(() => undefined);
  }
}
