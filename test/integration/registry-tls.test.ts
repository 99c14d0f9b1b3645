// Acceptance: Debian's docker-registry with TLS (a self-signed certificate made here with openssl,
// trusted through berthd's CA dir) and htpasswd basic auth: login, push, pull, pull by digest,
// search error, logout — with the real docker CLI → berthd, and with berth (config.json).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';
import { Registry, has } from '../helpers/registry.ts';

const skip = skipReason()
  ?? (has('docker') ? undefined : 'needs the docker CLI')
  ?? (has('docker-registry') ? undefined : 'needs docker-registry (apt-get install docker-registry)')
  ?? (has('htpasswd') ? undefined : 'needs htpasswd (apt-get install apache2-utils)')
  ?? (has('openssl') ? undefined : 'needs openssl');

describe('registries: TLS with a CA from the certs dir, htpasswd basic auth', { skip, timeout: 180_000 }, () => {
  const reg = new Registry();
  const other = new Registry();
  let d: TestDaemon;
  let certsDir = '';
  const sfx = randomSuffix();
  const ok = (r: { code: number; stdout: string; stderr: string }, what: string): string => {
    assert.equal(r.code, 0, `${what}: ${r.stdout}\n${r.stderr}\n${d.log.slice(-2000)}`);
    return r.stdout;
  };

  before(async () => {
    await Promise.all([reg.start({ tls: true, htpasswd: { user: 'alice', password: 's3cret' } }), other.start({ tls: true })]);
    certsDir = join(reg.dir, 'certs.d');
    mkdirSync(join(certsDir, reg.host), { recursive: true });
    copyFileSync(reg.tls!.certFile, join(certsDir, reg.host, 'ca.crt'));
    // the other registry's directory trusts the wrong CA: its certificate must be refused
    mkdirSync(join(certsDir, other.host), { recursive: true });
    copyFileSync(reg.tls!.certFile, join(certsDir, other.host, 'ca.crt'));
    d = new TestDaemon(['--registry-certs-dir', certsDir]);
    await daemonWithBusybox(d);
  });
  after(async () => {
    await d?.cleanup();
    await Promise.all([reg.stop(), other.stop()]);
  });

  test('docker CLI → berthd: login, push, pull, pull by digest, search error, logout', async () => {
    const ref = `${reg.host}/tls-${sfx}:1`;
    ok(await d.docker(['tag', 'busybox', ref]), 'tag');
    const anon = await d.docker(['push', ref]);
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr, /unauthorized|authentication required/);
    const bad = await d.docker(['login', '-u', 'alice', '-p', 'wrong', reg.host]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /401 Unauthorized/);
    assert.match(ok(await d.docker(['login', '-u', 'alice', '-p', 's3cret', reg.host]), 'login'), /Login Succeeded/);
    const push = ok(await d.docker(['push', ref]), 'push');
    const digest = /^1: digest: (sha256:[a-f0-9]{64})/m.exec(push)?.[1];
    assert.ok(digest, push);
    ok(await d.docker(['rmi', ref, 'busybox']), 'rmi');
    assert.match(ok(await d.docker(['pull', ref]), 'pull'), /Pull complete/);
    ok(await d.docker(['rmi', ref]), 'rmi');
    assert.match(ok(await d.docker(['pull', `${reg.host}/tls-${sfx}@${digest}`]), 'pull by digest'), new RegExp(`Digest: ${digest}`));
    assert.equal(ok(await d.docker(['run', '--rm', `${reg.host}/tls-${sfx}@${digest}`, 'echo', 'over tls']), 'run'), 'over tls\n');
    const search = await d.docker(['search', `${reg.host}/tls`]);
    assert.notEqual(search.code, 0);
    assert.match(search.stderr, /does not support search/);
    ok(await d.docker(['logout', reg.host]), 'logout');
    const denied = await d.docker(['pull', ref.replace(':1', ':nope')]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /pull access denied .*may require 'docker login'/);
  });

  test('berth: login keeps config.json (0600), push and pull send its credentials, search error, logout', async () => {
    const ref = `${reg.host}/berth-${sfx}:2`;
    const cfg = join(d.dir, 'docker-config', 'config.json');
    const bad = await d.berth(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'nope\n' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /401 Unauthorized/);
    const login = await d.berth(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 's3cret\n' });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, 'Login Succeeded\n');
    assert.equal(statSync(cfg).mode & 0o777, 0o600);
    const auths = (JSON.parse(readFileSync(cfg, 'utf8')) as { auths: Record<string, { auth: string }> }).auths;
    assert.equal(auths[reg.host]?.auth, Buffer.from('alice:s3cret').toString('base64'));
    ok(await d.berth(['load', '-i', (await import('../helpers/env.ts')).busyboxArchive()]), 'load');
    ok(await d.berth(['tag', 'busybox', ref]), 'tag');
    const push = ok(await d.berth(['push', ref]), 'berth push');
    assert.match(push, /^[a-f0-9]{12}: (Pushed|Layer already exists|Mounted from .*)$/m);
    const digest = /^2: digest: (sha256:[a-f0-9]{64})/m.exec(push)?.[1];
    assert.ok(digest, push);
    ok(await d.berth(['rmi', ref, 'busybox']), 'rmi');
    ok(await d.berth(['pull', ref]), 'berth pull');
    assert.equal(ok(await d.berth(['pull', '-q', `${reg.host}/berth-${sfx}@${digest}`]), 'berth pull by digest'), `${reg.host}/berth-${sfx}@${digest}\n`);
    const search = await d.berth(['search', `${reg.host}/berth`]);
    assert.notEqual(search.code, 0);
    assert.match(search.stderr, /Error response from daemon: registry 127\.0\.0\.1:\d+ does not support search/);
    assert.equal(ok(await d.berth(['logout', reg.host]), 'logout'), `Removing login credentials for ${reg.host}\n`);
    assert.ok(existsSync(cfg));
    assert.equal((JSON.parse(readFileSync(cfg, 'utf8')) as { auths: object }).auths[reg.host as never], undefined);
    ok(await d.berth(['rmi', ref]), 'rmi');
    const denied = await d.berth(['pull', ref]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /pull access denied/);
  });

  test('a certificate the CA dir does not vouch for is refused, not skipped (loopback or not)', async () => {
    const r = await d.docker(['pull', `${other.host}/x:1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /certificate|self.signed/i);
  });
});
