import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { frame } from '../../client/index.ts';
import { runCli, startFake } from '../test-helpers.ts';

const ID = 'a'.repeat(64);
const EXEC = 'e'.repeat(64);

describe('exec', () => {
  it('inspects, creates, starts hijacked, streams, and exits with the exec code', async () => {
    const fake = await startFake([
      [`GET /containers/web/json`, { json: { Id: ID, State: { Running: true }, Config: {} } }],
      [`POST /containers/web/exec`, { status: 201, json: { Id: EXEC } }],
      [`GET /exec/${EXEC}/json`, { json: { ID: EXEC, Running: false, ExitCode: 3 } }],
    ]);
    fake.upgrade(`POST /exec/${EXEC}/start`, (_req, socket) => {
      socket.write(frame(1, 'out\n'));
      socket.end(frame(2, 'err\n'));
    });
    try {
      const r = await runCli(['exec', '-e', 'A=1', '-w', '/tmp', '-u', 'nobody', 'web', 'sh', '-c', 'exit 3'], fake);
      assert.deepEqual([r.stdout, r.stderr, r.code], ['out\n', 'err\n', 3]);
      assert.deepEqual(fake.calls, ['GET /containers/web/json', 'POST /containers/web/exec', `POST /exec/${EXEC}/start`, `GET /exec/${EXEC}/json`]);
      assert.deepEqual(fake.requests[1]?.body, {
        User: 'nobody',
        Privileged: false,
        Tty: false,
        AttachStdin: false,
        AttachStderr: true,
        AttachStdout: true,
        DetachKeys: '',
        Env: ['A=1'],
        WorkingDir: '/tmp',
        Cmd: ['sh', '-c', 'exit 3'],
      });
    } finally {
      await fake.stop();
    }
  });

  it('-d starts detached and prints nothing; daemon errors exit 1', async () => {
    const fake = await startFake([
      [`GET /containers/web/json`, { json: { Id: ID, State: { Running: true }, Config: {} } }],
      [`POST /containers/web/exec`, { status: 201, json: { Id: EXEC } }],
      [`POST /exec/${EXEC}/start`, { status: 200, text: '' }],
    ]);
    try {
      const r = await runCli(['exec', '-d', 'web', 'sleep', '1'], fake);
      assert.deepEqual([r.stdout, r.stderr, r.code], ['', '', 0]);
      assert.deepEqual(fake.requests.at(-1)?.body, { Tty: false, Detach: true });
      fake.route('POST /containers/web/exec', { status: 409, json: { message: `Container ${ID} is not running` } });
      const down = await runCli(['exec', 'web', 'true'], fake);
      assert.deepEqual([down.stderr, down.code], [`Error response from daemon: Container ${ID} is not running\n`, 1]);
      const missing = await runCli(['exec', 'web'], fake);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /'berth exec' requires at least 2 arguments/);
    } finally {
      await fake.stop();
    }
  });

  it('-it without a terminal is refused before the exec is created', async () => {
    const fake = await startFake([[`GET /containers/web/json`, { json: { Id: ID, State: { Running: true }, Config: {} } }]]);
    try {
      const r = await runCli(['exec', '-it', 'web', 'sh'], fake);
      assert.deepEqual([r.stderr, r.code], ['the input device is not a TTY\n', 1]);
      assert.deepEqual(fake.calls, ['GET /containers/web/json']);
    } finally {
      await fake.stop();
    }
  });
});

describe('attach', () => {
  it('refuses a stopped container with docker\'s message', async () => {
    const fake = await startFake([[`GET /containers/old/json`, { json: { Id: ID, State: { Running: false }, Config: {} } }]]);
    try {
      const r = await runCli(['attach', 'old'], fake);
      assert.deepEqual([r.stderr, r.code], ['You cannot attach to a stopped container, start it first\n', 1]);
    } finally {
      await fake.stop();
    }
  });

  it('streams the output and exits with the container code', async () => {
    const fake = await startFake([[new RegExp(`^GET /containers/(web|${ID})/json$`), { json: { Id: ID, State: { Running: true }, Config: { Tty: false, OpenStdin: false } } }]]);
    let release: (() => void) | undefined;
    const attached = new Promise<void>((r) => (release = r));
    fake.route(`POST /containers/${ID}/wait`, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      void attached.then(() => setTimeout(() => res.end('{"StatusCode":7}\n'), 20));
    });
    fake.upgrade(`POST /containers/${ID}/attach`, (_req, socket) => {
      release?.();
      socket.end(frame(1, 'tick\n'));
    });
    try {
      const r = await runCli(['attach', 'web'], fake);
      assert.deepEqual([r.stdout, r.code], ['tick\n', 7]);
      const attach = fake.requests.find((q) => q.path.endsWith('/attach'));
      assert.deepEqual(attach?.query, { stream: '1', stdout: '1', stderr: '1' });
      assert.deepEqual(fake.requests.find((q) => q.path.endsWith('/wait'))?.query, { condition: 'not-running' });
    } finally {
      await fake.stop();
    }
  });
});
