// The client against small fake registries in this process (loopback, no root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BerthError, type Digest } from '../../common/index.ts';
import { MediaType } from '../../oci/index.ts';
import { ContentStore } from '../../store/index.ts';
import { RegistryClient } from './registry-client.ts';
import { parsePlatform } from './manifest.ts';

const digest = (b: Buffer | string): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Fake {
  host: string;
  log: string[];
  tokens: string[];
  manifests: Map<string, { body: Buffer; type: string }>;
  blobs: Map<string, Buffer>;
  /** Bytes to send instead of a blob's (a lying registry). */
  lies: Map<string, { body: Buffer; length?: number }>;
  close(): Promise<void>;
}

/** A minimal distribution API: manifests by tag or digest, blobs, monolithic uploads, and optional basic or bearer auth. */
async function fakeRegistry(o: { auth?: 'basic' | 'bearer'; https?: { key: string; cert: string } } = {}): Promise<Fake> {
  const f: Omit<Fake, 'host' | 'close'> = { log: [], tokens: [], manifests: new Map(), blobs: new Map(), lies: new Map() };
  const issued = new Set<string>();
  let host = '';
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    f.log.push(`${req.method} ${url.pathname}`);
    if (url.pathname === '/token') {
      f.tokens.push(url.searchParams.getAll('scope').join(' '));
      if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"incorrect username or password"}');
        return;
      }
      const t = `tok${issued.size}`;
      issued.add(t);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: t, expires_in: 300 }));
      return;
    }
    const authz = req.headers.authorization ?? '';
    if (o.auth === 'basic' && authz !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake"', 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (o.auth === 'bearer' && !issued.has(authz.replace(/^Bearer /, ''))) {
      const m = /^\/v2\/(.+?)\/(manifests|blobs)\//.exec(url.pathname);
      const scope = m ? `,scope="repository:${m[1]}:pull"` : '';
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${o.https ? 'https' : 'http'}://${host}/token",service="fake"${scope}`, 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (url.pathname === '/v2/') {
      res.writeHead(200).end('{}');
      return;
    }
    let m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname);
    if (m) {
      if (req.method === 'PUT') {
        f.manifests.set(m[2]!, { body, type: String(req.headers['content-type']) });
        f.manifests.set(digest(body), { body, type: String(req.headers['content-type']) });
        res.writeHead(201, { 'Docker-Content-Digest': digest(body) }).end();
        return;
      }
      const e = f.manifests.get(m[2]!);
      if (!e) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
        return;
      }
      res.writeHead(200, { 'Content-Type': e.type, 'Content-Length': e.body.length }).end(e.body);
      return;
    }
    m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (m) {
      const lie = f.lies.get(m[2]!);
      const b = f.blobs.get(m[2]!);
      if (!lie && !b) {
        res.writeHead(404).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
        return;
      }
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'Content-Length': b!.length }).end();
        return;
      }
      const out = lie?.body ?? b!;
      const headers: Record<string, string | number> = {};
      if (lie?.length !== undefined) headers['Content-Length'] = lie.length;
      else if (!lie) headers['Content-Length'] = out.length;
      res.writeHead(200, headers).end(out);
      return;
    }
    m = /^\/v2\/(.+)\/blobs\/uploads\/(.*)$/.exec(url.pathname);
    if (m && req.method === 'POST') {
      res.writeHead(202, { Location: `/v2/${m[1]}/blobs/uploads/u1?state=x` }).end();
      return;
    }
    if (m && req.method === 'PUT') {
      const d = url.searchParams.get('digest')!;
      if (digest(body) !== d) {
        res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID","message":"digest did not match"}]}');
        return;
      }
      f.blobs.set(d, body);
      res.writeHead(201, { 'Docker-Content-Digest': d }).end();
      return;
    }
    res.writeHead(404).end();
  };
  const server: Server = o.https ? createHttps({ key: o.https.key, cert: o.https.cert }, (q, s) => void handler(q, s)) : createHttp((q, s) => void handler(q, s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { ...f, host, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

function image(f: Fake, tag: string, layer: Buffer): { cfg: Buffer; mRaw: Buffer } {
  const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digest('x')] } }));
  const mRaw = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.DockerManifest,
    config: { mediaType: MediaType.DockerConfig, digest: digest(cfg), size: cfg.length },
    layers: [{ mediaType: MediaType.DockerLayer, digest: digest(layer), size: layer.length }],
  }));
  f.blobs.set(digest(cfg), cfg);
  f.blobs.set(digest(layer), layer);
  f.manifests.set(tag, { body: mRaw, type: MediaType.DockerManifest });
  f.manifests.set(digest(mRaw), { body: mRaw, type: MediaType.DockerManifest });
  return { cfg, mRaw };
}

