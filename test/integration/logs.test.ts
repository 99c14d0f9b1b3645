// Container logs through the docker CLI: rotation (max-size/max-file), follow across rotations,
// --tail/--since/--until/-t/--details, tty logs, logs after a berthd restart, option errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';

const skip = skipReason();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const seq = (from: number, to: number): string => Array.from({ length: to - from }, (_, i) => `${from + i}\n`).join('');

describe('logs', { skip }, () => {
  const d = new TestDaemon();
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());

  const logDir = (id: string): string => join(d.dataRoot, 'containers', id);
  async function dirBytes(dir: string, prefix: string): Promise<{ bytes: number; files: string[] }> {
    const files = (await readdir(dir)).filter((f) => f.startsWith(prefix));
    let bytes = 0;
    for (const f of files) bytes += (await stat(join(dir, f)).catch(() => ({ size: 0 }))).size;
    return { bytes, files };
  }

  test('-f follows across rotations losslessly; files on disk stay bounded; --tail reads rotated files', async (t) => {
    const name = `rot-${randomSuffix()}`;
    const n = 60000; // ~3 MB of log: the bound below is meaningful only if rotation really runs
    // the sleep lets `logs -f` connect before the first rotation drops anything
    const run = await d.docker(['run', '-d', '--name', name, '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c',
      `sleep 1; i=0; while [ $i -lt ${n} ]; do echo $i; i=$((i+1)); done`]);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const f = spawn('docker', ['logs', '-f', name], { env: d.env });
    let out = '';
    f.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const ended = new Promise<number>((r) => f.on('close', (c) => r(c ?? -1)));
    let maxBytes = 0;
    let maxFiles = 0;
    const watching = (async () => {
      for (let i = 0; i < 600 && f.exitCode === null; i++) {
        const s = await dirBytes(logDir(id), `${id}-json.log`);
        maxBytes = Math.max(maxBytes, s.bytes);
        maxFiles = Math.max(maxFiles, s.files.length);
        await sleep(10);
      }
    })();
    assert.equal(await ended, 0);
    await watching;
    assert.ok(out === seq(0, n), `logs -f must print 0..${n - 1} in order; got ${out.split('\n').length - 1} lines, first difference at line ${out.split('\n').findIndex((l, i) => l !== String(i))}`);
    const end = await dirBytes(logDir(id), `${id}-json.log`);
    assert.ok(end.files.length <= 3, `max-file=3: ${end.files.join(' ')}`);
    // slack: what the container (several MB/s here) writes while a full file rotates: berthd
    // re-arms its watch every 20 ms (engine/logs.ts), plus the rotation itself and conmon's reopen
    // (1-8 ms); readers such as this `logs -f` contend for the same lock. Measured peaks: 0.5-0.9 MB
    // on a busy 2-vCPU host. The writer's whole output (~3.1 MB) is well above the bound, so the
    // check still fails if rotation does not run.
    const bound = 2 * 1024 * 1024;
    t.diagnostic(`log files peaked at ${maxBytes} bytes in ${maxFiles} files`);
    assert.ok(maxBytes <= bound, `log files peaked at ${maxBytes} bytes (bound ${bound})`);
    assert.ok(maxFiles <= 4, `at most max-file files, plus one while conmon reopens: ${maxFiles}`);
    const tail = await d.docker(['logs', '--tail', '500', name]);
    assert.equal(tail.stdout, seq(n - 500, n), 'the last 500 lines span the rotated files');
    const all = await d.docker(['logs', name]);
    // the oldest kept line may be the tail of a line whose start went with a dropped file (conmon
    // splits a line it reads in two pieces into P and F records): compare from the second line
    const lines = all.stdout.split('\n');
    const second = Number(lines[1]);
    assert.equal(lines.slice(1).join('\n'), seq(second, n), 'logs shows the kept lines in order');
  });

  test('stdout and stderr apart; --since/--until; -t; --details', async () => {
    const name = `det-${randomSuffix()}`;
    const r = await d.docker(['run', '--name', name, '--label', 'team=a b', '--log-opt', 'labels=team', '--log-opt', 'env=E', '-e', 'E=v', 'busybox', 'sh', '-c',
      'echo out1; echo err1 >&2; sleep 1.5; echo out2']);
    assert.equal(r.code, 0, r.stderr);
    const all = await d.docker(['logs', name]);
    assert.equal(all.stdout, 'out1\nout2\n');
    assert.equal(all.stderr, 'err1\n');
    const ts = await d.docker(['logs', '-t', name]);
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) out1\n(\S+) out2\n$/.exec(ts.stdout);
    assert.ok(m, `-t prints RFC3339Nano UTC stamps: ${ts.stdout}`);
    const t1 = Date.parse(m[1]!);
    const t2 = Date.parse(m[2]!);
    assert.ok(t2 - t1 >= 1000);
    const mid = new Date((t1 + t2) / 2).toISOString();
    assert.equal((await d.docker(['logs', '--since', mid, name])).stdout, 'out2\n');
    assert.equal((await d.docker(['logs', '--until', mid, name])).stdout, 'out1\n');
    const det = await d.docker(['logs', '--details', name]);
    assert.equal(det.stdout, 'E=v,team=a+b out1\nE=v,team=a+b out2\n');
    const plain = `pl-${randomSuffix()}`;
    await d.docker(['run', '--name', plain, 'busybox', 'echo', 'x']);
    assert.equal((await d.docker(['logs', '--details', plain])).stdout, ' x\n', 'no attributes: docker still adds the space');
  });

  test('tty container logs are raw (\\r\\n), and survive a berthd restart', async () => {
    const name = `tty-${randomSuffix()}`;
    const r = await d.docker(['run', '-d', '-t', '--name', name, 'busybox', 'sh', '-c', 'echo one; echo two; sleep 1000']);
    assert.equal(r.code, 0, r.stderr);
    await sleep(500);
    assert.equal((await d.docker(['logs', name])).stdout, 'one\r\ntwo\r\n');
    await d.stop();
    await d.start();
    assert.equal((await d.docker(['logs', name])).stdout, 'one\r\ntwo\r\n');
    await d.docker(['rm', '-f', name]);
  });

  test('unknown log opt and --log-driver none: docker\'s errors', async () => {
    const bad = await d.docker(['run', '--log-opt', 'foo=bar', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown log opt 'foo' for json-file log driver/);
    const name = `none-${randomSuffix()}`;
    const r = await d.docker(['run', '--name', name, '--log-driver', 'none', 'busybox', 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n', 'attach still works');
    const logs = await d.docker(['logs', name]);
    assert.notEqual(logs.code, 0);
    assert.match(logs.stderr, /configured logging driver does not support reading/);
    const id = (await d.docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
    assert.deepEqual((await readdir(logDir(id))).filter((f) => f.includes('json.log')), []);
  });
});
