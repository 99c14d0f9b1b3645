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
