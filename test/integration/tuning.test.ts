// berthd's memory tuning (src/daemon/tune.ts): it re-executes itself in place with its Node flags,
// keeps its pid and stdio, hides the tuning from its children, and reclaims memory once idle.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { TestDaemon, daemonWithBusybox, skipReason } from '../helpers/env.ts';

const skip = skipReason();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('berthd memory tuning', { skip }, () => {
  const d = new TestDaemon(['--debug']);
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());

  test('re-executed in place with its Node flags; stdio still reaches the parent', () => {
    const argv = readFileSync(`/proc/${d.proc!.pid}/cmdline`, 'utf8').split('\0');
    for (const f of ['--max-semi-space-size=1', '--no-sparkplug', '--expose-gc']) assert.ok(argv.includes(f), `${f} in ${argv.join(' ')}`);
    assert.match(d.log, /berthd is listening/);
  });

  test('children do not inherit the tuning environment', async () => {
    const r = await d.docker(['run', '-d', 'busybox', 'sleep', '60']);
    assert.equal(r.code, 0, r.stderr);
    const pids = (spawnSync('pgrep', ['-f', `conmon.*${d.dir}`], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean);
    assert.ok(pids.length > 0, 'a conmon process');
    const env = readFileSync(`/proc/${pids[0]}/environ`, 'utf8').split('\0');
    assert.ok(!env.some((e) => e.startsWith('BERTHD_REEXEC=') || e.startsWith('MALLOC_ARENA_MAX=')), env.join(' '));
    await d.docker(['rm', '-f', r.stdout.trim()]);
  });

  test('memory is reclaimed once requests stop', async () => {
    const before = (d.log.match(/idle memory reclaimed/g) ?? []).length;
    const ps = await d.docker(['ps']);
    assert.equal(ps.code, 0, ps.stderr);
    for (let i = 0; i < 50 && (d.log.match(/idle memory reclaimed/g) ?? []).length === before; i++) await sleep(100);
    assert.ok((d.log.match(/idle memory reclaimed/g) ?? []).length > before, 'an "idle memory reclaimed" debug line within 5 s');
  });
});
