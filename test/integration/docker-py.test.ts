// docker-py (Debian's python3-docker, installed by scripts/install.sh) against a real berthd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, TestDaemon, daemonWithBusybox, runCmd, skipReason } from '../helpers/env.ts';

const PY = '/usr/bin/python3';
function pySkip(): string | undefined {
  const base = skipReason();
  if (base) return base;
  return spawnSync(PY, ['-c', 'import docker'], { stdio: 'ignore' }).status === 0 ? undefined : 'needs python3-docker (scripts/install.sh installs it)';
}

describe('docker-py', { skip: pySkip() }, () => {
  const d = new TestDaemon();
  before(async () => {
    await daemonWithBusybox(d);
  });
  after(() => d.cleanup());

  test('ping, images, run (foreground and detached), exec_run, logs, top, stop/wait/remove, volumes, build, networks, events, errors', async () => {
    const r = await runCmd(PY, [join(ROOT, 'test/clients/docker_py_smoke.py'), `unix://${d.sock}`], { timeout: 120_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /ALL OK/);
  });
});
