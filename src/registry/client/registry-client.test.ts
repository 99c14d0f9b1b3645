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
import { PullSource, RegistryClient } from './registry-client.ts';
import { parsePlatform } from './manifest.ts';
import { parseMirror } from './hosts.ts';

const digest = (b: Buffer | string): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Fake {
  host: string;
  log: string[];
  tokens: string[];
  manifests: Map<string, { body: Buffer; type: string }>;
  blobs: Map<string, Buffer>;
  /** Bytes to send instead of a blob's (a lying registry). */
  lies: Map<string, { body: Buffer; length?: number }>;
  /** Blob bytes sent, over all GETs. */
  served: { bytes: number };
  /** Drop the connection after this many bytes of the next blob GETs (one entry per GET). */
  drops: number[];
  /** Upload requests as `METHOD Content-Range`. */
  uploads: string[];
  /** `/v1/search` results (absent: 404, as distribution answers). */
  search: { results?: object[] };
  close(): Promise<void>;
}

/** A minimal distribution API: manifests by tag or digest, blobs, monolithic uploads, and optional basic or bearer auth. */
async function fakeRegistry(o: { auth?: 'basic' | 'bearer'; https?: { key: string; cert: string } } = {}): Promise<Fake> {
  const f: Omit<Fake, 'host' | 'close'> = { log: [], tokens: [], manifests: new Map(), blobs: new Map(), lies: new Map(), served: { bytes: 0 }, drops: [], uploads: [], search: {} };
  const sessions = new Map<string, Buffer>();
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
    if (url.pathname === '/v1/search') {
      if (!f.search.results) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found');
        return;
      }
      const q = url.searchParams.get('q') ?? '';
      const results = f.search.results.filter((r) => (r as { name?: string }).name?.includes(q) ?? true).slice(0, Number(url.searchParams.get('n') ?? 25));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ num_results: results.length, query: q, results }));
      return;
    }
    let t = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (t) {
      const tags = [...f.manifests.keys()].filter((k) => !k.startsWith('sha256:')).sort();
      const n = Number(url.searchParams.get('n') ?? 1000);
      const last = url.searchParams.get('last');
      const from = last ? tags.indexOf(last) + 1 : 0;
      const page = tags.slice(from, from + Math.min(n, 2)); // two a page, to exercise Link
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (from + page.length < tags.length) headers.Link = `</v2/${t[1]}/tags/list?n=${n}&last=${page[page.length - 1]}>; rel="next"`;
      res.writeHead(200, headers).end(JSON.stringify({ name: t[1], tags: page }));
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
      const whole = lie?.body ?? b!;
      const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
      const from = range && !lie ? Number(range[1]) : 0;
      const out = whole.subarray(from);
      const headers: Record<string, string | number> = {};
      if (lie?.length !== undefined) headers['Content-Length'] = lie.length;
      else if (!lie) headers['Content-Length'] = out.length;
      if (from > 0) headers['Content-Range'] = `bytes ${from}-${whole.length - 1}/${whole.length}`;
      res.writeHead(from > 0 ? 206 : 200, headers);
      const drop = f.drops.shift();
      if (drop !== undefined) {
        res.write(out.subarray(0, drop));
        f.served.bytes += Math.min(drop, out.length);
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      f.served.bytes += out.length;
      res.end(out);
      return;
    }
    m = /^\/v2\/(.+)\/blobs\/uploads\/(.*)$/.exec(url.pathname);
    if (m && req.method === 'POST') {
      const mount = url.searchParams.get('mount');
      if (mount && f.blobs.has(mount) && url.searchParams.get('from')) {
        f.uploads.push(`MOUNT ${url.searchParams.get('from')}`);
        res.writeHead(201, { Location: `/v2/${m[1]}/blobs/${mount}`, 'Docker-Content-Digest': mount }).end();
        return;
      }
      const id = `u${sessions.size + 1}`;
      sessions.set(id, Buffer.alloc(0));
      res.writeHead(202, { Location: `/v2/${m[1]}/blobs/uploads/${id}?state=x`, Range: '0-0' }).end();
      return;
    }
    if (m && req.method === 'PATCH') {
      const have = sessions.get(m[2]!) ?? Buffer.alloc(0);
      const cr = String(req.headers['content-range'] ?? '');
      f.uploads.push(`PATCH ${cr}`);
      const r = /^(\d+)-(\d+)$/.exec(cr);
      if (r && Number(r[1]) !== have.length) {
        res.writeHead(416).end();
        return;
      }
      const now = Buffer.concat([have, body]);
      sessions.set(m[2]!, now);
      res.writeHead(202, { Location: `/v2/${m[1]}/blobs/uploads/${m[2]}?state=y`, Range: `0-${now.length - 1}` }).end();
      return;
    }
    if (m && req.method === 'PUT') {
      const d = url.searchParams.get('digest')!;
      f.uploads.push(`PUT ${body.length}`);
      if (sessions.get(m[2]!)?.length) {
        const all = Buffer.concat([sessions.get(m[2]!)!, body]);
        sessions.delete(m[2]!);
        if (digest(all) !== d) {
          res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID","message":"digest did not match"}]}');
          return;
        }
        f.blobs.set(d, all);
        res.writeHead(201, { 'Docker-Content-Digest': d }).end();
        return;
      }
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
  // a blob already held, named again with another size (one manifest may list a digest twice)
  await s.put(good, d.digest);
  assert.equal(await repo.fetchBlob(d, s), 'present');
  await rejects(repo.fetchBlob({ ...d, size: d.size + 100 }, s), 'invalid-argument', /size mismatch: expected 111, the store holds 11 bytes/);
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
  await rejects(repo.resolve('loop', amd64), 'invalid-argument', /index sha256:[a-f0-9]{64} points to itself \(a cycle\)/);
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
  await repo.pushBlob({ digest: digest(pushed), size: pushed.length }, (a, b) => Readable.from([pushed.subarray(a, b + 1)]));
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
  await repo.pushBlob({ digest: digest(blob), size: blob.length }, (a, b) => Readable.from([blob.subarray(a, b + 1)]), { progress: (n) => (last = n) });
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

const randomish = (n: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 2654435761) >>> 24;
  return b;
};

test('a dropped connection is resumed with a Range request within one fetch: no byte is served twice', async (t) => {
  const f = await fakeRegistry();
  const { s, dir } = await store();
  t.after(async () => { await f.close(); await rm(dir, { recursive: true }); });
  const layer = randomish(1_000_000);
  const d = { mediaType: MediaType.DockerLayer, digest: digest(layer), size: layer.length };
  f.blobs.set(d.digest, layer);
  f.drops.push(500_000);
  const seen: number[] = [];
  assert.equal(await new RegistryClient().repository(f.host, 'x').fetchBlob(d, s, { progress: (n) => seen.push(n) }), 'fetched');
  assert.deepEqual(await s.get(d.digest), layer);
  assert.equal(f.served.bytes, layer.length);
  assert.equal(seen.at(-1), layer.length);
  assert.ok(seen.every((n, i) => i === 0 || n >= seen[i - 1]!), 'progress never goes back');
  assert.equal(await s.partialSize(d.digest), 0);
});

test('an interrupted download keeps its bytes across a restart and resumes; two pulls of one blob download it once', async (t) => {
  const f = await fakeRegistry();
  const { s, dir } = await store();
  t.after(async () => { await f.close(); await rm(dir, { recursive: true }); });
  const layer = randomish(800_000);
  const d = { mediaType: MediaType.DockerLayer, digest: digest(layer), size: layer.length };
  f.blobs.set(d.digest, layer);
  f.drops.push(300_000, 0, 0, 0, 0, 0);
  await rejects(new RegistryClient().repository(f.host, 'x').fetchBlob(d, s), 'unavailable', /connection lost/);
  assert.equal(await s.partialSize(d.digest), 300_000);
  assert.equal(await s.has(d.digest), false);
  f.drops.length = 0;
  // "berthd restarts": a new store and client on the same root
  const s2 = await ContentStore.open(dir);
  const repo = new RegistryClient().repository(f.host, 'x');
  const followed: Buffer[] = [];
  let following: Promise<void> | undefined;
  const results = await Promise.all([
    repo.fetchBlob(d, s2, { onStart: (p) => { following = (async () => { for await (const c of p.follow()) followed.push(c); })(); } }),
    repo.fetchBlob(d, s2),
  ]);
  await following;
  assert.deepEqual(results.sort(), ['fetched', 'present']);
  assert.equal(f.served.bytes, layer.length, 'the first 300000 bytes were not fetched again');
  assert.deepEqual(Buffer.concat(followed), layer, 'a follower read every byte, the kept ones first');
  assert.deepEqual(await s2.get(d.digest), layer);
});

test('a resumed download whose bytes do not verify is dropped, nothing committed', async (t) => {
  const f = await fakeRegistry();
  const { s, dir } = await store();
  t.after(async () => { await f.close(); await rm(dir, { recursive: true }); });
  const layer = randomish(100_000);
  const d = { mediaType: MediaType.DockerLayer, digest: digest(Buffer.concat([layer.subarray(0, -1), Buffer.from([1])])), size: layer.length };
  f.blobs.set(d.digest, layer);
  await rejects(new RegistryClient().repository(f.host, 'x').fetchBlob(d, s), 'invalid-argument', /digest mismatch/);
  assert.equal(await s.partialSize(d.digest), 0);
  assert.deepEqual(blobFiles(dir), []);
});

test('push: chunked PATCH uploads with Content-Range past the chunk size, cross-repository mount', async (t) => {
  const f = await fakeRegistry();
  t.after(() => f.close());
  const client = new RegistryClient({ chunkSize: 1000 });
  const repo = client.repository(f.host, 'team/app');
  const blob = randomish(2500);
  const seen: number[] = [];
  assert.deepEqual(await repo.pushBlob({ digest: digest(blob), size: blob.length }, (a, b) => Readable.from([blob.subarray(a, b + 1)]), { progress: (n) => seen.push(n) }), {});
  assert.deepEqual(f.uploads, ['PATCH 0-999', 'PATCH 1000-1999', 'PATCH 2000-2499', 'PUT 0']);
  assert.deepEqual(f.blobs.get(digest(blob)), blob);
  assert.equal(seen.at(-1), 2500);
  f.uploads.length = 0;
  const small = Buffer.from('small');
  await repo.pushBlob({ digest: digest(small), size: small.length }, (a, b) => Readable.from([small.subarray(a, b + 1)]));
  assert.deepEqual(f.uploads, ['PUT 5']);
  f.uploads.length = 0;
  // the blob is in team/app: mounting it into another repository sends no bytes
  const r = await client.repository(f.host, 'other').pushBlob({ digest: digest(blob), size: blob.length }, () => { throw new Error('must not read'); }, { mountFrom: ['team/app'] });
  assert.deepEqual(r, { mounted: 'team/app' });
  assert.deepEqual(f.uploads, ['MOUNT team/app']);
  // a registry that declines the mount (it lacks the blob) opens an upload instead
  f.uploads.length = 0;
  const fresh = Buffer.from('fresh');
  assert.deepEqual(await client.repository(f.host, 'other').pushBlob({ digest: digest(fresh), size: 5 }, (a, b) => Readable.from([fresh.subarray(a, b + 1)]), { mountFrom: ['team/app'] }), {});
  assert.deepEqual(f.uploads, ['PUT 5']);
});

test('tags are listed across Link pages; search answers results or says the registry has none', async (t) => {
  const f = await fakeRegistry();
  t.after(() => f.close());
  for (const tag of ['c', 'a', 'b', 'd', 'e']) image(f, tag, Buffer.from(tag));
  const client = new RegistryClient();
  assert.deepEqual((await client.repository(f.host, 'x').tags()).sort(), ['a', 'b', 'c', 'd', 'e']);
  await rejects(client.search(f.host, 'busy', 25), 'not-implemented', /registry 127\.0\.0\.1:\d+ does not support search: GET \/v1\/search answered 404/);
  f.search.results = [{ name: 'busybox', description: 'tiny', star_count: 3, is_official: true }, { name: 'me/busyness', star_count: 1 }, { nope: 1 }];
  assert.deepEqual(await client.search(f.host, 'busy', 25), [
    { name: 'busybox', description: 'tiny', star_count: 3, is_official: true, is_automated: false },
    { name: 'me/busyness', description: '', star_count: 1, is_official: false, is_automated: false },
  ]);
});

test('mirrors: tried first for any registry, with a fall-back to the registry itself', async (t) => {
  const origin = await fakeRegistry();
  const mirror = await fakeRegistry();
  const { s, dir } = await store();
  t.after(async () => { await origin.close(); await mirror.close(); await rm(dir, { recursive: true }); });
  const layer = randomish(50_000);
  image(origin, 'v1', layer);
  image(mirror, 'v1', layer);
  image(origin, 'only-origin', Buffer.from('origin layer'));
  const client = new RegistryClient({ mirrors: [parseMirror(`${origin.host}=http://${mirror.host}`)] });
  const fallbacks: string[] = [];
  const src = await client.pullSource(origin.host, 'lib/x', {}, (from) => fallbacks.push(from.source));
  assert.ok(src instanceof PullSource);
  assert.equal(src.sources.length, 2);
  const r = await src.resolve('v1', amd64);
  await src.fetchBlob(r.manifest.parsed.layers[0]!, s);
  assert.equal(origin.served.bytes, 0, 'the origin served no blob bytes');
  assert.equal(mirror.served.bytes, layer.length);
  assert.ok(!origin.log.some((l) => l.includes('/manifests/')), origin.log.join(' '));
  // a tag the mirror lacks comes from the origin
  const o = await src.resolve('only-origin', amd64);
  await src.fetchBlob(o.manifest.parsed.layers[0]!, s);
  assert.deepEqual(await s.get(o.manifest.parsed.layers[0]!.digest), Buffer.from('origin layer'));
  assert.deepEqual(fallbacks, [`http://${mirror.host}/`]);
  // a mirror that is down
  await mirror.close();
  const again = await client.pullSource(origin.host, 'lib/x');
  assert.equal((await again.resolve('v1', amd64)).manifest.parsed.layers.length, 1);
  // errors name the origin's answer
  await rejects(again.resolve('nope', amd64), 'not-found', /127\.0\.0\.1:\d+\/lib\/x:nope not found/);
  assert.throws(() => parseMirror('ftp://x/'), /unsupported scheme/);
  assert.equal(parseMirror('https://mirror.example/').registry, 'docker.io');
});
