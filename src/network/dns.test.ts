import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { silentLogger } from '../common/index.ts';
import { DNS_RCODE, DNS_TYPE, encodeError, encodeQuery, encodeResponse, parseQuery, parseResponse } from './dns.ts';
import { EmbeddedDns } from './dns-server.ts';

test('a query round-trips; answers point at the question and keep id, RD and the question', () => {
  const q = parseQuery(encodeQuery(0x1234, 'Web.Example.', DNS_TYPE.A));
  assert.deepEqual(q.question, { name: 'web.example', type: DNS_TYPE.A, class: 1 });
  const r = parseResponse(encodeResponse(q, DNS_RCODE.NOERROR, [{ type: 'A', ttl: 600, ip: '10.214.1.2' }, { type: 'A', ttl: 600, ip: '10.214.1.3' }]));
  assert.equal(r.id, 0x1234);
  assert.equal(r.rcode, 0);
  assert.deepEqual(r.answers, [{ name: 'Web.Example', type: 1, data: '10.214.1.2' }, { name: 'Web.Example', type: 1, data: '10.214.1.3' }]);
  const ptr = parseResponse(encodeResponse(parseQuery(encodeQuery(1, '2.1.214.10.in-addr.arpa', DNS_TYPE.PTR)), 0, [{ type: 'PTR', ttl: 600, target: 'web.net' }]));
  assert.deepEqual(ptr.answers, [{ name: '2.1.214.10.in-addr.arpa', type: DNS_TYPE.PTR, data: 'web.net' }]);
  const flags = encodeResponse(q, DNS_RCODE.NXDOMAIN, []).readUInt16BE(2);
  assert.equal(flags & 0x8000, 0x8000, 'QR');
  assert.equal(flags & 0x0100, 0x0100, 'RD copied');
  assert.equal(flags & 0xf, DNS_RCODE.NXDOMAIN);
});

test('garbage is refused: short messages, answers, pointer loops', () => {
  assert.throws(() => parseQuery(Buffer.alloc(5)), /short/);
  const answer = encodeResponse(parseQuery(encodeQuery(1, 'a', 1)), 0, []);
  assert.throws(() => parseQuery(answer), /not a query/);
  const loop = Buffer.concat([encodeQuery(1, 'a', 1).subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
  assert.throws(() => parseQuery(loop), /loop/);
  assert.equal(encodeError(Buffer.alloc(3), DNS_RCODE.FORMERR), undefined);
  assert.equal(encodeError(encodeQuery(9, 'x', 1), DNS_RCODE.SERVFAIL)!.readUInt16BE(2) & 0xf, DNS_RCODE.SERVFAIL);
});

const port = (): number => 20000 + Math.floor(Math.random() * 40000);

function ask(server: number, name: string, type: number = DNS_TYPE.A): Promise<ReturnType<typeof parseResponse>> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('message', (m) => {
      s.close();
      resolve(parseResponse(m));
    });
    s.on('error', reject);
    s.send(encodeQuery(7, name, type), server, '127.0.0.1');
  });
}

function askTcp(server: number, name: string): Promise<ReturnType<typeof parseResponse>> {
  return new Promise((resolve, reject) => {
    const q = encodeQuery(8, name, DNS_TYPE.A);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length);
    const c = connect(server, '127.0.0.1', () => c.write(Buffer.concat([len, q])));
    let buf = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        c.destroy();
        resolve(parseResponse(buf.subarray(2)));
      }
    });
    c.on('error', reject);
  });
}

test('the embedded server answers its names, forwards the rest (UDP and TCP) and SERVFAILs when no upstream answers', async () => {
  // the upstream: another EmbeddedDns that knows one name and refuses the rest
  const upPort = port();
  const upstream = new EmbeddedDns({
    answer: (_l, _c, q) => (q.name === 'far.test' ? { rcode: 0, answers: [{ type: 'A', ttl: 5, ip: '192.0.2.9' }] } : { rcode: DNS_RCODE.NXDOMAIN, answers: [] }),
    upstreams: async () => [],
  }, silentLogger, upPort);
  const seen: string[] = [];
  let ups = [`127.0.0.1:${upPort}`];
  const p = port();
  const dns = new EmbeddedDns({
    answer: (local, client, q) => {
      seen.push(`${local} ${client} ${q.name}`);
      return q.name === 'web' ? { rcode: 0, answers: [{ type: 'A', ttl: 600, ip: '10.214.0.2' }] } : undefined;
    },
    upstreams: async () => ups,
  }, silentLogger, p);
  await upstream.listen('127.0.0.1');
  await dns.listen('127.0.0.1');
  try {
    assert.deepEqual((await ask(p, 'web')).answers.map((a) => a.data), ['10.214.0.2']);
    assert.equal(seen[0], '127.0.0.1 127.0.0.1 web');
    assert.deepEqual((await ask(p, 'far.test')).answers.map((a) => a.data), ['192.0.2.9']);
    assert.equal((await ask(p, 'nope.test')).rcode, DNS_RCODE.NXDOMAIN);
    assert.deepEqual((await askTcp(p, 'web')).answers.map((a) => a.data), ['10.214.0.2']);
    assert.deepEqual((await askTcp(p, 'far.test')).answers.map((a) => a.data), ['192.0.2.9']);
    // an upstream nobody listens on is refused at once (connected UDP), then SERVFAIL
    ups = [`127.0.0.1:${port()}`];
    const t0 = Date.now();
    assert.equal((await ask(p, 'far.test')).rcode, DNS_RCODE.SERVFAIL);
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    assert.deepEqual(dns.addresses, ['127.0.0.1']);
  } finally {
    dns.closeAll();
    upstream.closeAll();
  }
  assert.deepEqual(dns.addresses, []);
});
