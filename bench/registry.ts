// Registry benchmarks: pull and push through berthd (docker CLI → berthd) against Debian's
// docker-registry on loopback, interleaved with floors measured in the same run:
//   pull floor: `curl blob | gzip -dc | tar -x` per layer, one after the other;
//   push floor: `curl -T blob` per blob (POST the upload, PUT its bytes), one after the other.
// Images are generated here (random-ish, compressible about 2:1): one ~50 MB gzipped layer, and
// five layers of ~18 MB gzipped each (~90 MB).
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { Registry } from '../test/helpers/registry.ts';
import type { Ctx } from './core.ts';
import { addRow, col, errMsg, newVariant, runInterleaved, say, stats, timed, type Variant } from './lib.ts';

const N = Number(process.env['BENCH_REGISTRY_N']) > 0 ? Number(process.env['BENCH_REGISTRY_N']) : 5;
const WARMUP = 1;

interface Blob { file: string; digest: string; size: number }
interface Img { name: string; layers: Blob[]; config: Blob; manifest: Buffer }

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A gzipped layer of `mb` MB of files: half random bytes, half repeated text, so gzip gets about 2:1. */
async function makeLayer(dir: string, name: string, mb: number): Promise<{ blob: Blob; diffId: string }> {
  const pack = tar.pack();
  const tarHash = createHash('sha256');
  const file = join(dir, `${name}.tar.gz`);
  const gz = createGzip({ level: 6 });
  const out = createWriteStream(file);
  const done = pipeline(pack as unknown as Readable, async function* (src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const c of src) {
      tarHash.update(c);
      yield c;
    }
  }, gz, out);
  const text = Buffer.from('the quick brown fox jumps over the lazy registry benchmark; '.repeat(600)).subarray(0, 32 * 1024);
  const files = Math.round((mb * 1024 * 1024) / (256 * 1024));
  for (let i = 0; i < files; i++) {
    const parts: Buffer[] = [];
    for (let j = 0; j < 4; j++) parts.push(randomBytes(32 * 1024), text);
    const body = Buffer.concat(parts);
    await new Promise<void>((res, rej) => pack.entry({ name: `data/${name}/f${i}.bin`, size: body.length, mode: 0o644, mtime: new Date(1_700_000_000_000) }, body, (e) => (e ? rej(e) : res())));
  }
  pack.finalize();
  await done;
  const raw = readFileSync(file);
  return { blob: { file, digest: sha(raw), size: raw.length }, diffId: `sha256:${tarHash.digest('hex')}` };
}

export async function makeImage(dir: string, name: string, layersMb: number[]): Promise<Img> {
  const layers: Blob[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < layersMb.length; i++) {
    const l = await makeLayer(dir, `${name}-${i}`, layersMb[i]!);
    layers.push(l.blob);
    diffIds.push(l.diffId);
  }
  const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const cfgFile = join(dir, `${name}.config.json`);
  writeFileSync(cfgFile, cfg);
  const config = { file: cfgFile, digest: sha(cfg), size: cfg.length };
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: l.digest, size: l.size })),
  }));
  return { name, layers, config, manifest };
}

const sh = (script: string): ReturnType<typeof timed> => timed('bash', ['-c', script], { timeout: 300_000 });

/** The push floor's script: for each blob POST an upload, then `curl -T` its bytes with the digest. */
function pushScript(host: string, repo: string, blobs: Blob[]): string {
  return ['set -euo pipefail', ...blobs.map((b) => `loc=$(curl -sf -D - -o /dev/null -X POST http://${host}/v2/${repo}/blobs/uploads/ | tr -d '\\r' | sed -n 's/^[Ll]ocation: //p'); case "$loc" in http*) ;; *) loc="http://${host}$loc";; esac; curl -sf -o /dev/null -T ${b.file} "$loc&digest=${b.digest}"`)].join('\n');
}

/** Upload an image with curl (setup, not measured). */
export async function seed(host: string, img: Img): Promise<void> {
  const r = await sh(pushScript(host, img.name, [...img.layers, img.config]));
  if (r.code !== 0) throw new Error(`seeding ${img.name}: ${r.stderr}`);
  const mf = join(dirname(img.config.file), `${img.name}.manifest.json`);
  writeFileSync(mf, img.manifest);
  const put = await sh(`curl -sf -o /dev/null -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' --data-binary @${mf} http://${host}/v2/${img.name}/manifests/1`);
  if (put.code !== 0) throw new Error(`manifest of ${img.name}: ${put.stderr}`);
}

