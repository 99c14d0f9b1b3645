// testcontainers (node, 10.x: the line that supports Node 20) against a real berthd. Ryuk, its
// reaper, is an image from Docker Hub, which this machine cannot reach: it is disabled.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, daemonWithBusybox, skipReason } from '../helpers/env.ts';
import { get } from '../helpers/http.ts';

describe('testcontainers', { skip: skipReason() }, () => {
  const d = new TestDaemon();
  before(async () => {
    await daemonWithBusybox(d);
    process.env.DOCKER_HOST = `unix://${d.sock}`;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  });
  after(async () => {
    delete process.env.DOCKER_HOST;
    await d.cleanup();
  });

  test('GenericContainer: exposed port with a log wait strategy, mapped port answers, exec, logs, stop', async () => {
    const { GenericContainer, Wait } = await import('testcontainers');
    const c = await new GenericContainer('busybox:latest')
      .withCommand(['sh', '-c', 'mkdir -p /www && echo tc-page > /www/index.html && echo ready && exec httpd -f -p 8080 -h /www'])
      .withExposedPorts(8080)
      .withEnvironment({ FROM_TC: 'yes' })
      .withLabels({ suite: 'testcontainers' })
      .withWaitStrategy(Wait.forLogMessage('ready'))
      .start();
    try {
      assert.equal(await get(c.getHost(), c.getMappedPort(8080)), 'tc-page');
      const ex = await c.exec(['sh', '-c', 'echo $FROM_TC; exit 3']);
      assert.equal(ex.exitCode, 3);
      assert.equal(ex.output, 'yes\n');
      const logs = await c.logs();
      const text = await new Promise<string>((resolve) => {
        let s = '';
        logs.on('data', (b: Buffer | string) => {
          s += b.toString();
          if (s.includes('ready')) resolve(s);
        });
      });
      assert.match(text, /ready/);
      logs.destroy();
      assert.equal((await d.docker(['inspect', '-f', '{{index .Config.Labels "suite"}}', c.getId()])).stdout.trim(), 'testcontainers');
    } finally {
      await c.stop();
    }
    assert.equal((await d.docker(['ps', '-aq', '--filter', `id=${c.getId()}`])).stdout.trim(), '', 'stopped and removed');
  });
});
