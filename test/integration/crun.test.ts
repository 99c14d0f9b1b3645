// berthd with --runtime crun (through the hybrid-cgroup wrapper on this host).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { TestDaemon, daemonWithBusybox, skipReason } from '../helpers/env.ts';

const skip = skipReason() ?? (spawnSync('sh', ['-c', 'command -v crun']).status !== 0 ? 'needs crun (apt-get install crun)' : undefined);

describe('crun runtime', { skip }, () => {
  const d = new TestDaemon(['--runtime', 'crun']);
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());

  test('runs, limits, stops and removes containers', async () => {
    assert.equal((await d.docker(['info', '--format', '{{.DefaultRuntime}}'])).stdout.trim(), 'crun');
    const r = await d.docker(['run', '--rm', '-m', '64m', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    assert.equal(r.code, 0, r.stderr + d.log);
    assert.equal(r.stdout.trim(), '67108864');
    const code = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 5']);
    assert.equal(code.code, 5);
    assert.equal((await d.docker(['run', '-d', '--name', 'crunner', 'busybox', 'sleep', '100'])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'crunner'])).stdout.trim(), 'running');
    assert.equal((await d.docker(['stop', '-t', '1', 'crunner'])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'crunner'])).stdout.trim(), '137');
    assert.equal((await d.docker(['rm', 'crunner'])).code, 0);
  });
});
