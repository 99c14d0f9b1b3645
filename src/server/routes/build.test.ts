import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registryConfig } from './build.ts';

const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

test('X-Registry-Config: credentials by registry host; Docker Hub keyed by its v1 URL', () => {
  const pick = registryConfig(enc({
    'https://index.docker.io/v1/': { username: 'hub', password: 'p1' },
    '127.0.0.1:5000': { auth: Buffer.from('me:secret').toString('base64') },
    'broken': 'not an object',
  }));
  assert.deepEqual(pick('docker.io'), { username: 'hub', password: 'p1' });
  assert.deepEqual(pick('registry-1.docker.io'), { username: 'hub', password: 'p1' });
  assert.equal(pick('127.0.0.1:5000')?.username, 'me');
  assert.equal(pick('127.0.0.1:5000')?.password, 'secret');
  assert.equal(pick('other.example'), undefined);
  assert.equal(registryConfig(undefined)('docker.io'), undefined);
  assert.equal(registryConfig('%%%not base64 json')('docker.io'), undefined);
});
