// Networking benchmarks: what a veth on the default bridge adds to `run --rm busybox true` (vs
// `--net none`, interleaved), and HTTP requests per second through a published port on
// 127.0.0.1 (DNAT) vs straight to the container's address, in the same run.
import { Agent, request } from 'node:http';
import { CONFIG, type Ctx } from './core.ts';
import { addRow, col, errMsg, newVariant, runInterleaved, say, stats, timed, timedOk, type Variant } from './lib.ts';
import { freePort } from '../test/helpers/http.ts';

const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
const retire = (v: Variant): string => `n/a (${(v.error ?? '').slice(0, 60)})`;

export async function benchNetwork(ctx: Ctx): Promise<void> {
  await benchRunOverhead(ctx);
  await benchHttp(ctx);
}

// ---------------------------------------------------------------------------------------------
// run --rm busybox true: default bridge vs --net none

async function benchRunOverhead(ctx: Ctx): Promise<void> {
  const { d } = ctx;
  const { n, warmup } = CONFIG;
  say(`\n== network 1. run --rm busybox true: default bridge vs --net none (and a user network), warm-up ${warmup}, then N=${n}, interleaved ==`);
  const net = `bench-${Math.random().toString(36).slice(2, 8)}`;
  const s = d.userSubnet();
  await timedOk('docker', ['network', 'create', '--subnet', s.subnet, '-o', `com.docker.network.bridge.name=${d.userBridge(0)}`, net], { env: d.env });
  const bridge = newVariant('default bridge', () => timed('docker', ['run', '--rm', 'busybox', 'true'], { env: d.env }));
  const none = newVariant('--net none', () => timed('docker', ['run', '--rm', '--net', 'none', 'busybox', 'true'], { env: d.env }));
  const user = newVariant('user network', () => timed('docker', ['run', '--rm', '--net', net, 'busybox', 'true'], { env: d.env }));
  try {
    await runInterleaved([bridge, none, user], warmup, n, retire);
  } finally {
    await timed('docker', ['network', 'rm', net], { env: d.env }).catch(() => undefined);
  }
  for (const v of [bridge, none, user]) if (v.error) say(`  ${v.name}: last error: ${v.error}`);
  const ok = bridge.samples.length && none.samples.length && !bridge.na && !none.na;
  const delta = ok ? stats(bridge.samples).median - stats(none.samples).median : undefined;
  say(`run --rm busybox true (median, p90)   default bridge ${col(bridge)}   --net none ${col(none)}   user network ${col(user)}   networking adds ${delta !== undefined ? `${delta.toFixed(1)} ms` : '–'}  goal ≤ 10 ms`);
  addRow({
    section: 'network', metric: 'run --rm true, default bridge', value: col(bridge), baseline: `--net none ${col(none)}`,
    ratio: delta !== undefined ? `+${delta.toFixed(1)} ms` : '–', goal: '≤ +10 ms', verdict: delta !== undefined ? verdict(delta <= 10) : '',
  });
  const userDelta = user.samples.length && none.samples.length && !user.na && !none.na ? stats(user.samples).median - stats(none.samples).median : undefined;
  addRow({ section: 'network', metric: 'run --rm true, user network', value: col(user), baseline: `--net none ${col(none)}`, ratio: userDelta !== undefined ? `+${userDelta.toFixed(1)} ms` : '–', goal: '(info)' });
}

// ---------------------------------------------------------------------------------------------
// HTTP through a published port vs direct

/** Requests completed in `ms` by `concurrency` keep-alive clients (busybox httpd closes each connection anyway). */
async function load(host: string, port: number, ms: number, concurrency: number): Promise<{ rps: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const end = performance.now() + ms;
  let done = 0;
  let errors = 0;
  const one = (): Promise<void> => new Promise((resolve) => {
    const req = request({ host, port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) done++;
        else errors++;
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) await one();
  }));
  agent.destroy();
  return { rps: done / ((performance.now() - t0) / 1000), errors };
}


async function benchHttp(ctx: Ctx): Promise<void> {
  const { d } = ctx;
  const rounds = Math.max(3, Math.min(CONFIG.n, 6));
  const seconds = 2;
  const concurrency = 8;
  say(`\n== network 2. HTTP GET / of busybox httpd: 127.0.0.1:<published port> vs the container's address, ${rounds} rounds × ${seconds} s each, ${concurrency} clients, interleaved ==`);
  const port = await freePort();
  const run = await timedOk('docker', ['run', '-d', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www'], { env: d.env });
  const id = run.stdout.trim();
  try {
    const ip = (await timedOk('docker', ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', id], { env: d.env })).stdout.trim();
    // let httpd come up
    for (let i = 0; i < 50 && (await load(ip, 80, 50, 1).catch(() => ({ rps: 0 }))).rps === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const published: number[] = [];
    const direct: number[] = [];
    let errors = 0;
    for (let i = 0; i < rounds; i++) {
      // alternate which goes first, so drift hits both alike
      const pub = (): ReturnType<typeof load> => load('127.0.0.1', port, seconds * 1000, concurrency);
      const dir = (): ReturnType<typeof load> => load(ip, 80, seconds * 1000, concurrency);
      const [a, b] = i % 2 ? await (async () => { const y = await dir(); return [await pub(), y]; })() : [await pub(), await dir()];
      published.push(a.rps);
      direct.push(b.rps);
      errors += a.errors + b.errors;
    }
    const p = stats(published).median;
    const dr = stats(direct).median;
    const ratio = p / dr;
    say(`HTTP req/s (median of ${rounds})   published 127.0.0.1:${port} ${p.toFixed(0)}   direct ${ip}:80 ${dr.toFixed(0)}   ratio ${ratio.toFixed(2)}×  goal ≥ 0.8×${errors ? `   (${errors} failed requests)` : ''}`);
    addRow({
      section: 'network', metric: 'HTTP req/s via published port', value: `${p.toFixed(0)} req/s`, baseline: `direct to container ${dr.toFixed(0)} req/s`,
      ratio: `${ratio.toFixed(2)}×`, goal: '≥ 0.8×', verdict: verdict(ratio >= 0.8),
    });
  } catch (e) {
    say(`  http benchmark failed: ${errMsg(e)}`);
    addRow({ section: 'network', metric: 'HTTP req/s via published port', value: `error: ${errMsg(e)}` });
  } finally {
    await timed('docker', ['rm', '-f', id], { env: d.env }).catch(() => undefined);
  }
}
