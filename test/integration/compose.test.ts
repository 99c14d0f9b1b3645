// docker-compose (Debian's 1.29, docker-py underneath) against a real berthd: a project with a
// built image, a user network with service-name DNS, a published port, logs, exec and down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, randomSuffix, runCmd, skipReason } from '../helpers/env.ts';
import { freePort, get } from '../helpers/http.ts';

function composeSkip(): string | undefined {
  return skipReason() ?? (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0 ? undefined : 'needs docker-compose (scripts/install.sh installs it)');
}

describe('docker-compose', { skip: composeSkip() }, () => {
  const d = new TestDaemon();
  let dir = '';
  before(async () => {
    await daemonWithBusybox(d);
    dir = mkdtempSync('/tmp/berth-compose-');
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await d.cleanup();
  });

  test('up (build, network, DNS by service name, ports), ps, logs, exec, down removes it all', async () => {
    const project = `p${randomSuffix()}`;
    const port = await freePort();
    mkdirSync(join(dir, 'web'));
    writeFileSync(join(dir, 'web/index.html'), 'compose-page\n');
    writeFileSync(join(dir, 'web/Dockerfile'), 'FROM busybox\nCOPY index.html /www/index.html\nEXPOSE 80\nCMD ["httpd", "-f", "-p", "80", "-h", "/www"]\n');
    writeFileSync(join(dir, 'docker-compose.yml'), [
      'version: "3.8"',
      'services:',
      '  web:',
      '    build: ./web',
      '    ports:',
      `      - "127.0.0.1:${port}:80"`,
      '  client:',
      '    image: busybox:latest',
      '    command: ["sh", "-c", "until wget -qO- http://web/; do sleep 0.2; done; sleep 300"]',
      '    depends_on: [web]',
      '',
    ].join('\n'));
    const env = { ...process.env, DOCKER_HOST: `unix://${d.sock}`, COMPOSE_PROJECT_NAME: project };
    const compose = (args: string[]): ReturnType<typeof runCmd> => runCmd('docker-compose', ['-f', join(dir, 'docker-compose.yml'), '--project-directory', dir, ...args], { env, timeout: 120_000 });
    const up = await compose(['up', '-d']);
    assert.equal(up.code, 0, up.stderr);
    try {
      assert.equal(await get('127.0.0.1', port), 'compose-page');
      const ps = await compose(['ps']);
      assert.match(ps.stdout, new RegExp(`${project}_web_1 .* Up `));
      assert.match(ps.stdout, new RegExp(`${project}_client_1 .* Up`));
      let logs = '';
      for (let i = 0; i < 50 && !logs.includes('compose-page'); i++) {
        logs = (await compose(['logs', 'client'])).stdout;
        if (!logs.includes('compose-page')) await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(logs, /compose-page/, 'the client reached web by its service name');
      const ex = await compose(['exec', '-T', 'client', 'nslookup', 'web']);
      assert.equal(ex.code, 0, ex.stderr);
    } finally {
      const down = await compose(['down', '--rmi', 'local']);
      assert.equal(down.code, 0, down.stderr);
    }
    assert.equal((await d.docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`])).stdout.trim(), '');
    assert.doesNotMatch((await d.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout, new RegExp(project));
  });
});
