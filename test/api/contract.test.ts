// Engine API contract rows: method, path, body → status and Docker's error body. Clients match on these.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { TestDaemon, daemonWithBusybox, skipReason } from '../helpers/env.ts';

const skip = skipReason();

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
function call(sock: string, method: string, path: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const r = request({ socketPath: sock, method, path, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

type Row = [method: string, path: string, body: string | undefined, status: number, message: string | RegExp | undefined];

const ROWS: Row[] = [
  ['POST', '/containers/nope/start', undefined, 404, 'No such container: nope'],
  ['POST', '/v1.45/containers/nope/stop', undefined, 404, 'No such container: nope'],
  ['DELETE', '/v1.24/containers/nope', undefined, 404, 'No such container: nope'],
  ['GET', '/containers/nope/json', undefined, 404, 'No such container: nope'],
  ['GET', '/images/nope:1/json', undefined, 404, 'No such image: nope:1'],
  ['DELETE', '/images/nope:1', undefined, 404, 'No such image: nope:1'],
  ['GET', '/volumes/nope', undefined, 404, 'get nope: no such volume'],
  ['POST', '/containers/create', '{"Image": "nope:1"}', 404, 'No such image: nope:1'],
  ['POST', '/containers/create', '{not json', 400, /^invalid JSON/],
  ['POST', '/containers/create', '{"Image": "busybox", "Env": "x", "Cmd": [1]}', 400, 'invalid Cmd: expected a list of strings'],
  ['POST', '/containers/create', '{}', 400, 'Config cannot be empty in order to create a container'],
  ['POST', '/containers/create?name=bad%20name', '{"Image": "busybox"}', 400, 'Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed'],
  ['POST', '/containers/create', '{"Image": "busybox", "HostConfig": {"Memory": 1024}}', 400, 'Minimum memory limit allowed is 6MB'],
  ['POST', '/containers/create', '{"Image": "busybox", "HostConfig": {"AutoRemove": true, "RestartPolicy": {"Name": "always"}}}', 400, /AutoRemove.*restart policy/],
  ['GET', '/v1.99/_ping', undefined, 400, 'client version 1.99 is too new. Maximum supported API version is 1.45'],
  ['GET', '/v1.12/version', undefined, 400, /client version 1.12 is too old/],
  ['GET', '/nope', undefined, 404, 'page not found'],
  ['GET', '/containers/json?filters=%7B%22status%22%3A%5B%22bogus%22%5D%7D', undefined, 400, "invalid filter 'status=bogus'"],
  ['GET', '/containers/json?filters=%7B%22nope%22%3A%5B%22x%22%5D%7D', undefined, 400, "invalid filter 'nope'"],
  ['POST', '/volumes/create', '{"Name": "bad/name"}', 400, /includes invalid characters for a local volume name/],
  ['POST', '/containers/create', '{"Image": "busybox", "Healthcheck": {"Test": ["CMD", "true"], "Interval": 500000}}', 400, 'Interval in Healthcheck cannot be less than 1ms'],
  ['POST', '/containers/create', '{"Image": "busybox", "Healthcheck": {"Retries": -1}}', 400, 'Retries in Healthcheck cannot be negative'],
  ['POST', '/containers/create', '{"Image": "busybox", "Healthcheck": {"Interval": "1s"}}', 400, 'invalid Healthcheck.Interval: expected a number'],
  ['GET', '/containers/json?filters=%7B%22health%22%3A%5B%22bogus%22%5D%7D', undefined, 400, 'Unrecognised filter value for health: bogus'],
];

describe('Engine API contract', { skip }, () => {
  const d = new TestDaemon();
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());

  for (const [method, path, body, status, message] of ROWS) {
    test(`${method} ${path} ${body ?? ''} → ${status}`, async () => {
      const r = await call(d.sock, method, path, body);
      assert.equal(r.status, status, r.body);
      if (message !== undefined) {
        const j = JSON.parse(r.body) as { message: string };
        if (typeof message === 'string') assert.equal(j.message, message);
        else assert.match(j.message, message);
      }
    });
  }

  test('_ping answers GET and HEAD with the headers the docker CLI reads', async () => {
    for (const m of ['GET', 'HEAD']) {
      const r = await call(d.sock, m, '/_ping');
      assert.equal(r.status, 200);
      assert.equal(r.headers['api-version'], '1.45');
      assert.equal(r.headers['ostype'], 'linux');
      assert.equal(r.headers['builder-version'], '1');
      assert.equal(r.body, m === 'GET' ? 'OK' : '');
    }
  });

  test('lifecycle status codes: 201 create, 204 start, 304 start again, 409 rm running, 304 stop stopped', async () => {
    const c = await call(d.sock, 'POST', '/containers/create?name=contract1', '{"Image": "busybox", "Cmd": ["sleep", "100"]}');
    assert.equal(c.status, 201);
    const id = (JSON.parse(c.body) as { Id: string }).Id;
    assert.equal((await call(d.sock, 'POST', `/containers/${id}/start`)).status, 204);
    assert.equal((await call(d.sock, 'POST', `/containers/${id}/start`)).status, 304);
    const rm = await call(d.sock, 'DELETE', `/containers/${id}`);
    assert.equal(rm.status, 409);
    assert.match((JSON.parse(rm.body) as { message: string }).message, /cannot remove container "\/contract1": container is running/);
    assert.equal((await call(d.sock, 'POST', '/containers/contract1/kill?signal=BOGUS')).status, 400);
    assert.equal((await call(d.sock, 'POST', `/containers/${id}/stop?t=0`)).status, 204);
    assert.equal((await call(d.sock, 'POST', `/containers/${id}/stop`)).status, 304);
    const kill = await call(d.sock, 'POST', `/containers/${id}/kill`);
    assert.equal(kill.status, 409);
    assert.match((JSON.parse(kill.body) as { message: string }).message, /is not running/);
    assert.equal((await call(d.sock, 'DELETE', `/containers/${id}`)).status, 204);
  });
});
