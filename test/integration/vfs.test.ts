// berthd with the vfs storage driver (the fallback where overlayfs is unavailable).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, daemonWithBusybox, skipReason } from '../helpers/env.ts';

describe('vfs storage driver', { skip: skipReason() }, () => {
  const d = new TestDaemon(['--storage-driver', 'vfs']);
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());

  test('runs containers, diffs and commits them', async () => {
    assert.equal((await d.docker(['info', '--format', '{{.Driver}}'])).stdout.trim(), 'vfs');
    const r = await d.docker(['run', '--name', 'v1', 'busybox', 'sh', '-c', 'echo x > /new && rm /bin/ls']);
    assert.equal(r.code, 0, r.stderr);
    const diff = await d.docker(['diff', 'v1']);
    assert.deepEqual(diff.stdout.trim().split('\n').sort(), ['A /new', 'C /bin', 'D /bin/ls']);
    assert.equal((await d.docker(['commit', 'v1', 'vfsimg:1'])).code, 0);
    const out = await d.docker(['run', '--rm', 'vfsimg:1', 'sh', '-c', 'cat /new; ls /bin/ls 2>&1 || true']);
    assert.match(out.stdout, /^x\n.*No such file or directory/);
    assert.equal((await d.docker(['rm', 'v1'])).code, 0);
    assert.equal((await d.docker(['rmi', 'vfsimg:1'])).code, 0);
  });
});
