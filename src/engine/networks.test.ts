import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkEnv, networkNameOf } from './networks.ts';

test('link environment as docker sets it', () => {
  const env = linkEnv('app', { alias: 'my-db', name: 'db', id: 'a'.repeat(64), ip: '172.17.0.5', exposedPorts: ['5432/tcp', '53/udp'], env: ['PATH=/bin', 'HOME=/root', 'PASSWORD=x'] });
  assert.deepEqual(env, [
    'MY_DB_NAME=/app/my-db',
    'MY_DB_PORT=udp://172.17.0.5:53',
    'MY_DB_PORT_53_UDP=udp://172.17.0.5:53', 'MY_DB_PORT_53_UDP_ADDR=172.17.0.5', 'MY_DB_PORT_53_UDP_PORT=53', 'MY_DB_PORT_53_UDP_PROTO=udp',
    'MY_DB_PORT_5432_TCP=tcp://172.17.0.5:5432', 'MY_DB_PORT_5432_TCP_ADDR=172.17.0.5', 'MY_DB_PORT_5432_TCP_PORT=5432', 'MY_DB_PORT_5432_TCP_PROTO=tcp',
    'MY_DB_ENV_PASSWORD=x',
  ]);
});

test('NetworkMode default means the bridge network', () => {
  assert.equal(networkNameOf('default'), 'bridge');
  assert.equal(networkNameOf(''), 'bridge');
  assert.equal(networkNameOf('host'), 'host');
});

import { dnsNamesOf, endpointRequests, planEndpoints, resolvConfFor } from './networks.ts';
import type { ContainerRecord, ContainerSpec } from './model.ts';

const specWith = (networkMode: string, endpoints?: ContainerSpec['endpoints']): ContainerSpec => ({ host: { networkMode }, endpoints } as unknown as ContainerSpec);
const ep = (o: Partial<{ aliases: string[]; ipv4Address: string; macAddress: string }> = {}): { aliases: string[]; ipv4Address: string; macAddress: string } => ({ aliases: [], ipv4Address: '', macAddress: '', ...o });

test('planEndpoints: the NetworkMode\'s network first, then the other EndpointsConfig entries', () => {
  assert.deepEqual(planEndpoints(specWith('default')), [{ network: 'bridge', config: ep() }]);
  assert.deepEqual(planEndpoints(specWith('front', { front: ep({ aliases: ['a'] }), back: ep({ ipv4Address: '10.1.0.5' }) })), [
    { network: 'front', config: ep({ aliases: ['a'] }) },
    { network: 'back', config: ep({ ipv4Address: '10.1.0.5' }) },
  ]);
  assert.deepEqual(planEndpoints(specWith('none')), []);
  assert.deepEqual(planEndpoints(specWith('host')), []);
  assert.deepEqual(planEndpoints(specWith('container:x')), []);
});

test('planEndpoints refuses what dockerd refuses, with its words', () => {
  assert.throws(() => planEndpoints(specWith('default', { default: ep({ aliases: ['x'] }) })), /network-scoped alias is supported only for containers in user defined networks/);
  assert.throws(() => planEndpoints(specWith('bridge', { bridge: ep({ ipv4Address: '172.17.0.9' }) })), /user specified IP address is supported on user defined networks only/);
  assert.throws(() => planEndpoints(specWith('none', { other: ep() })), /private \(none\) mode/);
  assert.throws(() => planEndpoints(specWith('host', { other: ep() })), /cannot be connected to any other network/);
  assert.throws(() => planEndpoints(specWith('mynet', { mynet: ep({ macAddress: 'zz' }) })), /invalid MAC address/);
  assert.throws(() => planEndpoints(specWith('mynet', { mynet: ep({ ipv4Address: '10.1.1' }) })), /invalid IPv4 address/);
});

test('endpointRequests: records made before user networks join their NetworkMode\'s network', () => {
  const old = { spec: specWith('default') } as unknown as ContainerRecord;
  assert.deepEqual(endpointRequests(old), [{ network: 'bridge', config: ep() }]);
  const none = { spec: specWith('none') } as unknown as ContainerRecord;
  assert.deepEqual(endpointRequests(none), []);
});

test('dnsNamesOf: name, aliases, short id, hostname, without repeats', () => {
  const rec = { id: 'abcdef0123456789'.repeat(4), name: 'web', hostname: 'abcdef012345' };
  assert.deepEqual(dnsNamesOf(rec, ['www', 'web']), ['web', 'www', 'abcdef012345']);
  assert.deepEqual(dnsNamesOf({ ...rec, hostname: 'box' }, []), ['web', 'abcdef012345', 'box']);
});

test('resolv.conf: the embedded server with the host\'s search and options, or the host\'s without loopback', () => {
  const host = 'nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n';
  const none = { dns: [], dnsSearch: [], dnsOptions: [] };
  assert.equal(resolvConfFor(host, none, { hostNet: false, embedded: '10.214.0.1', hostPath: '/etc/resolv.conf' }),
    'nameserver 10.214.0.1\nsearch corp.example\noptions edns0 ndots:0\n\n# Based on host file: \'/etc/resolv.conf\' (internal resolver)\n# ExtServers: [host(127.0.0.53) host(10.0.0.2)]\n');
  const custom = resolvConfFor(host, { dns: ['192.0.2.53'], dnsSearch: ['a.test'], dnsOptions: ['ndots:2'] }, { hostNet: false, embedded: '10.214.0.1' });
  assert.match(custom, /^nameserver 10\.214\.0\.1\nsearch a\.test\noptions ndots:2\n/);
  assert.match(custom, /ExtServers: \[host\(192\.0\.2\.53\)\]/);
  assert.equal(resolvConfFor(host, none, { hostNet: false }), 'nameserver 10.0.0.2\nsearch corp.example\noptions edns0\n');
  assert.equal(resolvConfFor(host, none, { hostNet: true }), host);
  assert.equal(resolvConfFor(host, { dns: ['1.1.1.1'], dnsSearch: [], dnsOptions: [] }, { hostNet: false }), 'search corp.example\noptions edns0\nnameserver 1.1.1.1\n');
});
