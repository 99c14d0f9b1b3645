// Engine-core benchmarks: run latency vs the runc floor, container churn, daemon and per-container memory.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, busyboxArchive, ROOT } from '../test/helpers/env.ts';
import { PHASES, apiRunOnce, type RunTimeline } from './api.ts';
import { Floor } from './floor.ts';
import { addRow, col, errMsg, fmtMiB, fmtMs, fmtStats, newVariant, procStatusKiB, runInterleaved, say, sleep, smapsRollupKiB, stats, timed, timedOk, type Stats, type Timed, type Variant } from './lib.ts';

const envInt = (name: string, def: number): number => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : def;
};

export const CONFIG = {
  n: envInt('BENCH_N', 20),
  warmup: envInt('BENCH_WARMUP', 3),
  churn: envInt('BENCH_CHURN', 50),
  rssContainers: envInt('BENCH_RSS_N', 20),
};

const BERTH_CLI = join(ROOT, 'dist', 'berth.mjs');

export interface Ctx {
  d: TestDaemon;
  floor: Floor;
}

/** A started berthd with busybox loaded and a floor bundle ready. */
export async function setup(): Promise<Ctx> {
  const d = new TestDaemon();
  const floor = new Floor();
  ctxForCleanup = { d, floor };
  floor.setup();
  await d.start();
  const r = await d.docker(['load', '-i', busyboxArchive()], { timeout: 120_000 });
  if (r.code !== 0) throw new Error(`docker load failed: ${r.stderr}`);
  // the floor's "equivalent bundle": the very spec berthd generates for a busybox container
  const src = await d.docker(['run', '-d', 'busybox', 'sleep', '1000']);
  if (src.code === 0) {
    const id = src.stdout.trim();
    floor.useBerthSpec(JSON.parse(readFileSync(join(d.execRoot, 'bundles', id, 'config.json'), 'utf8')));
    await d.docker(['rm', '-f', id]);
  }
  return { d, floor };
}

let ctxForCleanup: Ctx | undefined;
let cleaned = false;
export async function cleanup(): Promise<void> {
  if (cleaned || !ctxForCleanup) return;
  cleaned = true;
  const { d, floor } = ctxForCleanup;
  try {
    await d.cleanup();
  } catch (e) {
    say(`cleanup: daemon: ${errMsg(e)}`);
  }
  try {
    floor.cleanup();
  } catch (e) {
    say(`cleanup: floor: ${errMsg(e)}`);
  }
}

const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

