// The docker CLI → berthd → registries on loopback, started here: Debian's docker-registry
// (distribution 2.8) open and with htpasswd basic auth, a bearer-token proxy written here in front
// of it, and a fake registry that serves wrong bytes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';

const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const skip = skipReason()
  ?? (has('docker') ? undefined : 'needs the docker CLI')
  ?? (has('docker-registry') ? undefined : 'needs docker-registry (apt-get install docker-registry)');
const noHtpasswd = has('htpasswd') ? undefined : 'needs htpasswd for bcrypt hashes (apt-get install apache2-utils)';

const digestOf = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function listen(s: Server): Promise<string> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const closeServer = (s: Server): Promise<void> => new Promise((r) => {
  s.closeAllConnections();
  s.close(() => r());
});

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const r = request(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    r.on('error', () => resolve(0));
    r.end();
  });
}

/** docker-registry on a random loopback port with its own storage; `htpasswd` turns on basic auth. */
class Registry {
  proc?: ChildProcess;
  host = '';
  readonly dir = mkdtempSync('/tmp/berth-registry-');
  log = '';
  async start(htpasswd?: { user: string; password: string }): Promise<void> {
    const port = await freePort();
    this.host = `127.0.0.1:${port}`;
    let auth = '';
    if (htpasswd) {
      const h = spawnSync('htpasswd', ['-Bbn', htpasswd.user, htpasswd.password], { encoding: 'utf8' });
      if (h.status !== 0) throw new Error(`htpasswd: ${h.stderr}`);
      writeFileSync(join(this.dir, 'htpasswd'), h.stdout);
      auth = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${join(this.dir, 'htpasswd')}\n`;
    }
    writeFileSync(join(this.dir, 'config.yml'), `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(this.dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${this.host}\n${auth}`);
    this.proc = spawn('docker-registry', ['serve', join(this.dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    for (let i = 0; i < 100; i++) {
      if ((await get(`http://${this.host}/v2/`)) !== 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`docker-registry did not start: ${this.log}`);
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** GET on berthd's socket, with an optional X-Registry-Auth. */
function api(sock: string, path: string, auth?: object): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = auth ? { 'X-Registry-Auth': Buffer.from(JSON.stringify(auth)).toString('base64url') } : {};
    const r = request({ socketPath: sock, path, headers }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    r.on('error', reject);
    r.end();
  });
}

describe('registries: docker push, pull, login, run against berthd', { skip, timeout: 150_000 }, () => {
  const d = new TestDaemon();
  const open = new Registry();
  const sfx = randomSuffix();
  const ok = (r: { code: number; stdout: string; stderr: string }, what: string): string => {
    assert.equal(r.code, 0, `${what}: ${r.stdout}\n${r.stderr}\n${d.log.slice(-2000)}`);
    return r.stdout;
  };

  before(async () => {
    await Promise.all([daemonWithBusybox(d), open.start()]);
  });
  after(async () => {
    await d.cleanup();
    await open.stop();
  });

  test('push, rmi, pull back, up to date, run, pull by digest, distribution inspect', async () => {
    const ref = `${open.host}/bb-${sfx}:1`;
    ok(await d.docker(['tag', 'busybox', ref]), 'tag');
    const push = ok(await d.docker(['push', ref]), 'push');
    assert.match(push, new RegExp(`The push refers to repository \\[${open.host}/bb-${sfx}\\]`));
    assert.match(push, /: Pushed$/m);
    const m = /^1: digest: (sha256:[a-f0-9]{64}) size: (\d+)$/m.exec(push);
    assert.ok(m, push);
    const manifestDigest = m[1]!;
    assert.match(ok(await d.docker(['push', ref]), 'push again'), /: Layer already exists$/m);

    ok(await d.docker(['rmi', ref]), 'rmi');
    const pull = ok(await d.docker(['pull', ref]), 'pull');
    assert.match(pull, new RegExp(`^1: Pulling from bb-${sfx}$`, 'm'));
    assert.match(pull, new RegExp(`^Digest: ${manifestDigest}$`, 'm'));
    assert.match(pull, new RegExp(`^Status: Downloaded newer image for ${ref.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(ok(await d.docker(['pull', ref]), 'pull again'), /Status: Image is up to date for/);
    const digests = JSON.parse(ok(await d.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', ref]), 'inspect')) as string[];
    assert.ok(digests.includes(`${open.host}/bb-${sfx}@${manifestDigest}`), JSON.stringify(digests));
    assert.equal(ok(await d.docker(['run', '--rm', ref, 'echo', 'pulled']), 'run').trim(), 'pulled');

    // a fresh pull (busybox untagged too, so layers go) by digest
    ok(await d.docker(['rmi', ref, 'busybox']), 'rmi all');
    const byDigest = `${open.host}/bb-${sfx}@${manifestDigest}`;
    const pd = ok(await d.docker(['pull', byDigest]), 'pull by digest');
    assert.match(pd, new RegExp(`Status: Downloaded newer image for ${byDigest.replace(/\./g, '\\.')}`));
    assert.equal(ok(await d.docker(['run', '--rm', byDigest, 'echo', 'by-digest']), 'run by digest').trim(), 'by-digest');

    const dist = await api(d.sock, `/distribution/${ref}/json`);
    assert.equal(dist.status, 200, dist.body);
    const j = JSON.parse(dist.body) as { Descriptor: { digest: string; mediaType: string }; Platforms: { os: string }[] };
    assert.equal(j.Descriptor.digest, manifestDigest);
    assert.equal(j.Descriptor.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(j.Platforms[0]?.os, 'linux');

    const missing = await d.docker(['pull', `${open.host}/bb-${sfx}:nope`]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /manifest for .*:nope not found: manifest unknown/);
    const arm = await d.docker(['pull', '--platform', 'linux/s390x', ref]);
    assert.notEqual(arm.code, 0);
    assert.match(arm.stderr, /does not match the specified platform \(linux\/s390x\)/);
    ok(await d.docker(['rmi', byDigest]), 'cleanup');
  });

  test('docker run of an image only in the registry pulls it', async () => {
    const ref = `${open.host}/auto-${sfx}:v2`;
    ok(await d.docker(['load', '-i', (await import('../helpers/env.ts')).busyboxArchive()]), 'load');
    ok(await d.docker(['tag', 'busybox', ref]), 'tag');
    ok(await d.docker(['push', ref]), 'push');
    ok(await d.docker(['rmi', ref, 'busybox']), 'rmi');
    const r = await d.docker(['run', '--rm', ref, 'echo', 'auto-pulled']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'auto-pulled');
    assert.match(r.stderr, new RegExp(`Unable to find image '${ref.replace(/\./g, '\\.')}' locally`));
    assert.match(r.stderr, /Pull complete/);
  });

  test('htpasswd basic auth: login, push, pull, wrong password, logout', { skip: noHtpasswd }, async (t) => {
    const reg = new Registry();
    t.after(() => reg.stop());
    await reg.start({ user: 'alice', password: 's3cret' });
    const ref = `${reg.host}/private-${sfx}:1`;
    ok(await d.docker(['tag', `${open.host}/auto-${sfx}:v2`, ref]), 'tag');
    const anon = await d.docker(['push', ref]);
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr, /unauthorized|authentication required/);
    const bad = await d.docker(['login', '-u', 'alice', '-p', 'wrong', reg.host]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /401|unauthorized/i);
    assert.match(ok(await d.docker(['login', '-u', 'alice', '-p', 's3cret', reg.host]), 'login'), /Login Succeeded/);
    ok(await d.docker(['push', ref]), 'push');
    ok(await d.docker(['rmi', ref]), 'rmi');
    assert.match(ok(await d.docker(['pull', ref]), 'pull'), /Status: Downloaded newer image/);
    ok(await d.docker(['logout', reg.host]), 'logout');
    ok(await d.docker(['rmi', ref]), 'rmi');
    const denied = await d.docker(['pull', ref]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /pull access denied for .*private-.*may require 'docker login'/);
  });

  test('bearer tokens: a token server and proxy written here, tokens cached per scope', async (t) => {
    const scopes: string[] = [];
    const tokens = new Map<string, string>(); // token → scope
    let proxyHost = '';
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/token') {
        if (req.headers.authorization !== `Basic ${Buffer.from('bob:hunter2').toString('base64')}`) {
          res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"incorrect username or password"}');
          return;
        }
        const scope = url.searchParams.getAll('scope').join(' ');
        scopes.push(scope);
        const tok = randomBytes(12).toString('hex');
        tokens.set(tok, scope);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: tok, expires_in: 300 }));
        return;
      }
      const name = /^\/v2\/(.+?)\/(?:manifests|blobs)\//.exec(url.pathname)?.[1];
      const need = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
      const granted = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
      const allowed = granted !== undefined && (!name || granted.split(' ').some((s) => s.startsWith(`repository:${name}:`) && s.split(':')[2]!.split(',').includes(need)));
      if (!allowed) {
        const scope = name ? `,scope="repository:${name}:${need === 'push' ? 'pull,push' : 'pull'}"` : '';
        res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${proxyHost}/token",service="berth-test"${scope}`, 'Content-Type': 'application/json' })
          .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
      const headers = { ...req.headers };
      delete headers.authorization;
      const up = request({ host: '127.0.0.1', port: Number(open.host.split(':')[1]), method: req.method, path: req.url, headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    proxyHost = await listen(server);
    t.after(() => closeServer(server));
    const ref = `${proxyHost}/tok-${sfx}:1`;
    ok(await d.docker(['tag', `${open.host}/auto-${sfx}:v2`, ref]), 'tag');
    const bad = await d.docker(['login', '-u', 'bob', '-p', 'nope', proxyHost]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /incorrect username or password/);
    assert.match(ok(await d.docker(['login', '-u', 'bob', '-p', 'hunter2', proxyHost]), 'login'), /Login Succeeded/);
    ok(await d.docker(['push', ref]), 'push');
    assert.ok(scopes.includes(`repository:tok-${sfx}:pull,push`), scopes.join(' | '));
    const pushTokens = scopes.filter((s) => s.includes('pull,push')).length;
    assert.ok(pushTokens <= 2, `a token per scope, cached: ${scopes.join(' | ')}`);
    ok(await d.docker(['rmi', ref]), 'rmi');
    assert.match(ok(await d.docker(['pull', ref]), 'pull'), /Status: Downloaded newer image/);
    ok(await d.docker(['logout', proxyHost]), 'logout');
    ok(await d.docker(['rmi', ref]), 'rmi');
    const denied = await d.docker(['pull', ref]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /pull access denied|unauthorized/);
  });

  test('a registry that serves wrong bytes, a lying, oversized or self-referencing manifest, or a short blob: the pull fails and nothing is committed', async (t) => {
    const tarOf = (n: number): Buffer => Buffer.alloc(1024, n); // two zero blocks are an empty tar; any bytes do for the diff_id
    const good = gzipSync(Buffer.alloc(1024));
    const bad = gzipSync(tarOf(0));
    const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(Buffer.alloc(1024)), digestOf(tarOf(0))] } }));
    const layers = [good, bad].map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: digestOf(l), size: l.length }));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: digestOf(cfg), size: cfg.length },
      layers: [layers[0], { ...layers[1], digest: digestOf(Buffer.concat([bad.subarray(0, -1), Buffer.from([bad[bad.length - 1]! ^ 0xff])])) }],
    }));
    // an index whose only entry the registry answers with the index itself
    const loopEntry = digestOf('the entry');
    const loop = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: loopEntry, size: 100, platform: { os: 'linux', architecture: 'amd64' } }] }));
    // a layer whose descriptor claims more bytes than the registry sends
    const shortManifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: digestOf(cfg), size: cfg.length },
      layers: [{ ...layers[0], size: good.length + 100 }, layers[1]],
    }));
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    const server = createServer((req, res) => {
      const p = req.url ?? '';
      if (p === '/v2/') res.writeHead(200).end('{}');
      else if (p.endsWith('/manifests/big')) res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' }).end(big);
      else if (p.endsWith('/manifests/loop') || p.endsWith(`/manifests/${loopEntry}`)) res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json', 'Content-Length': loop.length }).end(loop);
      else if (p.endsWith('/manifests/short')) res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json', 'Content-Length': shortManifest.length }).end(shortManifest);
      else if (p.endsWith('/manifests/liar')) res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json', 'Content-Length': manifest.length }).end(manifest);
      else if (p.includes('/manifests/')) res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json', 'Content-Length': manifest.length }).end(manifest);
      else if (p.endsWith(digestOf(cfg))) res.writeHead(200, { 'Content-Length': cfg.length }).end(cfg);
      else if (p.endsWith(digestOf(good))) res.writeHead(200, { 'Content-Length': good.length }).end(good);
      else if (p.includes('/blobs/')) res.writeHead(200, { 'Content-Length': bad.length }).end(bad); // not the bytes the manifest names
      else res.writeHead(404).end();
    });
    const host = await listen(server);
    t.after(() => closeServer(server));
    const blobDir = join(d.dataRoot, 'blobs', 'sha256');
    const before = new Set(readdirSync(blobDir));
    const snapDir = join(d.dataRoot, 'overlay', 'snapshots'); // overlay2 (the default here); vfs keeps its own layout
    // `.trash-*` is a removed snapshot still being deleted in the background (common/atomic.ts discard)
    const snaps = (): string[] => (existsSync(snapDir) ? readdirSync(snapDir).filter((f) => !f.startsWith('.trash-')).sort() : []);
    const snapsBefore = snaps();
    const r = await d.docker(['pull', `${host}/evil:1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /digest mismatch/);
    assert.deepEqual(readdirSync(blobDir).filter((f) => !before.has(f)), []); // the good layer's blob went too
    assert.deepEqual(snaps(), snapsBefore); // and the good layer's snapshot
    assert.equal(ok(await d.docker(['images', '-q', `${host}/evil`]), 'images').trim(), '');
    for (const [tag, why] of [
      ['liar', /contradicts its content/],
      ['big', /invalid manifest: manifest .*evil:big is too large: over 4194304 bytes/],
      ['loop', /invalid manifest: index sha256:[a-f0-9]{64} points to itself \(a cycle\)/],
      // its layers name one digest twice, once with the wrong size: whichever download goes first
      // (the one per digest), the wrong size is caught, by the registry's Content-Length or by the store
      ['short', /size mismatch: expected 1\d+, (the registry sends|the store holds) \d+/],
    ] as const) {
      const r2 = await d.docker(['pull', `${host}/evil:${tag}`]);
      assert.notEqual(r2.code, 0, tag);
      assert.match(r2.stderr, why, tag);
      assert.deepEqual(readdirSync(blobDir).filter((f) => !before.has(f)), [], tag);
      assert.deepEqual(snaps(), snapsBefore, tag);
      assert.deepEqual(readdirSync(join(d.dataRoot, 'ingest')), [], tag); // not even a partial download
    }
    assert.equal(ok(await d.docker(['images', '-q', `${host}/evil`]), 'images').trim(), '');
  });
});
