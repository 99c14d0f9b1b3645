import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveUser, readInRoot } from './passwd.ts';

test('resolveUser follows docker: names, numbers, groups, supplementary groups', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-passwd-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nweb:x:100:101:web:/srv:/bin/sh\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\nwebg:x:101:\nextra:x:500:web\n');
  assert.deepEqual(await resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/root' });
  assert.deepEqual(await resolveUser(root, 'web'), { uid: 100, gid: 101, additionalGids: [101, 500], home: '/srv' });
  assert.deepEqual(await resolveUser(root, '100:extra'), { uid: 100, gid: 500, additionalGids: [500], home: '/srv' });
  assert.deepEqual(await resolveUser(root, '4242'), { uid: 4242, gid: 0, additionalGids: [0], home: '/' });
  assert.deepEqual((await resolveUser(root, 'web', ['0'])).additionalGids, [101, 500, 0]);
  await assert.rejects(resolveUser(root, 'ghost'), /unable to find user ghost: no matching entries in passwd file/);
  await assert.rejects(resolveUser(root, 'web:ghosts'), /unable to find group ghosts/);
});

test('readInRoot does not follow a symlink out of the rootfs', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-inroot-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'etc'));
  await symlink('/etc/hostname', join(root, 'etc/passwd'));
  assert.equal(await readInRoot(root, '/etc/passwd'), undefined);
});
