import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, symlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRootfs } from './rootfs-check.ts';

test('checkRootfs refuses symlinked /dev and escaping mount destinations', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rootfs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'rootfs');
  await mkdir(join(root, 'proc'), { recursive: true });
  await mkdir(join(root, 'data'), { recursive: true });
  await symlink('/tmp', join(root, 'dev'));
  await assert.rejects(checkRootfs(root, []), /\/dev is a symlink/);
  await rm(join(root, 'dev'));
  await mkdir(join(root, 'dev'));
  await checkRootfs(root, ['/data/x', '/new/dir']);
  await symlink('/etc', join(root, 'evil'));
  await assert.rejects(checkRootfs(root, ['/evil/x']), /leads out of the rootfs/);
  await symlink('data', join(root, 'ok'));
  await checkRootfs(root, ['/ok/x']);
  await symlink('../../..', join(root, 'data', 'up'));
  await assert.rejects(checkRootfs(root, ['/data/up/x']), /leads out of the rootfs/);
});
