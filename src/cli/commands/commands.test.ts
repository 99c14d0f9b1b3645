import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FakeDaemon } from '../../client/index.ts';
import { frame } from '../../client/index.ts';
import { runCli, startFake } from '../test-helpers.ts';

process.env.TZ = 'UTC';

// Replies and docker CLI 28.2 outputs captured together (scripts/cli-docker-capture.mjs);
// timestamps are shifted to now so "5 hours ago" still reads the same.
const fixture = JSON.parse(readFileSync(new URL('../testdata/canned.json', import.meta.url), 'utf8')) as {
  now: number;
  canned: Record<string, { status?: number; body: unknown }>;
};
const dockerOutputs = new Map<string, string>();
for (const block of readFileSync(new URL('../testdata/docker-outputs.txt', import.meta.url), 'utf8').split(/^=== /m).slice(1)) {
  const nl = block.indexOf('\n');
  dockerOutputs.set(block.slice(0, nl), block.slice(nl + 1));
}

function shift(v: unknown, delta: number): unknown {
  if (Array.isArray(v)) return v.map((x) => shift(x, delta));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'Created' && typeof x === 'number' ? x + delta : shift(x, delta)]));
  }
  return v;
}

async function cannedFake(): Promise<FakeDaemon> {
  const fake = await startFake();
  const delta = Math.floor(Date.now() / 1000) - fixture.now;
  for (const [pattern, reply] of Object.entries(fixture.canned)) {
    const body = shift(reply.body, delta);
    fake.route(new RegExp(pattern), (_req, res) => {
      res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
  }
  return fake;
}

describe('output matches the docker CLI for the same daemon replies', () => {
  let fake: FakeDaemon;
  before(async () => {
    fake = await cannedFake();
  });
  after(() => fake.stop());

  const absoluteTimes = new Set(['history -H=false busybox', 'ps --format json']);
  for (const [cmd, expected] of dockerOutputs) {
    if (absoluteTimes.has(cmd) || cmd.startsWith('ps --format {{')) continue;
    it(`berth ${cmd}`, async () => {
      const r = await runCli(cmd.split(' '), fake);
      assert.equal(`${r.stdout}${r.stderr}rc=${r.code}\n`, expected);
    });
  }

  it('berth ps --format json: docker keys, sorted and HTML-escaped', async () => {
    const r = await runCli(['ps', '--format', 'json'], fake);
    const first = r.stdout.split('\n')[0] ?? '';
    assert.match(first, /^\{"Command":"\\"\/docker-entrypoint.…\\"","CreatedAt":"[^"]+ \+0000 UTC","ID":"3f4e5d6c7b8a",/);
    assert.ok(first.includes('"Platform":null,"Ports":"443/tcp, 0.0.0.0:8080-\\u003e80/tcp, [::]:8080-\\u003e80/tcp"'));
  });

  it('berth ps --format with Label and Names', async () => {
    const r = await runCli(['ps', '--format', '{{.Names}}|{{.Labels}}|{{.Label "a"}}|{{.Mounts}}|{{.LocalVolumes}}|{{.Networks}}'], fake);
    assert.equal(r.stdout, 'web|a=1,b=2|1|abcdefabcdefab…|1|bridge\ndb||||0|\n');
  });

  it('sends ps flags as the docker CLI does', async () => {
    await runCli(['ps', '-a', '-n', '3', '-s', '--filter', 'status=exited', '--filter', 'label=a'], fake);
    const req = fake.requests.filter((r) => r.path === '/containers/json').at(-1)!;
    assert.deepEqual(req.query, { all: '1', limit: '3', size: '1', filters: '{"status":["exited"],"label":["a"]}' });
  });
});

describe('container verbs', () => {
  let fake: FakeDaemon;
  before(async () => {
    fake = await startFake([
      ['POST /containers/a/stop', { status: 204 }],
      ['POST /containers/nope/stop', { status: 404, json: { message: 'No such container: nope' } }],
      ['POST /containers/b/stop', { status: 304 }],
      ['DELETE /containers/a', { status: 204 }],
      ['POST /containers/a/kill', { status: 204 }],
      ['GET /containers/a/json', { json: { Id: 'a'.repeat(64), Config: { Tty: false } } }],
      ['GET /images/a/json', { status: 404, json: { message: 'No such image: a' } }],
      ['GET /containers/nope/json', { status: 404, json: { message: 'No such container: nope' } }],
      ['GET /images/nope/json', { status: 404, json: { message: 'No such image: nope' } }],
      ['GET /networks/nope', { status: 404, json: { message: 'network nope not found' } }],
      ['GET /volumes/nope', { status: 404, json: { message: 'get nope: no such volume' } }],
    ]);
  });
  after(() => fake.stop());

  it('stop prints each name given, reports failures, exits 1', async () => {
    const r = await runCli(['stop', '-t', '3', 'a', 'nope', 'b'], fake);
    assert.equal(r.stdout, 'a\nb\n');
    assert.equal(r.stderr, 'Error response from daemon: No such container: nope\n');
    assert.equal(r.code, 1);
    assert.deepEqual(fake.requests.find((q) => q.path === '/containers/a/stop')?.query, { t: '3' });
  });

  it('rm -f -v sends force and v; kill -s sends the signal', async () => {
    const r = await runCli(['rm', '-fv', 'a'], fake);
    assert.equal(r.stdout, 'a\n');
    assert.deepEqual(fake.requests.at(-1)?.query, { force: '1', v: '1' });
    const k = await runCli(['kill', '-s', 'HUP', 'a'], fake);
    assert.equal(k.code, 0);
    assert.deepEqual(fake.requests.at(-1)?.query, { signal: 'HUP' });
  });

  it('inspect prints a 4-space JSON array; missing objects exit 1', async () => {
    const r = await runCli(['inspect', 'a', 'nope'], fake);
    assert.equal(r.stdout, `[\n    {\n        "Id": "${'a'.repeat(64)}",\n        "Config": {\n            "Tty": false\n        }\n    }\n]\n`);
    assert.equal(r.stderr, 'Error: No such object: nope\n');
    assert.equal(r.code, 1);
  });

  it('inspect -f renders the template per object; container inspect reports the daemon error', async () => {
    const r = await runCli(['inspect', '-f', '{{.Config.Tty}} {{len .Id}}', 'a'], fake);
    assert.equal(r.stdout, 'false 64\n');
    const c = await runCli(['container', 'inspect', 'nope'], fake);
    assert.equal(c.stdout, '[]\n');
    assert.equal(c.stderr, 'Error response from daemon: No such container: nope\n');
    assert.equal(c.code, 1);
  });

  it('logs demultiplexes stdout and stderr', async () => {
    fake.route('GET /containers/' + 'a'.repeat(64) + '/logs', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
      res.end(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]));
    });
    const r = await runCli(['logs', '--tail', '5', 'a'], fake);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.deepEqual(fake.requests.at(-1)?.query, { stdout: '1', stderr: '1', tail: '5' });
  });
});

