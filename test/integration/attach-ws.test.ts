// GET /containers/{id}/attach/ws: stdin in, output out, over a websocket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { TestDaemon, daemonWithBusybox, skipReason } from '../helpers/env.ts';

describe('websocket attach', { skip: skipReason() }, () => {
  const d = new TestDaemon();
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());

  test('lines sent over the websocket reach the container and its replies come back', async () => {
    const r = await d.docker(['run', '-d', '-i', '--name', 'echoer', 'busybox', 'sh', '-c', 'while read l; do echo "got $l"; done']);
    assert.equal(r.code, 0, r.stderr);
    const ws = new WebSocket(`ws+unix://${d.sock}:/v1.45/containers/echoer/attach/ws?stream=1&stdin=1&stdout=1&stderr=1`);
    let got = '';
    ws.on('message', (data: Buffer) => (got += data.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send('one\n');
    ws.send('two\n');
    for (let i = 0; i < 50 && got !== 'got one\ngot two\n'; i++) await new Promise((res) => setTimeout(res, 50));
    ws.close();
    assert.equal(got, 'got one\ngot two\n');
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'echoer'])).stdout.trim(), 'running');
  });
});
