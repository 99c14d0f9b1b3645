import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { BerthError, silentLogger } from '../common/index.ts';
import { ContentStore, MetadataStore } from '../store/index.ts';
import { VfsLayerStore } from '../storage/index.ts';
import { EventBus } from './events.ts';
import { ImageService } from './images.ts';

/** The bytes a stream produces, read as they come (tar-stream's pack waits for a reader). */
async function collect(s: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const digestOf = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function makeTar(entries: { name: string; body: string }[]): Promise<Buffer> {
  const pack = tar.pack();
  const collected = collect(pack);
  for (const e of entries) pack.entry({ name: e.name, mtime: new Date(0), uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }, e.body);
  pack.finalize();
  return collected;
}

async function archive(tag: string, layers: Buffer[], diffIds = layers.map((l) => digestOf(l))): Promise<Buffer> {
  const cfg = JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: diffIds } });
  const pack = tar.pack();
  const collected = collect(pack);
  layers.forEach((l, i) => pack.entry({ name: `l${i}/layer.tar` }, l));
  pack.entry({ name: 'c.json' }, cfg);
  pack.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: 'c.json', RepoTags: [tag], Layers: layers.map((_, i) => `l${i}/layer.tar`) }]));
  pack.finalize();
  return collected;
}

async function setup(t: { after: (fn: () => Promise<void>) => void }): Promise<{ svc: ImageService; inUse: Map<string, { id: string; running: boolean }[]>; root: string }> {
  const root = mkdtempSync(join(tmpdir(), 'berth-img-unit-'));
  const meta = MetadataStore.open(root);
  const blobs = await ContentStore.open(root);
  const inUse = new Map<string, { id: string; running: boolean }[]>();
  const svc = new ImageService({ meta, blobs, layers: new VfsLayerStore(join(root, 'vfs')), events: new EventBus(), tmpDir: join(root, 'tmp'), log: silentLogger, imagesInUse: () => inUse });
  t.after(async () => {
    meta.close();
    await rm(root, { recursive: true, force: true });
  });
  return { svc, inUse, root };
}

const conflictWith = (message: string) => (err: unknown): boolean => err instanceof BerthError && err.kind === 'conflict' && err.message === message;

test('load, then rmi by name untags and deletes the image and its layers', async (t) => {
  const { svc } = await setup(t);
  const l1 = await makeTar([{ name: 'a', body: 'a' }]);
  const l2 = await makeTar([{ name: 'b', body: 'b' }]);
  assert.deepEqual(await svc.load(Readable.from(await archive('x:1', [l1, l2]))), ['Loaded image: x:1']);
  const id = svc.resolve('x:1');
  await svc.tag('x:1', 'y');
  assert.deepEqual(await svc.remove('y'), [{ untagged: 'y:latest' }]);
  const chain2 = digestOf(`${digestOf(l1)} ${digestOf(l2)}`);
  assert.deepEqual(await svc.remove('x:1'), [{ untagged: 'x:1' }, { deleted: id }, { deleted: chain2 }, { deleted: digestOf(l1) }]);
  assert.throws(() => svc.resolve('x:1'), /No such image: x:1/);
  assert.throws(() => svc.resolve('nope'), /No such image: nope:latest/);
});

test('a digest mismatch in the second layer rolls back the first: no layer, no blob left', async (t) => {
  const { svc, root } = await setup(t);
  const l1 = await makeTar([{ name: 'a', body: 'a' }]);
  const l2 = await makeTar([{ name: 'b', body: 'b' }]);
  await assert.rejects(svc.load(Readable.from(await archive('x:1', [l1, l2], [digestOf(l1), digestOf(l1)]))), /invalid layer: digest mismatch/);
  assert.deepEqual(readdirSync(join(root, 'blobs', 'sha256')), []);
  assert.deepEqual(await svc.list(), []);
  assert.deepEqual(readdirSync(join(root, 'tmp')), []);
});

test('malformed archives are invalid-argument', async (t) => {
  const { svc } = await setup(t);
  const bad = async (input: Buffer, re: RegExp): Promise<void> => {
    await assert.rejects(svc.load(Readable.from([input])), (err: unknown) => err instanceof BerthError && err.kind === 'invalid-argument' && re.test(err.message));
  };
  await bad(Buffer.from('garbage'.repeat(100)), /^invalid archive: /);
  const p = tar.pack();
  p.entry({ name: 'manifest.json' }, '[{');
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  await bad(Buffer.concat(chunks), /^invalid archive: manifest.json malformed/);
});

test('rmi conflicts use dockerd\'s texts', async (t) => {
  const { svc, inUse } = await setup(t);
  await svc.load(Readable.from(await archive('x:1', [await makeTar([{ name: 'a', body: 'a' }])])));
  const id = svc.resolve('x:1');
  const short = id.slice(7, 19);
  inUse.set(id, [{ id: 'c'.repeat(64), running: false }]);
  await assert.rejects(svc.remove('x:1'), conflictWith(`conflict: unable to remove repository reference "x:1" (must force) - container cccccccccccc is using its referenced image ${short}`));
  await assert.rejects(svc.remove(short), conflictWith(`conflict: unable to delete ${short} (must be forced) - image is being used by stopped container cccccccccccc`));
  inUse.set(id, [{ id: 'd'.repeat(64), running: true }]);
  await assert.rejects(svc.remove(short, { force: true }), conflictWith(`conflict: unable to delete ${short} (cannot be forced) - image is being used by running container dddddddddddd`));
  assert.deepEqual(await svc.remove('x:1', { force: true }), [{ untagged: 'x:1' }]);
  assert.equal(svc.resolve(short), id, 'the running container keeps the image');
  inUse.clear();
  await svc.tag(short, 'a:1');
  await svc.tag(short, 'b:1');
  await assert.rejects(svc.remove(short), conflictWith(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`));
});

test('prune removes dangling images only; all removes unused tagged ones; spaceReclaimed counts removed layers', async (t) => {
  const { svc, inUse } = await setup(t);
  const la = await makeTar([{ name: 'a', body: 'a' }]);
  const lb = await makeTar([{ name: 'b', body: 'b' }]);
  await svc.load(Readable.from(await archive('a:1', [la])));
  await svc.load(Readable.from(await archive('b:1', [lb])));
  const a = svc.resolve('a:1');
  const b = svc.resolve('b:1');
  await svc.remove('a:1', { force: true }); // deleted outright: nothing dangling yet
  await svc.load(Readable.from(await archive('a:1', [la])));
  await svc.load(Readable.from(await archive('a:1', [la, lb]))); // a:1 moves: the first image is dangling
  const r = await svc.prune();
  assert.deepEqual(r.deleted, [{ deleted: a }]);
  assert.equal(r.spaceReclaimed, 0, 'its layer is shared with the new a:1');
  inUse.set(b, [{ id: 'c'.repeat(64), running: false }]);
  const all = await svc.prune({ all: true });
  assert.equal(all.deleted[0]?.untagged, 'a:1');
  assert.equal(svc.resolve('b:1'), b, 'used by a container: kept');
  assert.ok(all.spaceReclaimed > 0);
});
