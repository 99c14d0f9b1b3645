// kill -9 berthd while containers run: they keep running, logs stay whole, exits that happen while
// berthd is down are folded in with their real codes, and the store stays consistent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, skipReason, ROOT } from '../helpers/env.ts';

const skip = skipReason();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function checkStore(d: TestDaemon): { code: number; out: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/berthd.mjs'), '--check-store', '--data-root', d.dataRoot], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

describe('berthd killed -9 and restarted', { skip }, () => {
  const d = new TestDaemon();
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());

  test('containers survive, exits are folded in, --rm ones are removed, the store is consistent', async () => {
    const ticker = await d.docker(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.02; done']);
    assert.equal(ticker.code, 0, ticker.stderr);
    await d.docker(['run', '-d', '--name', 'quitter', 'busybox', 'sh', '-c', 'sleep 1.5; exit 7']);
    await d.docker(['run', '-d', '--rm', '--name', 'tidy', 'busybox', 'sh', '-c', 'sleep 1.5']);
    await d.docker(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 1.5; exit 3']);
    const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'ticker'])).stdout.trim();
    assert.match(pid, /^\d+$/);

    await d.kill9();
    await sleep(2500); // quitter, tidy and always exit while berthd is down
    assert.ok(existsSync(`/proc/${pid}`), 'the container process outlives berthd');
    assert.equal(checkStore(d).code, 0, checkStore(d).out);

    await d.start();
    const t = await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'ticker']);
    assert.equal(t.stdout.trim(), `running ${pid}`);
    const q = await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'quitter']);
    assert.equal(q.stdout.trim(), 'exited 7');
    const gone = await d.docker(['ps', '-a', '--filter', 'name=tidy', '-q']);
    assert.equal(gone.stdout.trim(), '', '--rm container removed on restart');
    let always = '';
    for (let i = 0; i < 50; i++) {
      always = (await d.docker(['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', 'always'])).stdout.trim();
      if (always.startsWith('running')) break;
      await sleep(100);
    }
    assert.match(always, /^running/, 'restart policy always applies after a crash');

    // logs: every line, in order, none lost across the crash
    const logs = (await d.docker(['logs', 'ticker'])).stdout.trim().split('\n');
    assert.ok(logs.length > 50, `got ${logs.length} lines`);
    logs.forEach((l, i) => assert.equal(l, `line ${i}`));

    // the restarted daemon still controls the container
    assert.equal((await d.docker(['stop', '-t', '1', 'ticker'])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'ticker'])).stdout.trim(), 'exited');
  });

  test('kill -9 during an image load leaves a consistent store and the load can be redone', async () => {
    // a bigger image so the kill lands mid-load: busybox plus a 40 MB random layer
    await d.docker(['rm', '-f', 'big']).catch(() => undefined);
    const mk = await d.docker(['run', '--name', 'big', 'busybox', 'sh', '-c', 'head -c 40000000 /dev/urandom > /blob']);
    assert.equal(mk.code, 0, mk.stderr);
    assert.equal((await d.docker(['commit', 'big', 'big:1'])).code, 0);
    const tar = join(d.dir, 'big.tar');
    assert.equal((await d.docker(['save', '-o', tar, 'big:1'])).code, 0);
    await d.docker(['rm', 'big']);
    assert.equal((await d.docker(['rmi', 'big:1'])).code, 0);
    const load = d.docker(['load', '-i', tar]);
    await sleep(150);
    await d.kill9();
    await load;
    const chk = checkStore(d);
    assert.equal(chk.code, 0, chk.out);
    await d.start();
    const again = await d.docker(['load', '-i', tar]);
    assert.equal(again.code, 0, again.stderr);
    const run = await d.docker(['run', '--rm', 'big:1', 'sh', '-c', 'wc -c < /blob']);
    assert.equal(run.stdout.trim(), '40000000');
    await d.stop();
    const chk2 = checkStore(d);
    assert.equal(chk2.code, 0, chk2.out);
    await d.start();
  });
});