export async function benchRegistry(ctx: Ctx): Promise<void> {
  const { d } = ctx;
  if (spawnSync('sh', ['-c', 'command -v docker-registry && command -v curl']).status !== 0) {
    addRow({ section: 'registry', metric: 'pull/push', value: 'n/a (needs docker-registry and curl)' });
    return;
  }
  say(`\n== registry: pull and push via docker CLI → berthd vs curl floors, loopback docker-registry; warm-up ${WARMUP}, then N=${N}, interleaved ==`);
  const dir = mkdtempSync('/tmp/berth-bench-reg-');
  const src = new Registry();
  const dst = new Registry();
  try {
    const t0 = Date.now();
    const one = await makeImage(dir, 'one', [100]);
    const five = await makeImage(dir, 'five', [36, 36, 36, 36, 36]);
    const mb = (img: Img): string => `${(img.layers.reduce((a, l) => a + l.size, 0) / 1e6).toFixed(1)} MB`;
    say(`generated: 1 layer ${mb(one)} gzipped, 5 layers ${mb(five)} gzipped (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    await src.start();
    await dst.start();
    for (const img of [one, five]) await seed(src.host, img);
    const out = join(dir, 'out');

    for (const img of [one, five]) {
      const ref = `${src.host}/${img.name}:1`;
      const berth = newVariant('docker pull → berthd', async () => {
        await timed('docker', ['rmi', '-f', ref], { env: d.env, timeout: 120_000 });
        await settled(d.dataRoot);
        spawnSync('sync');
        return timed('docker', ['pull', '-q', ref], { env: d.env, timeout: 300_000 });
      });
      const floor = newVariant('curl | gzip -dc | tar -x', async () => {
        rmSync(out, { recursive: true, force: true });
        // both variants start with the deletions of the last round written out: with this disk's
        // online discard, a journal commit still busy with them made file creation ~1 ms each
        spawnSync('sync');
        return sh(`set -euo pipefail; mkdir -p ${out}; ${img.layers.map((l) => `curl -sf http://${src.host}/v2/${img.name}/blobs/${l.digest} | gzip -dc | tar -x -C ${out}`).join('; ')}`);
      });
      await runInterleaved([berth, floor], WARMUP, N, () => 'error');
      report('pull', img, mb(img), berth, floor);
    }

    for (const img of [one, five]) {
      const ref = `${dst.host}/${img.name}-push:1`;
      await timed('docker', ['pull', '-q', `${src.host}/${img.name}:1`], { env: d.env, timeout: 300_000 });
      await timed('docker', ['tag', `${src.host}/${img.name}:1`, ref], { env: d.env });
      // each round starts from an empty registry, so every blob goes up
      const fresh = async (): Promise<void> => {
        await dst.kill();
        rmSync(dst.dataDir, { recursive: true, force: true });
        await dst.start({ port: Number(dst.host.split(':')[1]) });
      };
      const berth = newVariant('docker push → berthd', async () => {
        await fresh();
        return timed('docker', ['push', '-q', ref], { env: d.env, timeout: 300_000 });
      });
      const floor = newVariant('curl -T', async () => {
        await fresh();
        return sh(pushScript(dst.host, `${img.name}-floor`, [...img.layers, img.config]));
      });
      await runInterleaved([berth, floor], WARMUP, N, () => 'error');
      report('push', img, mb(img), berth, floor);
    }
  } catch (e) {
    addRow({ section: 'registry', metric: 'pull/push', value: `error: ${errMsg(e)}` });
  } finally {
    await src.stop().catch(() => {});
    await dst.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

/** rmi deletes snapshots in the background (`.trash-*`): wait until that is over, as the floor's `rm -rf` is. */
async function settled(dataRoot: string): Promise<void> {
  const dirs = [join(dataRoot, 'overlay', 'snapshots'), join(dataRoot, 'vfs')];
  for (let i = 0; i < 200; i++) {
    if (!dirs.some((x) => { try { return readdirSync(x).some((f) => f.startsWith('.trash-')); } catch { return false; } })) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

function report(what: 'pull' | 'push', img: Img, size: string, berth: Variant, floor: Variant): void {
  const metric = `${what} ${img.layers.length} layer${img.layers.length > 1 ? 's' : ''}, ${size}`;
  for (const v of [berth, floor]) if (v.error) say(`  ${v.name}: ${v.failures} failure(s), last: ${v.error}`);
  const ok = berth.samples.length && floor.samples.length && !berth.na && !floor.na;
  const r = ok ? stats(berth.samples).median / stats(floor.samples).median : NaN;
  say(`${metric}: berth ${col(berth)}   floor (${floor.name}) ${col(floor)}   ratio ${Number.isFinite(r) ? `${r.toFixed(2)}×` : '–'}`);
  const goal = what === 'pull' ? '≤ 1.0× floor' : '(info)';
  addRow({
    section: 'registry', metric, value: berth.na ? `error: ${berth.error}` : col(berth), baseline: `${floor.name}: ${col(floor)}`,
    ratio: Number.isFinite(r) ? `${r.toFixed(2)}×` : '–', goal, verdict: what === 'pull' && Number.isFinite(r) ? (r <= 1.0 ? 'PASS' : 'FAIL') : '',
  });
}