async function store(): Promise<{ s: ContentStore; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-reg-'));
  return { s: await ContentStore.open(dir), dir };
}
const blobFiles = (dir: string): string[] => readdirSync(join(dir, 'blobs', 'sha256'));

const rejects = (p: Promise<unknown>, kind: string, re: RegExp): Promise<void> =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof BerthError, String(e));
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, re);
    return true;
  });

const amd64 = parsePlatform('linux/amd64');

test('anonymous pull over plain http (loopback): index → manifest → verified blob', async (t) => {
  const f = await fakeRegistry();
  const { s, dir } = await store();
  t.after(async () => { await f.close(); await rm(dir, { recursive: true }); });
  const layer = Buffer.from('layer-bytes'.repeat(1000));
  const { mRaw } = image(f, 'one', layer);
  const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.DockerManifest, digest: digest(mRaw), size: mRaw.length, platform: { os: 'linux', architecture: 'amd64' } }] }));
  f.manifests.set('multi', { body: idx, type: MediaType.OciIndex });
  const repo = new RegistryClient().repository(f.host, 'lib/x');
  const r = await repo.resolve('multi', amd64);
  assert.equal(r.digest, digest(idx));
  assert.equal(r.manifest.digest, digest(mRaw));
  const seen: number[] = [];
  await repo.fetchBlob(r.manifest.parsed.layers[0]!, s, { progress: (n) => seen.push(n) });
  assert.deepEqual(await s.get(digest(layer)), layer);
  assert.equal(seen.at(-1), layer.length);
  await rejects(repo.resolve('nope', amd64), 'not-found', /manifest for 127\.0\.0\.1:\d+\/lib\/x:nope not found: manifest unknown: manifest unknown/);
});

test('a blob with wrong bytes, too many bytes or a wrong length is refused and nothing is committed', async (t) => {
  const f = await fakeRegistry();
  const { s, dir } = await store();
  t.after(async () => { await f.close(); await rm(dir, { recursive: true }); });
  const repo = new RegistryClient().repository(f.host, 'x');
  const good = Buffer.from('good bytes!');
  const d = { mediaType: MediaType.DockerLayer, digest: digest(good), size: good.length };
  f.lies.set(d.digest, { body: Buffer.from('evil bytes!') });
  await rejects(repo.fetchBlob(d, s), 'invalid-argument', /digest mismatch/);
  f.lies.set(d.digest, { body: Buffer.concat([good, Buffer.from('more')]), length: undefined });
  await rejects(repo.fetchBlob(d, s), 'invalid-argument', /size mismatch/);
  f.lies.set(d.digest, { body: Buffer.from('short'), length: 5 });
  await rejects(repo.fetchBlob(d, s), 'invalid-argument', /size mismatch: expected 11, the registry sends 5/);
  assert.deepEqual(blobFiles(dir), []); // no blob, no temp file
  f.lies.delete(d.digest);
  await rejects(repo.blobBytes(d, 1024), 'not-found', /blob unknown/);
});

test('hostile manifests: oversize, contradicting mediaType, lying index entries, deep nesting, schema1', async (t) => {
  const f = await fakeRegistry();
  t.after(() => f.close());
  const repo = new RegistryClient().repository(f.host, 'x');
  f.manifests.set('big', { body: Buffer.alloc(4 * 1024 * 1024 + 10, 0x20), type: MediaType.OciManifest });
  await rejects(repo.resolve('big', amd64), 'invalid-argument', /too large/);
  const { mRaw } = image(f, 'ok', Buffer.from('l'));
  f.manifests.set('liar', { body: mRaw, type: MediaType.OciIndex });
  await rejects(repo.resolve('liar', amd64), 'invalid-argument', /Content-Type application\/vnd\.oci\.image\.index\.v1\+json contradicts its content/);
  // an index whose entry the registry answers with the index itself
  const loopDigest = digest('not the index');
  const loop = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciIndex, digest: loopDigest, size: 10, platform: { os: 'linux', architecture: 'amd64' } }] }));
  f.manifests.set('loop', { body: loop, type: MediaType.OciIndex });
  f.manifests.set(loopDigest, { body: loop, type: MediaType.OciIndex });
  await rejects(repo.resolve('loop', amd64), 'invalid-argument', /manifest verification failed for digest/);
  // three levels of indexes (each honest)
  let inner = mRaw;
  let innerType: string = MediaType.DockerManifest;
  for (let i = 0; i < 3; i++) {
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: innerType, digest: digest(inner), size: inner.length, platform: { os: 'linux', architecture: 'amd64' } }] }));
    f.manifests.set(digest(idx), { body: idx, type: MediaType.OciIndex });
    inner = idx;
    innerType = MediaType.OciIndex;
  }
  f.manifests.set('deep', { body: inner, type: MediaType.OciIndex });
  await rejects(repo.resolve('deep', amd64), 'invalid-argument', /nests indexes too deeply/);
  f.manifests.set('old', { body: Buffer.from('{"schemaVersion":1,"name":"x","tag":"old","fsLayers":[]}'), type: 'application/vnd.docker.distribution.manifest.v1+prettyjws' });
  await rejects(repo.resolve('old', amd64), 'invalid-argument', /schema 1 support has been removed/);
  await rejects(repo.resolve(digest('absent'), amd64), 'not-found', /not found/);
});

