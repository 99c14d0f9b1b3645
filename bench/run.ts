// Benchmarks (not tests): `node --import tsx bench/run.ts [core | memory latency timeline churn exec logs build network ...]`.
// Needs root, runc, conmon, the docker CLI, busybox-static and a build (`npm run build`).
// Env: BENCH_N (samples, 20), BENCH_WARMUP (3), BENCH_CHURN (50), BENCH_RSS_N (20).
import { spawnSync } from 'node:child_process';
import { skipReason } from '../test/helpers/env.ts';
import { CONFIG, daemonGone, benchChurn, benchLatency, benchMemory, benchTimeline, cleanup, setup, type Ctx } from './core.ts';
import { benchExec, benchLogs } from './interactive.ts';
import { benchBuild } from './build.ts';
import { benchRegistry } from './registry.ts';
import { benchNetwork } from './network.ts';
import { errMsg, printTable, say } from './lib.ts';

// memory first: the idle RSS is read right after start-up and the load of busybox
const SECTIONS: Record<string, (ctx: Ctx) => Promise<void>> = {
  memory: benchMemory,
  latency: benchLatency,
  timeline: benchTimeline,
  churn: benchChurn,
  exec: benchExec,
  logs: benchLogs,
  build: benchBuild,
  network: benchNetwork,
  registry: benchRegistry,
};

function selected(argv: string[]): string[] {
  if (!argv.length || argv.includes('core') || argv.includes('all')) return Object.keys(SECTIONS);
  const bad = argv.filter((a) => !(a in SECTIONS));
  if (bad.length) {
    say(`unknown section(s): ${bad.join(', ')}; choose from: core (all), ${Object.keys(SECTIONS).join(', ')}`);
    process.exit(2);
  }
  return Object.keys(SECTIONS).filter((s) => argv.includes(s));
}

async function main(): Promise<number> {
  const which = selected(process.argv.slice(2));
  const skip = skipReason();
  if (skip) {
    say(`cannot run the benchmarks: ${skip}`);
    return 1;
  }
  if (spawnSync('sh', ['-c', 'command -v docker']).status !== 0) {
    say('cannot run the benchmarks: needs the docker CLI');
    return 1;
  }
  const cpus = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
  say(`berth engine-core benchmarks — ${new Date().toISOString()}, node ${process.version}, ${cpus} CPUs, sections: ${which.join(', ')}`);
  say(`N=${CONFIG.n} warm-up=${CONFIG.warmup} churn=${CONFIG.churn} rss-containers=${CONFIG.rssContainers}`);
  let ctx: Ctx;
  try {
    ctx = await setup();
  } catch (e) {
    say(`set-up failed: ${errMsg(e)}`);
    await cleanup();
    return 1;
  }
  const versions = await ctx.d.docker(['version', '--format', '{{.Client.Version}} → {{.Server.Version}} (API {{.Server.APIVersion}})']).catch(() => undefined);
  if (versions?.code === 0) say(`docker CLI ${versions.stdout.trim()}`);
  let failed = false;
  for (const s of which) {
    const gone = daemonGone(ctx.d);
    if (gone) {
      failed = true;
      say(`section ${s} skipped: ${gone}`);
      continue;
    }
    try {
      await SECTIONS[s]!(ctx);
    } catch (e) {
      failed = true;
      say(`section ${s} failed: ${errMsg(e)}`);
    }
    const after = daemonGone(ctx.d);
    if (after) say(`!! during section ${s}: ${after}`);
  }
  printTable();
  await cleanup();
  return failed ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    say(`\n${sig}: cleaning up…`);
    void cleanup().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  async (e: unknown) => {
    say(`bench crashed: ${errMsg(e)}`);
    await cleanup();
    process.exit(1);
  },
);
