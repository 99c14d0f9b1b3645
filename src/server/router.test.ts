import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError, silentLogger } from '../common/index.ts';
import { Router } from './router.ts';
import { sendJson, parseFilters, jsonLines } from './http.ts';

async function serve(t: { after(fn: () => Promise<void> | void): void }, r: Router): Promise<(method: string, path: string) => Promise<{ status: number; body: string }>> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-router-'));
  const sock = join(dir, 's.sock');
  const server = createServer((req, res) => void r.handle(req, res));
  await new Promise<void>((res) => server.listen(sock, res));
  t.after(async () => {
    await new Promise<void>((res) => server.close(() => res()));
    await rm(dir, { recursive: true, force: true });
  });
  return (method, path) =>
    new Promise((resolve, reject) => {
      const q = request({ socketPath: sock, method, path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      q.on('error', reject);
      q.end();
    });
}

test('router: version prefixes, params with slashes, version gates, error kinds to status', async (t) => {
  const calls: string[] = [];
  const r = new Router(silentLogger);
  r.get('/images/{name*}/json', (req) => {
    calls.push(`${req.version} ${req.params.name}`);
    sendJson(req.res, 200, { ok: true });
  });
  r.post('/volumes/prune', (req) => sendJson(req.res, 200, {}), { since: '1.25' });
  r.get('/boom', () => {
    throw new BerthError('conflict', 'nope');
  });
  r.get('/crash', () => {
    throw new Error('raw');
  });
  const call = await serve(t, r);
  assert.equal((await call('GET', '/v1.41/images/localhost:5000/a/b:1/json')).status, 200);
  assert.equal((await call('GET', '/images/busybox/json')).status, 200);
  assert.deepEqual(calls, ['1.41 localhost:5000/a/b:1', '1.45 busybox']);
  assert.equal((await call('POST', '/v1.24/volumes/prune')).status, 404);
  assert.equal((await call('POST', '/v1.25/volumes/prune')).status, 200);
  assert.deepEqual(await call('GET', '/boom'), { status: 409, body: '{"message":"nope"}' });
  assert.deepEqual(await call('GET', '/crash'), { status: 500, body: '{"message":"raw"}' });
  assert.equal((await call('GET', '/v1.46/boom')).status, 400);
});

test('parseFilters accepts both filter encodings and rejects junk', () => {
  const f = parseFilters(new URLSearchParams({ filters: '{"status":["running"],"label":{"a=b":true}}' }));
  assert.deepEqual([...f.entries()], [['status', ['running']], ['label', ['a=b']]]);
  assert.throws(() => parseFilters(new URLSearchParams({ filters: '{bad' })), /invalid filter/);
});

test('jsonLines holds the status until the first event, then reports failures in-band', () => {
  const written: string[] = [];
  let head = 0;
  const res = { writeHead: (s: number) => (head = s), write: (x: string) => written.push(x), end: () => written.push('END') } as unknown as import('node:http').ServerResponse;
  const out = jsonLines(res);
  assert.equal(out.started, false);
  out.write({ status: 'Loading layer', id: 'abc', progress: { current: 1, total: 2 } });
  out.fail(new Error('broken'));
  out.end();
  assert.equal(head, 200);
  assert.deepEqual(written, [
    '{"status":"Loading layer","id":"abc","progressDetail":{"current":1,"total":2},"progress":"[=========================>                         ]       1B/2B"}\n',
    '{"errorDetail":{"message":"broken"},"error":"broken"}\n',
    'END',
  ]);
});
