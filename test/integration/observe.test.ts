// events, stats and logs through the docker CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';

const skip = skipReason();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('events, stats, logs', { skip }, () => {
  const d = new TestDaemon();
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());

  test('events streams container and image events live and replays --since', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    // --since replays what happened before the stream connected, so a slow start loses nothing
    const p = spawn('docker', ['events', '--since', String(since), '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}', '--filter', 'type=container'], { env: d.env });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const name = `ev-${randomSuffix()}`;
    await d.docker(['run', '--name', name, 'busybox', 'true']);
    await d.docker(['rm', name]);
    for (let i = 0; i < 50 && !out.includes(`destroy ${name}`); i++) await sleep(100);
    p.kill();
    const lines = out.trim().split('\n').filter((l) => l.endsWith(` ${name}`));
    assert.deepEqual(lines, [`container create ${name}`, `container attach ${name}`, `container start ${name}`, `container die ${name}`, `container destroy ${name}`]);
    const replay = await d.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', `container=${name}`, '--format', '{{.Action}}']);
    assert.equal(replay.code, 0, replay.stderr);
    assert.equal(replay.stdout, 'create\nattach\nstart\ndie\ndestroy\n');
    const img = await d.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    assert.match(img.stdout, /^load /m);
  });

  test('stats --no-stream shows CPU, memory usage/limit and pids', async () => {
    const name = `st-${randomSuffix()}`;
    await d.docker(['run', '-d', '--name', name, '-m', '32m', 'busybox', 'sh', '-c', 'while true; do :; done']);
    await sleep(500);
    const r = await d.docker(['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}', name]);
    assert.equal(r.code, 0, r.stderr);
    const [n, cpu, mem, pids] = r.stdout.trim().split('|');
    assert.equal(n, name);
    assert.ok(Number.parseFloat(cpu ?? '') > 20, `a busy loop uses CPU: ${cpu}`);
    assert.match(mem ?? '', /^[\d.]+[KMG]?i?B \/ 32MiB$/);
    assert.equal(pids, '1');
    const table = await d.docker(['stats', '--no-stream', name]);
    assert.match(table.stdout.split('\n')[0] ?? '', /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    await d.docker(['rm', '-f', name]);
  });

  test('logs --tail, --since, -t, -f and stderr separation', async () => {
    const name = `lg-${randomSuffix()}`;
    await d.docker(['run', '--name', name, 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done']);
    const all = await d.docker(['logs', name]);
    assert.equal(all.stdout, 'out1\nout2\nout3\nout4\nout5\n');
    assert.equal(all.stderr, 'err1\nerr2\nerr3\nerr4\nerr5\n');
    // stdout and stderr are separate pipes, so their relative order in the log is racy: tail a stdout-only log
    const so = `lo-${randomSuffix()}`;
    await d.docker(['run', '--name', so, 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo out$i; done']);
    const tail = await d.docker(['logs', '--tail', '2', so]);
    assert.equal(tail.stdout, 'out4\nout5\n');
    const ts = await d.docker(['logs', '-t', '--tail', '1', so]);
    assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) out5\n$/);
    await d.docker(['rm', so]);
    const future = await d.docker(['logs', '--since', String(Math.floor(Date.now() / 1000) + 60), name]);
    assert.equal(future.stdout, '');
    await d.docker(['rm', name]);

    const f = `lf-${randomSuffix()}`;
    await d.docker(['run', '-d', '--name', f, 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo tick$i; sleep 0.3; done']);
    const follow = await d.docker(['logs', '-f', f], { timeout: 10_000 });
    assert.equal(follow.stdout, 'tick1\ntick2\ntick3\n', 'logs -f follows until the container exits');
    await d.docker(['rm', f]);
  });

  test('info and version report berth', async () => {
    const info = await d.docker(['info', '--format', '{{.Driver}} {{.OSType}} {{.DefaultRuntime}} {{.Containers}}']);
    assert.match(info.stdout.trim(), /^(overlay2|vfs) linux runc \d+$/);
    const v = await d.docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.MinAPIVersion}}']);
    assert.equal(v.stdout.trim(), '1.45 1.24');
  });
});