describe('run', () => {
  const ID = 'c'.repeat(64);

  it('-d creates, starts and prints the full ID', async () => {
    const fake = await startFake([
      ['POST /containers/create', { status: 201, json: { Id: ID, Warnings: [] } }],
      [`POST /containers/${ID}/start`, { status: 204 }],
    ]);
    try {
      const r = await runCli(['run', '-d', '--name', 'web', 'busybox', 'sleep', '10'], fake);
      assert.equal(r.stdout, `${ID}\n`);
      assert.equal(r.code, 0);
      assert.deepEqual(fake.calls, ['POST /containers/create', `POST /containers/${ID}/start`]);
      assert.deepEqual(fake.requests[0]?.query, { name: 'web' });
    } finally {
      await fake.stop();
    }
  });

  it('foreground: attach, wait, start; prints output and exits with the container code', async () => {
    const fake = await startFake([
      ['POST /containers/create', { status: 201, json: { Id: ID, Warnings: [] } }],
      [`POST /containers/${ID}/start`, { status: 204 }],
    ]);
    let release: (() => void) | undefined;
    const started = new Promise<void>((r) => (release = r));
    fake.route(`POST /containers/${ID}/wait`, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      void started.then(() => res.end('{"StatusCode":3}\n'));
    });
    fake.upgrade(`POST /containers/${ID}/attach`, (_req, socket) => {
      void started.then(() => {
        socket.write(frame(1, 'hello\n'));
        socket.end(frame(2, 'oops\n'));
      });
    });
    fake.route(`POST /containers/${ID}/start`, (_req, res) => {
      res.writeHead(204);
      res.end();
      release?.();
    });
    try {
      const r = await runCli(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'], fake);
      assert.equal(r.stdout, 'hello\n');
      assert.equal(r.stderr, 'oops\n');
      assert.equal(r.code, 3);
      assert.deepEqual(fake.calls, ['POST /containers/create', `POST /containers/${ID}/attach`, `POST /containers/${ID}/wait`, `POST /containers/${ID}/start`]);
      assert.deepEqual(fake.requests[2]?.query, { condition: 'removed' });
    } finally {
      await fake.stop();
    }
  });

  it('pulls a missing image, then creates again', async () => {
    let creates = 0;
    const fake = await startFake([
      ['POST /images/create', { json: { status: 'Status: Downloaded newer image for busybox:latest' } }],
      [`POST /containers/${ID}/start`, { status: 204 }],
    ]);
    fake.route('POST /containers/create', (_req, res) => {
      creates++;
      res.writeHead(creates === 1 ? 404 : 201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(creates === 1 ? { message: 'No such image: busybox:latest' } : { Id: ID, Warnings: [] }));
    });
    try {
      const r = await runCli(['run', '-d', 'busybox'], fake);
      assert.equal(r.stderr, "Unable to find image 'busybox:latest' locally\nStatus: Downloaded newer image for busybox:latest\n");
      assert.equal(r.stdout, `${ID}\n`);
      assert.deepEqual(fake.requests.find((q) => q.path === '/images/create')?.query, { fromImage: 'busybox', tag: 'latest' });
    } finally {
      await fake.stop();
    }
  });

  it('exit codes: 125 for daemon errors, 127 for a missing command, 125 for bad flags', async () => {
    const fake = await startFake([
      ['POST /containers/create', { status: 201, json: { Id: ID, Warnings: [] } }],
      [`POST /containers/${ID}/start`, { status: 400, json: { message: 'failed to create task: exec: "nope": executable file not found in $PATH' } }],
    ]);
    try {
      const missing = await runCli(['run', '-d', 'busybox', 'nope'], fake);
      assert.equal(missing.code, 127);
      assert.equal(
        missing.stderr,
        "berth: Error response from daemon: failed to create task: exec: \"nope\": executable file not found in $PATH\n\nRun 'berth run --help' for more information\n",
      );
      fake.route('POST /containers/create', { status: 409, json: { message: 'Conflict. The container name "/web" is already in use' } });
      const conflict = await runCli(['run', '-d', '--name', 'web', 'busybox'], fake);
      assert.equal(conflict.code, 125);
      assert.match(conflict.stderr, /^berth: Error response from daemon: Conflict\./);
      const badFlag = await runCli(['run', '--bogus', 'busybox'], fake);
      assert.equal(badFlag.code, 125);
      assert.equal(badFlag.stderr, "unknown flag: --bogus\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n");
      const badValue = await runCli(['run', '-m', '12q', 'busybox'], fake);
      assert.equal(badValue.code, 125);
      assert.match(badValue.stderr, /^invalid argument "12q" for "-m, --memory" flag: invalid suffix: 'q'\n/);
    } finally {
      await fake.stop();
    }
  });
});

