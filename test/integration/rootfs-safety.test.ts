// The runc here lacks the 2025 /dev-symlink fixes: berth must refuse such a rootfs itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';

describe('rootfs symlink checks before create', { skip: skipReason() }, () => {
  const d = new TestDaemon();
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());

  /** An image made by `docker import` of busybox's filesystem with `link` → `target` added. */
  async function imageWithSymlink(link: string, target: string): Promise<string> {
    const tag = `evil-${randomSuffix()}:1`;
    const work = join(d.dir, `fs-${randomSuffix()}`);
    mkdirSync(work);
    const mk = await d.docker(['create', '--name', `src-${randomSuffix()}`, 'busybox']);
    const id = mk.stdout.trim();
    const ex = spawnSync('sh', ['-c', `docker export ${id} | tar -x -C ${work} && rm -rf ${work}${link} && ln -s ${target} ${work}${link} && tar -c -C ${work} . | docker import - ${tag}`], { env: d.env, encoding: 'utf8' });
    assert.equal(ex.status, 0, ex.stderr);
    await d.docker(['rm', id]);
    return tag;
  }

  test('an image whose /dev is a symlink out of the rootfs is refused, and the host is untouched', async () => {
    const outside = join(d.dir, 'outside-dev');
    mkdirSync(outside);
    const tag = await imageWithSymlink('/dev', outside);
    const r = await d.docker(['run', '--rm', tag, 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unsafe rootfs: \/dev is a symlink/);
    assert.deepEqual(readdirSync(outside), [], 'nothing was created in the symlink target');
  });

  test('a volume destination through a symlink out of the rootfs is refused', async () => {
    const outside = join(d.dir, 'outside-data');
    mkdirSync(outside);
    const tag = await imageWithSymlink('/data', outside);
    const r = await d.docker(['run', '--rm', '-v', '/data/sub', tag, 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unsafe mount destination \/data\/sub: symlink leads out of the rootfs/);
    assert.equal(existsSync(join(outside, 'sub')), false);
  });
});