test('bearer auth: 401 challenge, token per scope with basic credentials, cached, refused credentials', async (t) => {
  const f = await fakeRegistry({ auth: 'bearer' });
  const { s, dir } = await store();
  t.after(async () => { await f.close(); await rm(dir, { recursive: true }); });
  const layer = Buffer.from('secret layer');
  image(f, 'v1', layer);
  const client = new RegistryClient();
  const repo = client.repository(f.host, 'team/app', { username: 'u', password: 'p' });
  const r = await repo.resolve('v1', amd64);
  await repo.fetchBlob(r.manifest.parsed.layers[0]!, s);
  await repo.blobBytes(r.manifest.parsed.config, 1 << 20);
  assert.deepEqual(f.tokens, ['repository:team/app:pull']); // one token for all three requests
  await rejects(client.repository(f.host, 'team/app', { username: 'u', password: 'wrong' }).resolve('v1', amd64), 'not-found', /incorrect username or password/);
  await rejects(client.repository(f.host, 'team/app').resolve('v1', amd64), 'not-found', /pull access denied for 127\.0\.0\.1:\d+\/team\/app/);
  assert.deepEqual(await client.login(f.host, { username: 'u', password: 'p' }), { status: 'Login Succeeded' });
  await rejects(client.login(f.host, { username: 'u', password: 'nope' }), 'unauthorized', /unauthorized/);
  // push: the token asks for pull,push
  const pushed = Buffer.from('new blob');
  await repo.pushBlob({ digest: digest(pushed), size: pushed.length }, () => Readable.from([pushed]));
  assert.ok(f.tokens.includes('repository:team/app:pull,push'), f.tokens.join('|'));
  assert.deepEqual(f.blobs.get(digest(pushed)), pushed);
});

test('basic auth, and push: HEAD, monolithic upload, manifest PUT', async (t) => {
  const f = await fakeRegistry({ auth: 'basic' });
  t.after(() => f.close());
  const client = new RegistryClient();
  assert.deepEqual(await client.login(`http://${f.host}/`, { username: 'u', password: 'p' }), { status: 'Login Succeeded' });
  await rejects(client.login(f.host, { username: 'u', password: 'x' }), 'unauthorized', /401/);
  const repo = client.repository(f.host, 'x', { username: 'u', password: 'p' });
  const blob = Buffer.from('a blob to push');
  assert.equal(await repo.hasBlob(digest(blob)), false);
  let last = 0;
  await repo.pushBlob({ digest: digest(blob), size: blob.length }, () => Readable.from([blob]), { progress: (n) => (last = n) });
  assert.equal(last, blob.length);
  assert.equal(await repo.hasBlob(digest(blob)), true);
  const m = Buffer.from('{"schemaVersion":2}');
  assert.equal(await repo.putManifest('v1', m, MediaType.DockerManifest), digest(m));
  assert.ok(f.log.includes('PUT /v2/x/manifests/v1'));
  await rejects(client.repository(f.host, 'x').hasBlob(digest(blob)), 'unauthorized', /authentication required/);
});

test('https: verified against a CA from the certs dir; refused without it', { skip: spawnSync('sh', ['-c', 'command -v openssl']).status !== 0 ? 'needs openssl' : undefined }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  const f = await fakeRegistry({ https: { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') } });
  t.after(async () => { await f.close(); await rm(dir, { recursive: true }); });
  image(f, 'v1', Buffer.from('tls layer'));
  const certsDir = join(dir, 'certs.d');
  await rejects(new RegistryClient({ insecure: [], certsDir }).repository(f.host, 'x').resolve('v1', amd64), 'unavailable', /self.signed|certificate/i);
  mkdirSync(join(certsDir, f.host), { recursive: true });
  spawnSync('cp', [join(dir, 'cert.pem'), join(certsDir, f.host, 'ca.crt')]);
  const r = await new RegistryClient({ insecure: [], certsDir }).repository(f.host, 'x').resolve('v1', amd64);
  assert.equal(r.manifest.parsed.layers.length, 1);
  // an insecure host skips verification
  await new RegistryClient({ insecure: [f.host], certsDir: join(dir, 'none') }).repository(f.host, 'x').resolve('v1', amd64);
});
