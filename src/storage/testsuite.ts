// The contract every LayerStore driver passes: `layerStoreSuite('overlay', (root) => …)`.
// It performs real mounts, so it needs root; it skips otherwise.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import tar from 'tar-stream';
import { lgetxattr, lsetxattr } from '../sys/index.ts';
import { applyLayer } from './apply-layer.ts';
import { exportChanges, exportTree } from './diff-tar.ts';
import type { LayerStore, Mount } from './layer-store.ts';
import { mountAll, unmount } from './mount.ts';

interface Env {
  store: LayerStore;
  /** Mount `mounts` at a fresh directory, unmounted after the test. */
  mount(mounts: Mount[]): Promise<string>;
  unmountAll(): Promise<void>;
  /** Apply a tar built from `entries` into a new snapshot on `parent` and commit it as `name`. */
  layer(name: string, parent: string | null, entries: TarEntry[]): Promise<void>;
}

type TarEntry = { name: string; type?: 'file' | 'directory' | 'symlink'; body?: string; linkname?: string; mode?: number };

async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { body, ...h } of entries) pack.entry({ mtime: new Date(1_600_000_000_000), ...h }, body ?? '');
  pack.finalize();
  const out: Buffer[] = [];
  for await (const c of pack) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function collect(stream: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of stream) out.push(c as Buffer);
  return Buffer.concat(out);
}

/** One line per path: type, mode, owner and content (not times: copies and commits may differ there). */
async function describeTree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const abs = join(root, p);
      const st = await lstat(abs);
      const what = st.isDirectory()
        ? 'dir'
        : st.isSymbolicLink()
          ? `-> ${await readlink(abs)}`
          : `file ${createHash('sha256').update(await readFile(abs)).digest('hex').slice(0, 12)}`;
      out.push(`${p} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}`);
      if (st.isDirectory()) await walk(p);
    }
  }
  await walk('');
  return out;
}

async function setup(t: TestContext, make: (root: string) => Promise<LayerStore>): Promise<Env> {
  const base = await mkdtemp(join(tmpdir(), 'berth-layers-'));
  const store = await make(join(base, 'store'));
  const mounted: string[] = [];
  const unmountAll = async (): Promise<void> => {
    while (mounted.length) await unmount(mounted.pop()!);
  };
  t.after(async () => {
    await unmountAll();
    await rm(base, { recursive: true, force: true });
  });
  const format = store.driver === 'vfs' ? 'vfs' : 'overlay';
  return {
    store,
    unmountAll,
    async mount(mounts) {
      const target = join(base, 'mnt', randomBytes(4).toString('hex'));
      await mountAll(mounts, target);
      mounted.push(target);
      return target;
    },
    async layer(name, parent, entries) {
      const key = `${name}-extracting`;
      await store.prepare(key, parent);
      await applyLayer(await store.upperDir(key), Readable.from(await tarOf(entries)), { format });
      await store.commit(name, key);
    },
  };
}

const BASE: TarEntry[] = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/passwd', body: 'root:x:0:0\n' },
  { name: 'etc/group', body: 'root:x:0:\n' },
  { name: 'opt/app/old', body: 'old' },
  { name: 'opt/app/keep', body: 'keep' },
  { name: 'bin/sh', body: '#!', mode: 0o755 },
  { name: 'bin/ash', type: 'symlink', linkname: 'sh' },
];

