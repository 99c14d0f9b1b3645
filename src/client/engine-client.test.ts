import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { EngineClient } from './engine-client.ts';
import { ClientError, ConnectionError } from './errors.ts';
import { FakeDaemon } from './fake-daemon.ts';
import { copyOutput, demux, frame, jsonStream, STDERR, STDOUT } from './streams.ts';
import { buildQuery, resolveHost } from './transport.ts';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('EngineClient', () => {
  let fake: FakeDaemon;
  let client: EngineClient;
  before(async () => {
    fake = await new FakeDaemon().start();
    client = new EngineClient({ socketPath: fake.socketPath });
  });
  after(async () => {
    client.close();
    await fake.stop();
  });

  it('prefixes the API version and encodes the query like the docker CLI', async () => {
    fake.route('GET /containers/json', { json: [{ Id: 'abc', Names: ['/x'] }] });
    const list = await client.containerList({ all: true, filters: { status: ['running'] } });
    assert.deepEqual(list, [{ Id: 'abc', Names: ['/x'] }]);
    const req = fake.requests.at(-1)!;
    assert.equal(req.version, '1.45');
    assert.deepEqual(req.query, { all: '1', filters: '{"status":["running"]}' });
  });

  it('sends JSON bodies and parses JSON replies', async () => {
    fake.route('POST /containers/create', { status: 201, json: { Id: 'c1', Warnings: [] } });
    const res = await client.containerCreate({ Image: 'busybox', Cmd: ['true'] }, { name: 'web' });
    assert.equal(res.Id, 'c1');
    const req = fake.requests.at(-1)!;
    assert.deepEqual(req.body, { Image: 'busybox', Cmd: ['true'] });
    assert.deepEqual(req.query, { name: 'web' });
    assert.equal(req.headers['content-type'], 'application/json');
  });

  it("turns error statuses into ClientError with the daemon's message", async () => {
    fake.route('POST /containers/nope/start', { status: 404, json: { message: 'No such container: nope' } });
    await assert.rejects(client.containerStart('nope'), (err: unknown) => {
      assert.ok(err instanceof ClientError);
      assert.equal(err.status, 404);
      assert.equal(err.kind, 'not-found');
      assert.equal(err.message, 'No such container: nope');
      return true;
    });
  });

  it('treats 304 as success (start of a running container)', async () => {
    fake.route('POST /containers/up/start', { status: 304 });
    await client.containerStart('up');
  });

  it('uses plain text bodies as the message when they are not JSON', async () => {
    fake.route('GET /info', { status: 500, text: 'boom' });
    await assert.rejects(client.info(), { message: 'boom', status: 500, kind: 'internal' });
  });

  it('reports an unreachable socket as ConnectionError with docker wording', async () => {
    const c = new EngineClient({ host: 'unix:///nonexistent/x.sock' });
    await assert.rejects(c.version(), (err: unknown) => {
      assert.ok(err instanceof ConnectionError);
      assert.equal(err.message, 'Cannot connect to the Docker daemon at unix:///nonexistent/x.sock. Is the docker daemon running?');
      return true;
    });
  });

  it('lowers its API version when an older daemon says it is too new', async () => {
    const old = await new FakeDaemon()
      .route(/^GET \/version$/, (req, res) => {
        if (req.version === '1.45') {
          res.writeHead(400, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ message: 'client version 1.45 is too new. Maximum supported API version is 1.43' }));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ ApiVersion: req.version }));
      })
      .route('GET /_ping', (_req, res) => {
        res.writeHead(200, { 'API-Version': '1.43' });
        res.end('OK');
      })
      .start();
    const c = new EngineClient({ socketPath: old.socketPath });
    try {
      assert.deepEqual(await c.version(), { ApiVersion: '1.43' });
      assert.deepEqual(old.calls, ['GET /version', 'GET /_ping', 'GET /version']);
    } finally {
      c.close();
      await old.stop();
    }
  });

  it('ping reads the API-Version and OSType headers', async () => {
    const p = await client.ping();
    assert.equal(p.apiVersion, '1.45');
    assert.equal(p.osType, 'linux');
  });

  it('streams newline-delimited JSON (events)', async () => {
    fake.route('GET /events', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"Type":"container","Action":"start"}\n');
      setTimeout(() => res.end('{"Type":"container","Action":"die"}\n'), 10);
    });
    const events = await client.events({ since: '0', until: '10' });
    const got = await collect(events);
    assert.deepEqual(got.map((e) => e.Action), ['start', 'die']);
    assert.deepEqual(fake.requests.at(-1)!.query, { since: '0', until: '10' });
  });

  it('waits in two steps: headers first, then the status', async () => {
    let finish: (() => void) | undefined;
    fake.route('POST /containers/c1/wait', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      finish = () => res.end('{"StatusCode":3}\n');
    });
    const w = await client.containerWaitBegin('c1', 'next-exit');
    assert.deepEqual(fake.requests.at(-1)!.query, { condition: 'next-exit' });
    assert.ok(finish);
    finish();
    assert.deepEqual(await w.result, { StatusCode: 3 });
  });

  it('sends stream bodies chunked as application/x-tar (load)', async () => {
    fake.route('POST /images/load', { json: { stream: 'Loaded image: busybox:latest\n' } });
    const progress = await client.imageLoad(Readable.from([Buffer.from('tar'), Buffer.from('ball')]), { quiet: true });
    assert.deepEqual(await collect(progress), [{ stream: 'Loaded image: busybox:latest\n' }]);
    const req = fake.requests.at(-1)!;
    assert.equal(req.raw.toString(), 'tarball');
    assert.equal(req.headers['content-type'], 'application/x-tar');
    assert.deepEqual(req.query, { quiet: '1' });
  });

  it('encodes repeated query values as repeated keys (import --change)', async () => {
    fake.route('POST /images/create', { json: { status: 'sha256:abc' } });
    await collect(await client.imageImport(Buffer.from('x'), { repo: 'img', changes: ['CMD ["sh"]', 'ENV A=1'] }));
    assert.deepEqual(fake.requests.at(-1)!.query, { fromSrc: '-', repo: 'img', changes: ['CMD ["sh"]', 'ENV A=1'] });
  });

  it('hijacks attach with Upgrade: tcp and demultiplexes the output', async () => {
    fake.upgrade('POST /containers/c1/attach', (_req, socket) => {
      socket.write(frame(STDOUT, 'out\n'));
      socket.end(frame(STDERR, 'err\n'));
    });
    const h = await client.containerAttach('c1', { stream: true, stdout: true, stderr: true });
    const req = fake.requests.at(-1)!;
    assert.equal(req.headers.upgrade, 'tcp');
    assert.deepEqual(req.query, { stream: '1', stdout: '1', stderr: '1' });
    assert.equal(h.contentType, 'application/vnd.docker.multiplexed-stream');
    const out = new PassThrough();
    const err = new PassThrough();
    await copyOutput(h.socket, out, err, true);
    assert.equal(out.read()?.toString(), 'out\n');
    assert.equal(err.read()?.toString(), 'err\n');
  });

  it('hijacked stdin reaches the daemon and half-closes', async () => {
    fake.upgrade('POST /containers/c2/attach', (_req, socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => socket.end(frame(STDOUT, Buffer.concat(chunks))));
    });
    const h = await client.containerAttach('c2', { stream: true, stdin: true, stdout: true });
    h.socket.end('echo me');
    const out = new PassThrough();
    await copyOutput(h.socket, out, new PassThrough(), true);
    assert.equal(out.read()?.toString(), 'echo me');
  });

  it('rejects a refused attach with the daemon message', async () => {
    await assert.rejects(client.containerAttach('zzz', { stream: true }), { message: 'no such route' });
  });
});

