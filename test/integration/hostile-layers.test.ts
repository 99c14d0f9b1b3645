// `docker load` of hostile or broken archives against a real berthd: each is refused with a clear
// error and exit code 1, nothing lands outside the data root, and the store stays as it was.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';
import { digestOf, makeTar } from '../helpers/tar.ts';

const skip = skipReason();

const arch = process.arch === 'x64' ? 'amd64' : process.arch;

/** A docker-save archive (legacy layout) of one image made of `layers`; `diffIds` overrides the config's. */
async function imageArchive(tag: string, layers: Buffer[], opts: { diffIds?: string[] } = {}): Promise<Buffer> {
  const cfg = Buffer.from(JSON.stringify({
    architecture: arch, os: 'linux', created: '2024-01-01T00:00:00Z', config: { Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: opts.diffIds ?? layers.map((l) => digestOf(l)) },
  }));
  const names = layers.map((_, i) => `${String(i).repeat(64).slice(0, 64)}/layer.tar`);
  return makeTar([
    ...layers.map((l, i) => ({ name: names[i]!, body: l })),
    { name: `${digestOf(cfg).slice(7)}.json`, body: cfg },
    { name: 'manifest.json', body: JSON.stringify([{ Config: `${digestOf(cfg).slice(7)}.json`, RepoTags: [tag], Layers: names }]) },
  ]);
}