describe('errors and usage', () => {
  it('missing arguments exit 1 with docker wording', async () => {
    const r = await runCli(['stop']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "berth: 'berth stop' requires at least 1 argument\n\nUsage:  berth stop [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'berth stop --help' for more information\n");
  });

  it('an unreachable daemon exits 1 with docker wording', async () => {
    const r = await runCli(['ps']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Cannot connect to the Docker daemon at unix:///nonexistent/berth.sock. Is the docker daemon running?\n');
  });

  it('unknown shorthand flags and commands', async () => {
    const r = await runCli(['ps', '-x']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^unknown shorthand flag: 'x' in -x\n/);
    const u = await runCli(['frob']);
    assert.equal(u.code, 1);
    assert.equal(u.stderr, "berth: unknown command: berth frob\n\nRun 'berth --help' for more information\n");
  });

  it('--help prints docker-style usage and exits 0', async () => {
    const r = await runCli(['stop', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\nUsage:  berth stop \[OPTIONS\] CONTAINER \[CONTAINER\.\.\.\]\n\nStop one or more running containers\n\nOptions:\n {2}-s, --signal string {3}Signal to send to the container\n/);
  });

  it('-H overrides BERTH_HOST', async () => {
    const fake = await startFake([['GET /containers/json', { json: [] }]]);
    try {
      const r = await runCli(['-H', `unix://${fake.socketPath}`, 'ps', '-q'], undefined);
      assert.equal(r.code, 0);
      assert.equal(fake.calls.length, 1);
    } finally {
      await fake.stop();
    }
  });
});