describe('streams', () => {
  it('demux reassembles frames split across chunks', async () => {
    const all = Buffer.concat([frame(1, 'hello'), frame(2, 'world'), frame(1, '')]);
    const chunks = [all.subarray(0, 3), all.subarray(3, 12), all.subarray(12)];
    const frames = await collect(demux(Readable.from(chunks)));
    assert.deepEqual(
      frames.map((f) => [f.stream, f.data.toString()]),
      [
        [1, 'hello'],
        [2, 'world'],
        [1, ''],
      ],
    );
  });

  it('jsonStream splits objects with or without newlines and inside strings', async () => {
    const src = Readable.from(['{"a":"}{"}{"b":', '[1,{"c":2}]}\n\n{"d":"\\"}"}']);
    assert.deepEqual(await collect(jsonStream(src)), [{ a: '}{' }, { b: [1, { c: 2 }] }, { d: '"}' }]);
  });

  it('copyOutput writes raw streams to stdout for TTY containers', async () => {
    const out = new PassThrough();
    await copyOutput(Readable.from([Buffer.from('raw')]), out, new PassThrough(), false);
    assert.equal(out.read()?.toString(), 'raw');
  });
});

describe('transport helpers', () => {
  it('resolveHost: -H, then BERTH_HOST, then DOCKER_HOST, then the default', () => {
    assert.equal(resolveHost('unix:///a.sock', { BERTH_HOST: 'unix:///b' }).socketPath, '/a.sock');
    assert.equal(resolveHost(undefined, { BERTH_HOST: 'unix:///b', DOCKER_HOST: 'unix:///c' }).socketPath, '/b');
    assert.equal(resolveHost(undefined, { DOCKER_HOST: 'unix:///c' }).socketPath, '/c');
    assert.equal(resolveHost(undefined, {}).socketPath, '/run/berth/berth.sock');
    assert.throws(() => resolveHost('tcp://1.2.3.4:2375', {}), /only unix/);
  });

  it('buildQuery: 1/0 booleans, JSON objects, skipped undefined', () => {
    assert.equal(buildQuery({ a: true, b: false, c: undefined, d: 'x y', f: { label: ['a=b'] } }), '?a=1&b=0&d=x%20y&f=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D');
  });
});
