// berthd killed -9 while an interactive session and a `logs -f` run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';

const skip = skipReason() ?? (spawnSync('sh', ['-c', 'command -v tmux']).status !== 0 ? 'needs tmux' : undefined);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('kill -9 during interactive sessions', { skip }, () => {
  const d = new TestDaemon();
  const sock = `berth-crash-${randomSuffix()}`;
  const tmux = (...args: string[]): string => spawnSync('tmux', ['-L', sock, ...args], { encoding: 'utf8' }).stdout;
  before(() => daemonWithBusybox(d));
  after(async () => {
    spawnSync('tmux', ['-L', sock, 'kill-server']);
    await d.cleanup();
  });

  async function waitFor(pane: string, re: RegExp, ms = 5000): Promise<string> {
    const t0 = Date.now();
    let screen = '';
    while (Date.now() - t0 < ms) {
      screen = tmux('capture-pane', '-p', '-t', pane);
      if (re.test(screen)) return screen;
      await sleep(100);
    }
    assert.fail(`${re} did not appear in:\n${screen}`);
  }

  test('containers keep running, a new attach works, no log line is lost', async () => {
    const env = `DOCKER_HOST=unix://${d.sock}`;
    tmux('new-session', '-d', '-s', 'it', '-x', '100', '-y', '30', `${env} docker run -it --name shell busybox sh; sleep 60`);
    await waitFor('it', /\/ #/);
    tmux('send-keys', '-t', 'it', 'echo before-$((20+1))', 'Enter');
    await waitFor('it', /before-21/);
    await d.docker(['run', '-d', '--name', 'counter', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 300 ]; do echo n$i; i=$((i+1)); sleep 0.01; done']);
    const follow = spawn('docker', ['logs', '-f', 'counter'], { env: d.env });
    let followed = '';
    follow.stdout.on('data', (b: Buffer) => (followed += b.toString()));
    await sleep(700);
    await d.kill9();
    await sleep(500);
    assert.match(followed, /^n0\n/, 'logs -f was streaming before the crash');
    follow.kill();
    await d.start();

    const st = await d.docker(['inspect', '-f', '{{.State.Status}}', 'shell']);
    assert.equal(st.stdout.trim(), 'running', 'the interactive container survived');
    tmux('new-session', '-d', '-s', 'again', '-x', '90', '-y', '25', `${env} docker attach shell; echo ATTACH-EXIT $?; sleep 60`);
    await sleep(800);
    tmux('send-keys', '-t', 'again', 'echo after-$((40+2)); stty size', 'Enter');
    await waitFor('again', /after-42\n25 90/);
    tmux('send-keys', '-t', 'again', 'exit 4', 'Enter');
    await waitFor('again', /ATTACH-EXIT 4/);

    await d.docker(['wait', 'counter']);
    const logs = (await d.docker(['logs', 'counter'])).stdout.trim().split('\n');
    assert.equal(logs.length, 300);
    logs.forEach((l, i) => assert.equal(l, `n${i}`));
  });
});
