import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PortAllocator, parsePortKey, requestedPorts, type PublishedPort } from './ports.ts';

/** Records reservations; ports in `busy` are "in use on the host". */
function fakeReserve(busy: number[] = []): { calls: string[]; closed: string[]; reserve: ConstructorParameters<typeof PortAllocator>[0] } {
  const calls: string[] = [];
  const closed: string[] = [];
  return {
    calls, closed,
    reserve: async (p: PublishedPort) => {
      const k = `${p.hostIp}:${p.hostPort}/${p.proto}`;
      calls.push(k);
      if (busy.includes(p.hostPort)) return undefined;
      return { close: () => closed.push(k) };
    },
  };
}

test('port keys: protocol defaults to tcp; bad ones are invalid-argument', () => {
  assert.deepEqual(parsePortKey('80'), { port: 80, proto: 'tcp' });
  assert.deepEqual(parsePortKey('53/udp'), { port: 53, proto: 'udp' });
  for (const bad of ['0', '70000', '80/icmp', 'x']) assert.throws(() => parsePortKey(bad), (e: { kind?: string }) => e.kind === 'invalid-argument');
});

test('requested ports: every -p form, and -P adds exposed ports without a binding', () => {
  const r = requestedPorts({
    '80/tcp': [{ hostIp: '', hostPort: '8080' }, { hostIp: '127.0.0.1', hostPort: '' }],
    '53/udp': [{ hostIp: '', hostPort: '5300-5310' }],
  }, ['80/tcp', '443/tcp', '53/udp'], true);
  assert.deepEqual(r, [
    { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPortFrom: 8080, hostPortTo: 8080 },
    { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortFrom: 0, hostPortTo: 0 },
    { proto: 'udp', containerPort: 53, hostIp: '0.0.0.0', hostPortFrom: 5300, hostPortTo: 5310 },
    { proto: 'tcp', containerPort: 443, hostIp: '0.0.0.0', hostPortFrom: 0, hostPortTo: 0 },
  ]);
  assert.deepEqual(requestedPorts({}, ['80/tcp'], false), []);
  assert.throws(() => requestedPorts({ '80/tcp': [{ hostIp: '', hostPort: '9-1' }] }, [], false), /invalid hostPort/);
  assert.equal(requestedPorts({ '80/tcp': [{ hostIp: '', hostPort: '0' }] }, [], false)[0]!.hostPortFrom, 0, '"0" is an ephemeral port');
});

test('ephemeral ports are handed out in order, skipping busy ones; release frees them', async () => {
  const f = fakeReserve([32769]);
  const a = new PortAllocator(f.reserve);
  const req = { proto: 'tcp' as const, containerPort: 80, hostIp: '0.0.0.0', hostPortFrom: 0, hostPortTo: 0 };
  assert.deepEqual((await a.allocate('c1', [req, req], '10.0.0.2')).map((p) => p.hostPort), [32768, 32770]);
  assert.deepEqual((await a.allocate('c2', [req], '10.0.0.3')).map((p) => p.hostPort), [32771]);
  a.release('c1');
  assert.deepEqual(f.closed, ['0.0.0.0:32768/tcp', '0.0.0.0:32770/tcp']);
  assert.deepEqual(a.portsOf('c1'), []);
});

test('conflicts: Docker\'s messages, all or nothing, 0.0.0.0 overlaps a specific address', async () => {
  const f = fakeReserve([9000]);
  const a = new PortAllocator(f.reserve);
  const at = (hostIp: string, port: number, proto: 'tcp' | 'udp' = 'tcp') => ({ proto, containerPort: 80, hostIp, hostPortFrom: port, hostPortTo: port });
  await a.allocate('c1', [at('127.0.0.1', 8080)], '10.0.0.2');
  await assert.rejects(a.allocate('c2', [at('0.0.0.0', 8081), at('0.0.0.0', 8080)], '10.0.0.3'),
    (e: Error & { kind?: string }) => e.kind === 'conflict' && e.message === 'Bind for 0.0.0.0:8080 failed: port is already allocated');
  assert.deepEqual(f.closed, ['0.0.0.0:8081/tcp'], 'what c2 took is given back');
  await a.allocate('c3', [at('0.0.0.0', 8080, 'udp'), at('127.0.0.2', 8080)], '10.0.0.4');
  await assert.rejects(a.allocate('c4', [at('0.0.0.0', 9000)], '10.0.0.5'), /failed to bind host port for 0\.0\.0\.0:9000:10\.0\.0\.5:80\/tcp: address already in use/);
});