/** Why berthd is gone, if it is (other people's clean-ups may kill it: say so instead of a puzzling error). */
export function daemonGone(d: TestDaemon): string | undefined {
  const p = d.proc;
  if (!p) return 'berthd not started';
  if (p.exitCode !== null || p.signalCode !== null) return `berthd exited (code ${p.exitCode}, signal ${p.signalCode}); last log: ${d.log.trim().split('\n').slice(-2).join(' | ')}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// 1. run --rm busybox true, plus (interleaved, same conditions) the raw API and the CLI's fixed cost


/** Per-phase durations of the raw API runs (filled by section 1, or by section 1b when run alone). */
const apiPhases: RunTimeline[] = [];
const apiTotal = (tl: RunTimeline): number => Object.values(tl).reduce((a, b) => a + b, 0);

/** A raw-API `run --rm busybox true` as a Timed; records its phases once past the warm-up. */
function apiVariantRun(sock: string, record: () => boolean): () => Promise<Timed> {
  return async () => {
    const tl = await apiRunOnce(sock);
    if (record()) apiPhases.push(tl);
    return { ms: apiTotal(tl), code: 0, stdout: '', stderr: '' };
  };
}

/** The round runInterleaved is in (warm-up rounds first). */
let round = 0;

async function interleaved(variants: Variant[], warmup: number, n: number, retire: (v: Variant) => string): Promise<void> {
  await runInterleaved(variants, warmup, n, retire, (i) => (round = i));
}


function printDetails(variants: Variant[]): void {
  for (const v of variants) {
    if (v.error) say(`  ${v.name}: ${v.failures} failure(s), last: ${v.error}`);
    if (v.samples.length) {
      const s = stats(v.samples);
      say(`  ${v.name.padEnd(30)} min ${fmtMs(s.min).padStart(8)}  median ${fmtMs(s.median).padStart(8)}  mean ${fmtMs(s.mean).padStart(8)}  p90 ${fmtMs(s.p90).padStart(8)}  max ${fmtMs(s.max).padStart(8)}  (n=${s.n})`);
    }
  }
}

let latencyRan = false;

export async function benchLatency(ctx: Ctx): Promise<void> {
  const { d, floor } = ctx;
  const { n, warmup } = CONFIG;
  say(`\n== 1. run --rm busybox true: warm-up ${warmup}, then N=${n}; all variants interleaved round-robin ==`);
  const trueBundle = floor.bundle('true', ['true']);
  const equivBundle = floor.hasBerthSpec ? floor.bundle('true-equiv', ['true'], { equivalent: true }) : trueBundle;
  const docker = newVariant('docker CLI→berthd', () => timed('docker', ['run', '--rm', 'busybox', 'true'], { env: d.env }));
  const berth = newVariant('berth CLI', () => timed(process.execPath, [BERTH_CLI, 'run', '--rm', 'busybox', 'true'], { env: d.env }));
  // The floor is `runc run` of an equivalent bundle: berthd's own spec (seccomp, caps, mounts) on the same rootfs.
  const runc = newVariant('floor runc run (berth spec)', () => floor.runcRun(equivBundle, floor.nextId('runc')));
  const runcPlain = newVariant('runc run (runc spec default)', () => floor.runcRun(trueBundle, floor.nextId('runcp')));
  const crun = newVariant('crun run (unshare -m)', () => floor.crunRun(trueBundle, floor.nextId('crun')));
  const api = newVariant('raw API (node:http, no CLI)', apiVariantRun(d.sock, () => round >= warmup));
  const ps = newVariant('docker ps -q (CLI fixed cost)', () => timed('docker', ['ps', '-q'], { env: d.env }));
  const variants = [docker, berth, runc, runcPlain, crun, api, ps];
  if (!existsSync(BERTH_CLI)) berth.na = 'berth CLI not built';
  if (spawnSync('sh', ['-c', 'command -v crun']).status !== 0) crun.na = 'n/a (crun not installed)';
  await interleaved(variants, warmup, n, (v) => (v === berth ? 'berth CLI not built' : v === crun ? 'n/a' : 'error'));
  addRow({ section: 'run --rm true', metric: 'runc run, `runc spec` bundle', value: runcPlain.na ?? col(runcPlain), baseline: '(no seccomp, fewer mounts)', goal: '(info)' });
  latencyRan = true;

  const floorMed = runc.samples.length && !runc.na ? stats(runc.samples).median : undefined;
  const ratio = (v: Variant): string => (floorMed && v.samples.length && !v.na ? `${(stats(v.samples).median / floorMed).toFixed(2)}×` : '–');
  say(`run --rm busybox true (median of ${n}, p90)   docker CLI→berthd  ${col(docker)}   berth  ${col(berth)}   floor runc run  ${col(runc)}   crun run  ${col(crun)}   ratio X/Z  ${ratio(docker)}  goal ≤ 2.5×`);
  printDetails(variants);
  const floorCol = runc.na ? `runc: ${runc.error ?? runc.na}` : `runc run ${col(runc)}`;
  if (docker.samples.length && !docker.na) {
    const r = floorMed ? stats(docker.samples).median / floorMed : NaN;
    addRow({ section: 'run --rm true', metric: 'docker CLI→berthd', value: col(docker), baseline: floorCol, ratio: ratio(docker), goal: '≤ 2.5× floor', verdict: Number.isFinite(r) ? verdict(r <= 2.5) : '' });
  } else {
    addRow({ section: 'run --rm true', metric: 'docker CLI→berthd', value: `error: ${docker.error ?? docker.na}`, baseline: floorCol, goal: '≤ 2.5× floor' });
  }
  addRow({ section: 'run --rm true', metric: 'berth CLI', value: berth.na ?? col(berth), baseline: floorCol, ratio: ratio(berth), goal: '(info)' });
  addRow({ section: 'run --rm true', metric: 'crun run (unshare -m)', value: crun.na ? `${crun.na}${crun.error ? ` (${crun.error.slice(0, 60)})` : ''}` : col(crun), baseline: floorCol, ratio: ratio(crun), goal: '(info)' });
  addRow({ section: 'run --rm true', metric: 'raw API (no CLI)', value: api.na ? `error: ${api.error}` : col(api), baseline: floorCol, ratio: ratio(api), goal: '(info)' });
  addRow({ section: 'run --rm true', metric: 'docker ps -q (CLI fixed)', value: ps.na ? `error: ${ps.error}` : col(ps), goal: '(info)' });
}

// ---------------------------------------------------------------------------------------------
// 1b. where the time goes: the raw-API runs of section 1, phase by phase

export async function benchTimeline(ctx: Ctx): Promise<void> {
  const { n, warmup } = CONFIG;
  say(`\n== 1b. run --rm busybox true through the raw Engine API (node:http on the socket), phase by phase ==`);
  if (!latencyRan) {
    // run alone: measure here
    const api = newVariant('raw API', apiVariantRun(ctx.d.sock, () => round >= warmup));
    await interleaved([api], warmup, n, () => 'error');
    if (api.error) say(`  error: ${api.error}`);
  } else {
    say(`  (the ${apiPhases.length} raw-API runs of section 1, interleaved with the others)`);
  }
  if (!apiPhases.length) {
    addRow({ section: 'API timeline', metric: 'phases', value: 'error: no raw API samples' });
    return;
  }
  const med = (k: keyof RunTimeline): number => stats(apiPhases.map((x) => x[k])).median;
  for (const p of PHASES) {
    const s = stats(apiPhases.map((x) => x[p.key]));
    say(`  ${p.label.padEnd(46)} median ${fmtMs(s.median).padStart(8)}   p90 ${fmtMs(s.p90).padStart(8)}`);
  }
  const tot = stats(apiPhases.map(apiTotal));
  say(`  ${'total'.padEnd(46)} median ${fmtMs(tot.median).padStart(8)}   p90 ${fmtMs(tot.p90).padStart(8)}`);
  addRow({ section: 'API timeline', metric: 'create / start / exit+rm', value: `${fmtMs(med('create'))} / ${fmtMs(med('start'))} / ${fmtMs(med('exit'))}`, baseline: `total ${fmtMs(tot.median)}`, goal: '(info)' });
}

// ---------------------------------------------------------------------------------------------
// 2. churn: N × run -d, then one rm -f of all

export async function benchChurn(ctx: Ctx): Promise<void> {
  const { d, floor } = ctx;
  const count = CONFIG.churn;
  say(`\n== 2. ${count} × docker run -d busybox sleep 1000 (sequential), then one docker rm -f of all ==`);
  const ids: string[] = [];
  const each: number[] = [];
  let runError: string | undefined;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    try {
      const r = await timedOk('docker', ['run', '-d', 'busybox', 'sleep', '1000'], { env: d.env });
      ids.push(r.stdout.trim());
      each.push(r.ms);
    } catch (e) {
      runError = errMsg(e);
      break;
    }
  }
  const runTotal = performance.now() - t0;
  let rmTotal: number | undefined;
  let rmError: string | undefined;
  if (ids.length) {
    try {
      rmTotal = (await timedOk('docker', ['rm', '-f', ...ids], { env: d.env, timeout: 120_000 })).ms;
      const left = (await timedOk('docker', ['ps', '-aq', '--no-trunc'], { env: d.env })).stdout.split('\n').filter((x) => ids.includes(x.trim()));
      if (left.length) rmError = `containers left after rm -f: ${left.length}`;
    } catch (e) {
      rmError = errMsg(e);
    }
  }

  // baseline: the runtime alone, runc run -d of a sleep bundle, then runc delete -f (one process per container)
  const rIds: string[] = [];
  const rEach: number[] = [];
  let rError: string | undefined;
  const r0 = performance.now();
  for (let i = 0; i < count; i++) {
    const id = floor.nextId('sleep');
    try {
      const b = floor.bundle(id, ['sleep', '1000']);
      const r = await floor.runcRunDetached(b, id);
      if (r.code !== 0) throw new Error(`runc run -d exited ${r.code}: ${r.stderr.trim()}`);
      rIds.push(id);
      rEach.push(r.ms);
    } catch (e) {
      rError = errMsg(e);
      break;
    }
  }
  const rRunTotal = performance.now() - r0;
  const d0 = performance.now();
  for (const id of rIds) {
    const r = await floor.runcDelete(id).catch((e: unknown) => ({ code: -1, stderr: errMsg(e) }) as Timed);
    if (r.code !== 0) rError ??= `runc delete -f ${id}: ${r.stderr.trim()}`;
  }
  const rDelTotal = performance.now() - d0;

  if (runError) say(`  docker run -d error after ${ids.length}: ${runError}`);
  if (rmError) say(`  docker rm -f error: ${rmError}`);
  if (rError) say(`  runc baseline error: ${rError}`);
  const per = (total: number, k: number): string => (k ? fmtMs(total / k) : '–');
  const eachS: Stats | undefined = each.length ? stats(each) : undefined;
  say(`${count} × run -d   docker CLI→berthd  total ${fmtMs(runTotal)}  per container ${per(runTotal, ids.length)}${eachS ? ` (median ${fmtMs(eachS.median)}, p90 ${fmtMs(eachS.p90)})` : ''}   floor ${rIds.length} × runc run -d  total ${fmtMs(rRunTotal)}  per container ${per(rRunTotal, rIds.length)}`);
  say(`rm -f of ${ids.length}   docker rm -f (one command)  total ${rmTotal !== undefined ? fmtMs(rmTotal) : 'error'}  per container ${rmTotal !== undefined ? per(rmTotal, ids.length) : '–'}   floor ${rIds.length} × runc delete -f  total ${fmtMs(rDelTotal)}  per container ${per(rDelTotal, rIds.length)}`);
  const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : '–');
  addRow({
    section: `churn ×${count}`, metric: 'run -d (sequential) per ctr',
    value: ids.length ? `${per(runTotal, ids.length)} (total ${fmtMs(runTotal)})` : `error: ${runError}`,
    baseline: rIds.length ? `runc run -d ${per(rRunTotal, rIds.length)}` : `error: ${rError}`,
    ratio: ids.length && rIds.length ? ratio(runTotal / ids.length, rRunTotal / rIds.length) : '', goal: '(info)',
  });
  addRow({
    section: `churn ×${count}`, metric: 'rm -f all (one cmd) per ctr',
    value: rmTotal !== undefined ? `${per(rmTotal, ids.length)} (total ${fmtMs(rmTotal)})` : `error: ${rmError ?? runError}`,
    baseline: rIds.length ? `runc delete -f ${per(rDelTotal, rIds.length)}` : `error: ${rError}`,
    ratio: rmTotal !== undefined && rIds.length ? ratio(rmTotal / ids.length, rDelTotal / rIds.length) : '', goal: '(info)',
  });
}

// ---------------------------------------------------------------------------------------------
// 3. memory: berthd idle RSS, RSS added per running container

function conmonPids(dir: string): number[] {
  const r = spawnSync('pgrep', ['-f', `conmon.*${dir}`], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').map(Number).filter((p) => p > 0 && p !== process.pid);
}

/** RSS of an idle bare Node process, for comparison with berthd's idle RSS. */
async function bareNodeRssKiB(idleMs: number): Promise<number> {
  const p = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
  try {
    await sleep(idleMs);
    return procStatusKiB(p.pid!, 'VmRSS');
  } finally {
    p.kill('SIGKILL');
  }
}

/** Must run first, right after setup(): idle RSS is read after the load of busybox only. */
export async function benchMemory(ctx: Ctx): Promise<void> {
  const { d } = ctx;
  const k = CONFIG.rssContainers;
  const pid = d.proc?.pid;
  say(`\n== 3. memory: berthd idle RSS (after start + load busybox, idle 2 s); RSS per running container (${k} × sleep) ==`);
  if (!pid) {
    addRow({ section: 'memory', metric: 'berthd idle RSS', value: 'error: no berthd pid' });
    return;
  }
  let idle: number;
  let bare: number;
  try {
    [bare] = await Promise.all([bareNodeRssKiB(2000), sleep(2000)]);
    idle = procStatusKiB(pid, 'VmRSS');
    const idlePss = smapsRollupKiB(pid, 'Pss');
    say(`berthd idle RSS  ${fmtMiB(idle)} (PSS ${fmtMiB(idlePss)})   baseline bare node -e idle  ${fmtMiB(bare)}   goal ≤ 60 MiB`);
    addRow({ section: 'memory', metric: 'berthd idle RSS', value: fmtMiB(idle), baseline: `bare node ${fmtMiB(bare)}`, ratio: `${(idle / bare).toFixed(2)}×`, goal: '≤ 60 MiB', verdict: verdict(idle <= 60 * 1024) });
  } catch (e) {
    addRow({ section: 'memory', metric: 'berthd idle RSS', value: `error: ${errMsg(e)}` });
    return;
  }

  const ids: string[] = [];
  try {
    for (let i = 0; i < k; i++) {
      const r = await timedOk('docker', ['run', '-d', 'busybox', 'sleep', '1000'], { env: d.env });
      ids.push(r.stdout.trim());
    }
    await sleep(2000);
    const busy = procStatusKiB(pid, 'VmRSS');
    const pids = conmonPids(d.dir);
    if (pids.length !== k) say(`  note: found ${pids.length} conmon processes for ${k} containers`);
    let rss = 0;
    let pss = 0;
    for (const p of pids) {
      rss += procStatusKiB(p, 'VmRSS');
      pss += smapsRollupKiB(p, 'Pss');
    }
    const delta = busy - idle;
    const perRss = (delta + rss) / k;
    const perPss = (delta + pss) / k;
    const cm = pids.length || 1;
    say(`berthd RSS with ${k} running  ${fmtMiB(busy)} (delta ${fmtMiB(delta)}, ${fmtMiB(delta / k)} per container)`);
    say(`conmon ×${pids.length}  RSS ${fmtMiB(rss)} total, ${fmtMiB(rss / cm)} each   PSS ${fmtMiB(pss)} total, ${fmtMiB(pss / cm)} each`);
    say(`per running container (berthd delta + conmon RSS) / ${k}  ${fmtMiB(perRss)}   (with conmon PSS: ${fmtMiB(perPss)})   baseline conmon alone  ${fmtMiB(rss / cm)} RSS   goal ≤ 2.5 MiB`);
    addRow({ section: 'memory', metric: `per running ctr (RSS, ×${k})`, value: fmtMiB(perRss), baseline: `conmon alone ${fmtMiB(rss / cm)}`, ratio: `${(perRss / (rss / cm)).toFixed(2)}×`, goal: '≤ 2.5 MiB', verdict: verdict(perRss <= 2.5 * 1024) });
    addRow({ section: 'memory', metric: `per running ctr (PSS)`, value: fmtMiB(perPss), baseline: `conmon alone ${fmtMiB(pss / cm)} PSS`, goal: '(info)' });
    addRow({ section: 'memory', metric: 'berthd RSS delta per ctr', value: fmtMiB(delta / k), goal: '(info)' });
  } catch (e) {
    addRow({ section: 'memory', metric: `per running ctr (×${k})`, value: `error after ${ids.length} containers: ${errMsg(e)}` });
  } finally {
    if (ids.length) {
      const r = await timed('docker', ['rm', '-f', ...ids], { env: d.env, timeout: 120_000 }).catch((e: unknown) => ({ code: -1, stderr: errMsg(e) }) as Timed);
      if (r.code !== 0) say(`  rm -f of the memory containers failed: ${r.stderr.trim()}`);
    }
  }
}