export function layerStoreSuite(name: string, make: (root: string) => Promise<LayerStore>): void {
  const skip = process.getuid?.() !== 0 ? 'needs root: the suite performs real mounts' : false;

  describe(`LayerStore contract: ${name}`, { skip }, () => {
    test('files written in an active snapshot stack through commits; views are read-only', async (t) => {
      const env = await setup(t, make);
      const { store } = env;
      const m1 = await store.prepare('l1-active', null);
      assert.deepEqual(await store.mounts('l1-active'), m1);
      const d1 = await env.mount(m1);
      await writeFile(join(d1, 'a.txt'), 'one');
      await mkdir(join(d1, 'd'));
      await writeFile(join(d1, 'd/x'), 'x');
      await writeFile(join(d1, 'd/y'), 'y');
      await env.unmountAll();
      await store.commit('l1', 'l1-active');
      assert.equal(await store.exists('l1-active'), false);
      assert.equal(await store.exists('l1'), true);

      const d2 = await env.mount(await store.prepare('c2', 'l1'));
      assert.equal(await readFile(join(d2, 'a.txt'), 'utf8'), 'one');
      await rm(join(d2, 'd/x'));
      await writeFile(join(d2, 'a.txt'), 'two!');
      await writeFile(join(d2, 'b.txt'), 'b');
      await mkdir(join(d2, 'e'));
      await env.unmountAll();
      assert.deepEqual(await store.changes('c2'), [
        { kind: 'C', path: '/a.txt' },
        { kind: 'A', path: '/b.txt' },
        { kind: 'C', path: '/d' },
        { kind: 'D', path: '/d/x' },
        { kind: 'A', path: '/e' },
      ]);
      await store.commit('l2', 'c2');

      const v = await env.mount(await store.view('v', 'l2'));
      assert.equal(await readFile(join(v, 'a.txt'), 'utf8'), 'two!');
      assert.deepEqual((await readdir(v)).sort(), ['a.txt', 'b.txt', 'd', 'e']);
      assert.deepEqual(await readdir(join(v, 'd')), ['y']);
      await assert.rejects(writeFile(join(v, 'new'), 'no'), { code: 'EROFS' });
      await env.unmountAll();

      const v1 = await env.mount(await store.view('v1', 'l1'));
      assert.deepEqual((await readdir(join(v1, 'd'))).sort(), ['x', 'y'], 'lower layers are untouched');
      const empty = await env.mount(await store.view('v0', null));
      assert.deepEqual(await readdir(empty), []);

      const order = (await store.list()).map((s) => s.key);
      assert.ok(order.indexOf('l1') < order.indexOf('l2') && order.indexOf('l2') < order.indexOf('v'), 'parents come first');
      const listed = (await store.list()).sort((a, b) => a.key.localeCompare(b.key));
      assert.deepEqual(listed, [
        { key: 'l1', parent: null, kind: 'committed' },
        { key: 'l2', parent: 'l1', kind: 'committed' },
        { key: 'v', parent: 'l2', kind: 'view' },
        { key: 'v0', parent: null, kind: 'view' },
        { key: 'v1', parent: 'l1', kind: 'view' },
      ]);
    });

    test('conflicts and unknown keys', async (t) => {
      const { store } = await setup(t, make);
      await store.prepare('x', null);
      await assert.rejects(store.prepare('x', null), { kind: 'conflict' });
      await assert.rejects(store.prepare('y', 'nope'), { kind: 'not-found', message: 'No such layer: nope' });
      await assert.rejects(store.prepare('y', 'x'), { kind: 'invalid-argument' }, 'parent must be committed');
      await assert.rejects(store.commit('n', 'nope'), { kind: 'not-found' });
      await assert.rejects(store.mounts('nope'), { kind: 'not-found' });
      await assert.rejects(store.remove('nope'), { kind: 'not-found' });
      await store.view('vv', null);
      await assert.rejects(store.commit('n', 'vv'), { kind: 'invalid-argument' });
      await assert.rejects(store.upperDir('vv'), { kind: 'invalid-argument' });

      await store.commit('x-c', 'x');
      await store.prepare('q', null);
      await assert.rejects(store.commit('x-c', 'q'), { kind: 'conflict' });
      assert.equal(await store.exists('q'), true, 'a failed commit keeps the active snapshot');
      await store.prepare('child', 'x-c');
      await store.view('child-view', 'x-c');
      await assert.rejects(store.remove('x-c'), { kind: 'conflict' });
      await store.remove('child');
      await store.remove('child-view');
      await store.remove('x-c');
      await assert.rejects(store.remove('x-c'), { kind: 'not-found' });
      await store.remove('q');
      await store.remove('vv');
      assert.deepEqual(await store.list(), []);
      // Keys are arbitrary strings.
      const odd = 'sha256:../../etc/passwd weird/key';
      await store.prepare(odd, null);
      assert.equal(await store.exists(odd), true);
      await store.remove(odd);
    });

    test('applied layers: whiteouts and opaque directories hide lower files', async (t) => {
      const env = await setup(t, make);
      await env.layer('base', null, BASE);
      await env.layer('top', 'base', [
        { name: 'etc/.wh.group' },
        { name: 'opt/app/', type: 'directory' },
        { name: 'opt/app/.wh..wh..opq' },
        { name: 'opt/app/new', body: 'new' },
        { name: 'bin/.wh.ash' },
      ]);
      for (const mounts of [await env.store.view('v', 'top'), await env.store.prepare('c', 'top')]) {
        const root = await env.mount(mounts);
        assert.deepEqual(await readdir(join(root, 'etc')), ['passwd']);
        assert.deepEqual(await readdir(join(root, 'opt/app')), ['new']);
        assert.deepEqual(await readdir(join(root, 'bin')), ['sh']);
        assert.equal((await lstat(join(root, 'bin/sh'))).mode & 0o777, 0o755);
      }
      const base = await env.mount(await env.store.view('vb', 'base'));
      assert.deepEqual((await readdir(join(base, 'opt/app'))).sort(), ['keep', 'old']);
    });

    test('exportChanges round-trips through applyLayer; exportTree covers the whole tree', async (t) => {
      const env = await setup(t, make);
      const { store } = env;
      await env.layer('base', null, BASE);
      const root = await env.mount(await store.prepare('work', 'base'));
      const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      await rm(join(root, 'etc/passwd'));
      await rm(join(root, 'opt/app'), { recursive: true });
      await mkdir(join(root, 'opt/app'));
      await writeFile(join(root, 'opt/app/z'), 'z');
      await writeFile(join(root, 'bin/ping'), 'elf');
      await chmod(join(root, 'bin/ping'), 0o4755);
      lsetxattr(join(root, 'bin/ping'), 'security.capability', cap);
      await mkdir(join(root, 'a-very-long-directory-name-that-will-not-fit-in-a-ustar-header-'.repeat(3)), { recursive: true });
      const before = await describeTree(root);

      const layer = await collect(exportChanges(store, 'work'));
      await store.prepare('again', 'base');
      const format = store.driver === 'vfs' ? 'vfs' : 'overlay';
      await applyLayer(await store.upperDir('again'), Readable.from(layer), { format });
      const again = await env.mount(await store.mounts('again'));
      assert.deepEqual(await describeTree(again), before);
      assert.deepEqual(lgetxattr(join(again, 'bin/ping'), 'security.capability'), cap);

      const names: string[] = [];
      const extract = tar.extract();
      extract.on('entry', (h, s, next) => {
        names.push(h.name);
        s.on('end', () => next());
        s.resume();
      });
      await new Promise<void>((resolve, reject) => {
        extract.on('finish', resolve);
        extract.on('error', reject);
        Readable.from(exportTree(root)).pipe(extract as unknown as NodeJS.WritableStream);
      });
      assert.ok(names.includes('bin/ping') && names.includes('opt/app/z') && names.includes('etc'), names.join(' '));
      assert.ok(!names.includes('etc/passwd') && !names.includes('opt/app/old'));
      await assert.rejects(collect(exportChanges(store, 'nope')), { kind: 'not-found' });
    });

    test('remove deletes the data; mounts() reproduces what prepare returned', async (t) => {
      const env = await setup(t, make);
      await env.layer('base', null, BASE);
      const m = await env.store.prepare('c', 'base');
      assert.deepEqual(await env.store.mounts('c'), m);
      const upper = await env.store.upperDir('c');
      await env.store.remove('c');
      await assert.rejects(lstat(upper), { code: 'ENOENT' });
      await env.layer('mid', 'base', [{ name: 'm', body: 'm' }]);
      await env.store.prepare('ctr', 'mid');
      await env.store.view('look', 'base');
      // Removing in reverse list order never meets a child (what garbage collection does).
      for (const s of (await env.store.list()).reverse()) await env.store.remove(s.key);
      assert.deepEqual(await env.store.list(), []);
    });
  });
}