/** Every path under `dir` (relative), sorted; [] when it does not exist. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe('hostile layers through docker load', { skip }, () => {
  const d = new TestDaemon();
  const outside = mkdtempSync('/tmp/berth-outside-');
  const sentinel = join(outside, 'sentinel');
  const s = randomSuffix();
  const benign = async (): Promise<Buffer> => makeTar([{ name: 'benign/', type: 'directory' }, { name: `benign/f-${randomSuffix()}`, body: 'ok\n' }]);

  before(async () => {
    writeFileSync(sentinel, 'untouched\n');
    mkdirSync(join(outside, 'dir'));
    await daemonWithBusybox(d);
  });
  after(async () => {
    await d.cleanup();
    await rm(outside, { recursive: true, force: true });
  });

  interface Snapshot { images: string; snapshots: string[]; blobs: string[]; tmp: string[]; outside: string[] }
  const state = async (): Promise<Snapshot> => ({
    images: (await d.docker(['images', '-a', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).stdout,
    // `.trash-*` is a removed snapshot still being deleted in the background (common/atomic.ts discard)
    snapshots: tree(join(d.dataRoot, 'overlay', 'snapshots')).filter((p) => !p.includes('/') && !p.startsWith('.trash-')),
    blobs: tree(join(d.dataRoot, 'blobs')),
    tmp: tree(join(d.dataRoot, 'tmp')),
    outside: tree(outside),
  });

  /** Load `archive` (from stdin); it must fail with `message`, exit 1, and leave no trace. */
  const refused = async (archive: Buffer, message: RegExp): Promise<void> => {
    const before = await state();
    const r = await d.docker(['load'], { input: archive });
    assert.equal(r.code, 1, `expected a refusal; stdout=${r.stdout} stderr=${r.stderr}`);
    assert.match(r.stderr, message);
    assert.deepEqual(await state(), before);
    assert.ok(existsSync(sentinel));
  };

  test('a ../ name is refused', async () => {
    await refused(await imageArchive(`h1-${s}:1`, [await benign(), await makeTar([{ name: 'ok', body: 'x' }, { name: '../../../../escape', body: 'evil' }])]),
      /invalid layer: path escapes the layer: \.\.\/\.\.\/\.\.\/\.\.\/escape/);
    assert.ok(!existsSync(join(d.dataRoot, '..', 'escape')) && !existsSync('/escape'));
  });

  test('an absolute name lands inside the layer, not on the host', async () => {
    const name = `/etc/berth-hostile-${s}`;
    const r = await d.docker(['load'], { input: await imageArchive(`abs-${s}:1`, [await makeTar([{ name, body: 'inside\n' }])]) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Loaded image: abs-${s}:1\n`);
    assert.ok(!existsSync(name), 'nothing written to the host /etc');
    const files = readdirSync(join(d.dataRoot, 'overlay', 'snapshots'), { recursive: true }) as string[];
    assert.ok(files.some((f) => f.endsWith(`etc/berth-hostile-${s}`)), 'the file is inside a snapshot');
    assert.equal((await d.docker(['rmi', `abs-${s}:1`])).code, 0);
  });

  test('a symlink to a host directory, then a file through it, is refused', async () => {
    await refused(await imageArchive(`h2-${s}:1`, [await benign(), await makeTar([
      { name: 'a', type: 'symlink', linkname: join(outside, 'dir') },
      { name: 'a/pwn', body: 'evil' },
    ])]), /invalid layer: path traverses a symlink: a\/pwn/);
    assert.deepEqual(readdirSync(join(outside, 'dir')), []);
  });

  test('a symlink to .., then a file through it, is refused', async () => {
    await refused(await imageArchive(`h3-${s}:1`, [await makeTar([
      { name: 'up', type: 'symlink', linkname: '../../../../../../../../..' + outside },
      { name: 'up/pwn', body: 'evil' },
    ])]), /invalid layer: path traverses a symlink: up\/pwn/);
  });

  test('hardlinks climbing out or to an absolute host path are refused', async () => {
    await refused(await imageArchive(`h4-${s}:1`, [await benign(), await makeTar([{ name: 'pw', type: 'link', linkname: '../../etc/passwd' }])]),
      /invalid layer: path escapes the layer: \.\.\/\.\.\/etc\/passwd/);
    await refused(await imageArchive(`h5-${s}:1`, [await makeTar([{ name: 'pw', type: 'link', linkname: sentinel }])]),
      new RegExp(`invalid layer: hardlink target does not exist in the layer: pw -> ${sentinel}`));
  });

  test('a device node used as a directory (to write through it) is refused', async () => {
    await refused(await imageArchive(`h6-${s}:1`, [await benign(), await makeTar([
      { name: 'mem', type: 'character-device', devmajor: 1, devminor: 1 },
      { name: 'mem/pwn', body: 'evil' },
    ])]), /invalid layer: parent is not a directory: mem\/pwn/);
  });

  test('a layer not matching the config\'s diff_ids is refused and nothing is committed', async () => {
    const good = await benign();
    const other = await benign();
    await refused(await imageArchive(`h7-${s}:1`, [good, other], { diffIds: [digestOf(good), digestOf(good)] }),
      new RegExp(`invalid layer: digest mismatch: the image config says ${digestOf(good)}, the layer is ${digestOf(other)}`));
  });

  test('malformed manifest.json, a missing layer, and input that is not a tar give clear errors', async () => {
    await refused(await makeTar([{ name: 'manifest.json', body: '{"not": "a list"' }]), /invalid archive: manifest\.json malformed/);
    await refused(await makeTar([{ name: 'manifest.json', body: '[{"Config": 42}]' }]), /invalid archive: manifest\.json malformed/);
    const cfg = JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf('x')] } });
    await refused(await makeTar([
      { name: 'c.json', body: cfg },
      { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['m:1'], Layers: ['nope/layer.tar'] }]) },
    ]), /invalid archive: layer nope\/layer\.tar is missing/);
    await refused(await makeTar([{ name: 'manifest.json', body: JSON.stringify([{ Config: '../../etc/passwd', Layers: [] }]) }]), /invalid archive: path escapes the archive/);
    await refused(Buffer.from('this is not a tar archive, just some text\n'.repeat(40)), /invalid archive: /);
    await refused(Buffer.alloc(0), /invalid archive: /);
  });

  test('busybox still runs and the store is consistent', async () => {
    assert.equal((await d.docker(['run', '--rm', 'busybox', 'echo', 'ok'])).stdout, 'ok\n');
    assert.equal((await d.docker(['images', '--format', '{{.Repository}}'])).stdout, 'busybox\n');
    assert.deepEqual(tree(join(d.dataRoot, 'tmp')), []);
  });
});
