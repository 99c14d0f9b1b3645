// docker exec against berthd: exit codes, options, errors and the exec inspect shape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { TestDaemon, daemonWithBusybox, skipReason } from '../helpers/env.ts';

function api(sock: string, method: string, path: string, body?: object): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const r = request({ socketPath: sock, method, path, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: b ? (JSON.parse(b) as unknown) : undefined }));
    });
    r.on('error', reject);
    r.end(body ? JSON.stringify(body) : undefined);
  });
}

describe('exec', { skip: skipReason() }, () => {
  const d = new TestDaemon();
  before(async () => {
    await daemonWithBusybox(d);
    await d.docker(['run', '-d', '--name', 'box', '-e', 'FROM_CTR=1', 'busybox', 'sleep', '1000']);
  });
  after(() => d.cleanup());

  test('exit codes propagate: 0, 1, 3, 127 for a missing binary, 126 for a non-executable', async () => {
    assert.equal((await d.docker(['exec', 'box', 'true'])).code, 0);
    assert.equal((await d.docker(['exec', 'box', 'false'])).code, 1);
    assert.equal((await d.docker(['exec', 'box', 'sh', '-c', 'exit 3'])).code, 3);
    const missing = await d.docker(['exec', 'box', 'nosuchbinary']);
    assert.equal(missing.code, 127);
    assert.match(missing.stdout + missing.stderr, /exec: "nosuchbinary": executable file not found in \$PATH/);
    assert.equal((await d.docker(['exec', 'box', '/etc'])).code, 126);
    const user = await d.docker(['exec', '-u', 'nosuchuser', 'box', 'true']);
    assert.equal(user.code, 126);
    assert.match(user.stdout + user.stderr, /unable to find user nosuchuser/);
  });

  test('stdout and stderr stay apart; -i passes stdin; -e, --env-file, -u, -w, -d', async () => {
    const r = await d.docker(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const i = await d.docker(['exec', '-i', 'box', 'sh', '-c', 'cat; echo end'], { input: 'piped\n' });
    assert.equal(i.stdout, 'piped\nend\n');
    const o = await d.docker(['exec', '-e', 'X=2', '-u', 'nobody', '-w', '/tmp', 'box', 'sh', '-c', 'echo $FROM_CTR $X $(id -u) $(pwd)']);
    assert.equal(o.stdout, '1 2 65534 /tmp\n');
    assert.equal((await d.docker(['exec', '-d', 'box', 'sh', '-c', 'sleep 0.2; echo done > /tmp/detached'])).code, 0);
    await new Promise((res) => setTimeout(res, 600));
    assert.equal((await d.docker(['exec', 'box', 'cat', '/tmp/detached'])).stdout, 'done\n');
    const priv = await d.docker(['exec', '--privileged', 'box', 'grep', 'CapEff', '/proc/self/status']);
    assert.notEqual(priv.stdout.trim(), 'CapEff:\t00000000a80425fb');
  });

  test('errors: stopped (409), paused (409), unknown exec id (404); inspect shape', async () => {
    await d.docker(['create', '--name', 'stopped', 'busybox']);
    const stopped = await api(d.sock, 'POST', '/containers/stopped/exec', { Cmd: ['true'] });
    assert.equal(stopped.status, 409);
    assert.match((stopped.json as { message: string }).message, /^Container [a-f0-9]{64} is not running$/);
    await d.docker(['pause', 'box']);
    const paused = await api(d.sock, 'POST', '/containers/box/exec', { Cmd: ['true'] });
    assert.equal(paused.status, 409);
    assert.match((paused.json as { message: string }).message, /is paused, unpause the container before exec/);
    await d.docker(['unpause', 'box']);
    const unknown = await api(d.sock, 'GET', '/exec/deadbeef/json');
    assert.equal(unknown.status, 404);
    assert.equal((unknown.json as { message: string }).message, 'No such exec instance: deadbeef');

    const created = await api(d.sock, 'POST', '/containers/box/exec', { Cmd: ['sh', '-c', 'exit 7'], AttachStdout: true });
    assert.equal(created.status, 201);
    const id = (created.json as { Id: string }).Id;
    const before = (await api(d.sock, 'GET', `/exec/${id}/json`)).json as Record<string, unknown>;
    assert.equal(before.Running, false);
    assert.equal(before.ExitCode, null);
    assert.deepEqual(before.ProcessConfig, { arguments: ['-c', 'exit 7'], entrypoint: 'sh', privileged: false, tty: false });
    assert.equal((await api(d.sock, 'POST', `/exec/${id}/start`, { Detach: true })).status, 200);
    let after: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) {
      after = (await api(d.sock, 'GET', `/exec/${id}/json`)).json as Record<string, unknown>;
      if (after.ExitCode !== null) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(after.ExitCode, 7);
    assert.equal(after.Running, false);
    assert.ok((after.Pid as number) > 0);
    const again = await api(d.sock, 'POST', `/exec/${id}/start`, { Detach: true });
    assert.equal(again.status, 409);

    // exec sessions of a removed container are gone
    await d.docker(['run', '-d', '--name', 'gone', 'busybox', 'sleep', '100']);
    const g = ((await api(d.sock, 'POST', '/containers/gone/exec', { Cmd: ['true'] })).json as { Id: string }).Id;
    await d.docker(['rm', '-f', 'gone']);
    assert.equal((await api(d.sock, 'GET', `/exec/${g}/json`)).status, 404);
  });
});
