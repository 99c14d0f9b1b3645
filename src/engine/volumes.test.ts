import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { BerthError, silentLogger } from '../common/index.ts';
import { MetadataStore } from '../store/index.ts';
import { EventBus } from './events.ts';
import { ANONYMOUS_LABEL, VolumeService } from './volumes.ts';

function setup(t: { after: (fn: () => Promise<void>) => void }): { svc: VolumeService; users: Map<string, string[]>; events: EventBus; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'berth-vol-unit-'));
  const meta = MetadataStore.open(root);
  const users = new Map<string, string[]>();
  const events = new EventBus();
  const svc = new VolumeService({ meta, root: join(root, 'volumes'), events, log: silentLogger, users: (n) => users.get(n) ?? [] });
  t.after(async () => {
    meta.close();
    await rm(root, { recursive: true, force: true });
  });
  return { svc, users, events, root };
}

const kindAndMessage = (kind: string, message: string) => (err: unknown): boolean => err instanceof BerthError && err.kind === kind && err.message === message;

test('a volume without a name is anonymous and labelled as dockerd does; a named one is not', async (t) => {
  const { svc } = setup(t);
  const anon = await svc.create({});
  assert.match(anon.name, /^[a-f0-9]{64}$/);
  assert.deepEqual(anon.labels, { [ANONYMOUS_LABEL]: '' });
  assert.equal(anon.anonymous, true);
  const named = await svc.create({ name: 'data', labels: { a: 'b' }, api: true });
  assert.deepEqual(named.labels, { a: 'b' });
  assert.equal(named.anonymous, false);
  assert.ok(existsSync(named.mountpoint));
  assert.equal((await svc.create({ name: 'data' })).createdAt, named.createdAt, 'create of an existing name returns it');
});

test('names are validated with dockerd\'s message', async (t) => {
  const { svc } = setup(t);
  await assert.rejects(svc.create({ name: 'a/b' }), kindAndMessage('invalid-argument', 'create a/b: "a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'));
  await assert.rejects(svc.create({ name: 'x' }), /includes invalid characters/); // two characters at least
});

test('get and remove of a missing volume: dockerd\'s `get x: no such volume`; force makes remove succeed', async (t) => {
  const { svc } = setup(t);
  assert.throws(() => svc.get('nope'), kindAndMessage('not-found', 'get nope: no such volume'));
  await assert.rejects(svc.remove('nope'), kindAndMessage('not-found', 'get nope: no such volume'));
  await svc.remove('nope', { force: true });
});

test('remove of a volume in use is a conflict, even with force', async (t) => {
  const { svc, users } = setup(t);
  await svc.create({ name: 'busy' });
  users.set('busy', ['c1', 'c2']);
  await assert.rejects(svc.remove('busy'), kindAndMessage('conflict', 'remove busy: volume is in use - [c1, c2]'));
  await assert.rejects(svc.remove('busy', { force: true }), /volume is in use/);
  users.delete('busy');
  await svc.remove('busy');
  assert.deepEqual(svc.list(), []);
});

test('prune: anonymous unused volumes only; all adds named ones; in use and mount-option volumes stay', async (t) => {
  const { svc, users } = setup(t);
  const anon = await svc.create({});
  writeFileSync(join(anon.mountpoint, 'f'), 'hello');
  const used = await svc.create({});
  users.set(used.name, ['c1']);
  await svc.create({ name: 'named' });
  await svc.create({ name: 'tmpfsvol', options: { type: 'tmpfs', device: 'tmpfs' } });
  await svc.create({ name: 'marked', labels: { [ANONYMOUS_LABEL]: '' } });
  const r = await svc.prune();
  assert.deepEqual(r.deleted.sort(), [anon.name, 'marked'].sort());
  assert.equal(r.spaceReclaimed, 5);
  const all = await svc.prune({ all: true });
  assert.deepEqual(all.deleted, ['named']);
  assert.deepEqual(svc.list().map((v) => v.name).sort(), [used.name, 'tmpfsvol'].sort());
});
