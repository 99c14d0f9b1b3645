// dockerode (docker-modem) against a real berthd: hijacked attach and exec with stdin, and the
// multiplexed stdout/stderr framing of attach and logs, demultiplexed by modem.demuxStream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import Docker from 'dockerode';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';

const skip = skipReason();

/** Two sinks that collect what demuxStream writes to them. */
function sinks(): { out: PassThrough; err: PassThrough; text: () => { out: string; err: string } } {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  return { out, err, text: () => ({ out: Buffer.concat(o).toString(), err: Buffer.concat(e).toString() }) };
}

function ended(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', reject);
  });
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('dockerode against berthd', { skip }, () => {
  const d = new TestDaemon();
  let docker: Docker;
  before(async () => {
    await daemonWithBusybox(d);
    docker = new Docker({ socketPath: d.sock });
  });
  after(() => d.cleanup());

  test('attach with hijack: stdin reaches cat, EOF ends it, exit code 0', async () => {
    const c = await docker.createContainer({
      name: `dode-cat-${randomSuffix()}`,
      Image: 'busybox',
      Cmd: ['cat'],
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = (await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
    const s = sinks();
    c.modem.demuxStream(stream, s.out, s.err);
    const done = ended(stream);
    await c.start();
    stream.write('hello\n');
    await until(() => s.text().out === 'hello\n', 'the echo of cat');
    stream.end();
    const status = (await c.wait()) as { StatusCode: number };
    assert.equal(status.StatusCode, 0);
    await done;
    assert.deepEqual(s.text(), { out: 'hello\n', err: '' });
    await c.remove();
  });

  test('attach and logs are multiplexed: stdout and stderr come apart', async () => {
    const c = await docker.createContainer({
      name: `dode-mux-${randomSuffix()}`,
      Image: 'busybox',
      Cmd: ['sh', '-c', 'sleep 0.3; echo to-out; echo to-err >&2; echo more-out; exit 4'],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = (await c.attach({ stream: true, stdout: true, stderr: true, hijack: true })) as Duplex;
    const s = sinks();
    c.modem.demuxStream(stream, s.out, s.err);
    const done = ended(stream);
    await c.start();
    const status = (await c.wait()) as { StatusCode: number };
    assert.equal(status.StatusCode, 4);
    await done;
    assert.deepEqual(s.text(), { out: 'to-out\nmore-out\n', err: 'to-err\n' });

    const logs = (await c.logs({ stdout: true, stderr: true, follow: true })) as unknown as Readable;
    const l = sinks();
    c.modem.demuxStream(logs, l.out, l.err);
    await ended(logs);
    assert.deepEqual(l.text(), { out: 'to-out\nmore-out\n', err: 'to-err\n' });

    const onlyErr = (await c.logs({ stdout: false, stderr: true, follow: true })) as unknown as Readable;
    const e = sinks();
    c.modem.demuxStream(onlyErr, e.out, e.err);
    await ended(onlyErr);
    assert.deepEqual(e.text(), { out: '', err: 'to-err\n' });
    await c.remove();
  });

  test('exec with stdin: hijacked start, write, end, read, exit code', async () => {
    const c = await docker.createContainer({ name: `dode-exec-${randomSuffix()}`, Image: 'busybox', Cmd: ['sleep', '1000'] });
    await c.start();
    const exec = await c.exec({ Cmd: ['sh', '-c', 'tr a-z A-Z; echo done >&2; exit 5'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
    const s = sinks();
    c.modem.demuxStream(stream, s.out, s.err);
    const done = ended(stream);
    stream.write('hello exec\n');
    await until(() => s.text().out === 'HELLO EXEC\n', 'the exec output');
    stream.end();
    await done;
    assert.deepEqual(s.text(), { out: 'HELLO EXEC\n', err: 'done\n' });
    const info = (await exec.inspect()) as { ExitCode: number; Running: boolean };
    assert.equal(info.Running, false);
    assert.equal(info.ExitCode, 5);
    await c.remove({ force: true });
  });
});
