// login, logout, push, pull -a and search against a fake daemon; outputs captured from the docker
// CLI 28.2 against the same replies (scripts/cli-docker-capture.mjs).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeDaemon } from '../../client/index.ts';
import { runCli, startFake } from '../test-helpers.ts';
import { displayProgress, progressString } from '../progress.ts';
import { PassThrough } from 'node:stream';

const SEARCH = [
  { name: 'busybox', description: 'Busybox base image with a long description that goes on and on.', star_count: 3180, is_official: true, is_automated: false },
  { name: 'me/busyness', description: 'line1\nline2', star_count: 2, is_official: false, is_automated: false },
];
const PUSH = [
  { status: 'The push refers to repository [127.0.0.1:5000/x]' },
  { status: 'Preparing', progressDetail: {}, id: 'abc123abc123' },
  { status: 'Pushing', progressDetail: { current: 512, total: 1024 }, progress: '[====>   ] 512B/1.024kB', id: 'abc123abc123' },
  { status: 'Pushed', progressDetail: {}, id: 'abc123abc123' },
  { status: '1: digest: sha256:aaaa size: 527' },
  { progressDetail: {}, aux: { Tag: '1', Digest: 'sha256:aaaa', Size: 527 } },
];
const lines = (xs: object[]): string => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';

describe('registry verbs', () => {
  let fake: FakeDaemon;
  let dir: string;
  const env = (): NodeJS.ProcessEnv => ({ DOCKER_CONFIG: join(dir, 'cfg') });
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-cli-reg-'));
    fake = await startFake();
    fake.route('POST /auth', (req, res) => {
      const b = req.body as { password?: string };
      if (b.password === 'wrong') {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"message":"login attempt to http://127.0.0.1:5000/v2/ failed with status: 401 Unauthorized"}');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"Status":"Login Succeeded","IdentityToken":""}');
    });
    fake.route('GET /images/search', { json: SEARCH });
    fake.route(/^POST \/images\/.*\/push$/, (_req, res) => void res.writeHead(200, { 'Content-Type': 'application/json' }).end(lines(PUSH)));
    fake.route('POST /images/create', (_req, res) => void res.writeHead(200, { 'Content-Type': 'application/json' }).end(lines([
      { status: 'Pulling from x', id: '1' }, { status: 'Digest: sha256:aaaa' }, { status: 'Status: Downloaded newer image for 127.0.0.1:5000/x' },
    ])));
  });
  after(async () => {
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('login keeps the credentials in config.json (0600, base64 auth, other keys kept); pull and push send them', async () => {
    mkdirSync(join(dir, 'cfg'), { recursive: true });
    writeFileSync(join(dir, 'cfg', 'config.json'), JSON.stringify({ psFormat: 'table {{.ID}}', auths: { 'other.example': { auth: 'eDp5' } } }));
    const r = await runCli(['login', '-u', 'alice', '-p', 's3cret', 'https://127.0.0.1:5000/'], fake, { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    assert.equal(r.stderr, `WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n\nWARNING! Your credentials are stored unencrypted in '${join(dir, 'cfg', 'config.json')}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`);
    assert.deepEqual(fake.requests.filter((q) => q.path === '/auth').at(-1)!.body, { username: 'alice', password: 's3cret', serveraddress: '127.0.0.1:5000' });
    const file = join(dir, 'cfg', 'config.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as { psFormat: string; auths: Record<string, { auth: string }> };
    assert.equal(cfg.psFormat, 'table {{.ID}}');
    assert.deepEqual(cfg.auths, { 'other.example': { auth: 'eDp5' }, '127.0.0.1:5000': { auth: Buffer.from('alice:s3cret').toString('base64') } });
    assert.match(readFileSync(file, 'utf8'), /^\{\n\t"psFormat"/);

    const pull = await runCli(['pull', '127.0.0.1:5000/x:1'], fake, { env: env() });
    assert.equal(pull.stdout, '1: Pulling from x\nDigest: sha256:aaaa\nStatus: Downloaded newer image for 127.0.0.1:5000/x\n127.0.0.1:5000/x:1\n');
    const auth = (h: unknown): unknown => JSON.parse(Buffer.from(String(h), 'base64url').toString());
    assert.deepEqual(auth(fake.requests.filter((q) => q.path === '/images/create').at(-1)!.headers['x-registry-auth']), { username: 'alice', password: 's3cret', serveraddress: '127.0.0.1:5000' });
    const push = await runCli(['push', '127.0.0.1:5000/x:1'], fake, { env: env() });
    assert.equal(push.stdout, 'The push refers to repository [127.0.0.1:5000/x]\nabc123abc123: Preparing\nabc123abc123: Pushed\n1: digest: sha256:aaaa size: 527\n');
    const req = fake.requests.filter((q) => q.path.endsWith('/push')).at(-1)!;
    assert.equal(req.path, '/images/127.0.0.1:5000/x/push');
    assert.deepEqual(req.query, { tag: '1' });
    assert.deepEqual(auth(req.headers['x-registry-auth']), { username: 'alice', password: 's3cret', serveraddress: '127.0.0.1:5000' });
    // other registries stay anonymous
    await runCli(['pull', 'busybox'], fake, { env: env() });
    assert.equal(fake.requests.filter((q) => q.path === '/images/create').at(-1)!.headers['x-registry-auth'], 'e30=');

    const out = await runCli(['logout', '127.0.0.1:5000'], fake, { env: env() });
    assert.equal(out.stdout, 'Removing login credentials for 127.0.0.1:5000\n');
    assert.deepEqual(Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { auths: object }).auths), ['other.example']);
    const bad = await runCli(['login', '-u', 'alice', '--password-stdin', '127.0.0.1:5000'], fake, { env: env(), stdin: 'wrong\n' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Error response from daemon: login attempt to .* failed with status: 401/);
    assert.deepEqual(Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { auths: object }).auths), ['other.example']);
  });

  it('login and push refuse bad flag combinations as docker does', async () => {
    const a = await runCli(['login', '-u', 'a', '--password-stdin', '-p', 'x'], fake, { env: env() });
    assert.equal(`${a.stderr}rc=${a.code}`, 'conflicting options: cannot specify both --password and --password-stdin\nrc=1');
    const b = await runCli(['login', '--password-stdin'], fake, { env: env() });
    assert.equal(`${b.stderr}rc=${b.code}`, 'the --password-stdin option requires --username to be set\nrc=1');
    const c = await runCli(['login', '127.0.0.1:9'], fake, { env: env() });
    assert.equal(`${c.stderr}rc=${c.code}`, 'Error: Cannot perform an interactive login from a non TTY device\nrc=1');
    const d = await runCli(['push', '-a', 'busybox:1'], fake, { env: env() });
    assert.equal(`${d.stderr}rc=${d.code}`, "tag can't be used with --all-tags/-a\nrc=1");
  });

  it('push -q, push without a tag, push -a, pull -a as the docker CLI', async () => {
    const q = await runCli(['push', '-q', 'busybox'], fake, { env: env() });
    assert.equal(q.stdout, 'docker.io/library/busybox:latest\n');
    assert.deepEqual(fake.requests.filter((r) => r.path.endsWith('/push')).at(-1)!.query, { tag: 'latest' });
    const n = await runCli(['push', '127.0.0.1:5000/x'], fake, { env: env() });
    assert.match(n.stdout, /^Using default tag: latest\nThe push refers/);
    await runCli(['push', '-a', '127.0.0.1:5000/x'], fake, { env: env() });
    assert.deepEqual(fake.requests.filter((r) => r.path.endsWith('/push')).at(-1)!.query, {});
    const pa = await runCli(['pull', '-a', '127.0.0.1:5000/x'], fake, { env: env() });
    assert.equal(pa.stdout, '1: Pulling from x\nDigest: sha256:aaaa\nStatus: Downloaded newer image for 127.0.0.1:5000/x\n127.0.0.1:5000/x\n');
    assert.deepEqual(fake.requests.filter((r) => r.path === '/images/create').at(-1)!.query, { fromImage: '127.0.0.1:5000/x' });
    const pq = await runCli(['pull', '-a', '-q', 'busybox'], fake, { env: env() });
    assert.equal(pq.stdout, 'docker.io/library/busybox\n');
  });

  it('search: docker\'s table, --no-trunc, --format, json, filters and limit sent', async () => {
    const t = await runCli(['search', 'busy'], fake, { env: env() });
    assert.equal(t.stdout, 'NAME          DESCRIPTION                                     STARS     OFFICIAL\nbusybox       Busybox base image with a long description t…   3180      [OK]\nme/busyness   line1 line2                                     2         \n');
    const nt = await runCli(['search', '--no-trunc', '--limit', '5', '-f', 'is-official=true', '-f', 'stars=3', '127.0.0.1:5000/busy'], fake, { env: env() });
    assert.equal(nt.stdout, 'NAME          DESCRIPTION                                                       STARS     OFFICIAL\nbusybox       Busybox base image with a long description that goes on and on.   3180      [OK]\nme/busyness   line1 line2                                                       2         \n');
    const req = fake.requests.filter((r) => r.path === '/images/search').at(-1)!;
    assert.deepEqual(req.query, { term: '127.0.0.1:5000/busy', limit: '5', filters: '{"is-official":["true"],"stars":["3"]}' });
    const j = await runCli(['search', '--format', 'json', 'busy'], fake, { env: env() });
    assert.equal(j.stdout, '{"Description":"Busybox base image with a long description t…","IsOfficial":"true","Name":"busybox","StarCount":"3180"}\n{"Description":"line1 line2","IsOfficial":"false","Name":"me/busyness","StarCount":"2"}\n');
    const f = await runCli(['search', '--format', '{{.Name}}|{{.StarCount}}|{{.IsOfficial}}', 'busy'], fake, { env: env() });
    assert.equal(f.stdout, 'busybox|3180|[OK]\nme/busyness|2|\n');
  });

  it('a terminal gets one line per layer, redrawn in place, with docker\'s bar', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    await displayProgress((async function* () { for (const m of PUSH) yield m; })(), out, { terminal: true, width: 200 });
    assert.equal(text, 'The push refers to repository [127.0.0.1:5000/x]\n'
      + '\n\x1b[1A\x1b[2K\rabc123abc123: Preparing \r\x1b[1B'
      + `\x1b[1A\x1b[2K\rabc123abc123: Pushing [=========================>                         ]     512B/1.024kB\r\x1b[1B`
      + '\x1b[1A\x1b[2K\rabc123abc123: Pushed \r\x1b[1B'
      + '1: digest: sha256:aaaa size: 527\n');
    assert.equal(progressString(512, 1024, 80), '    512B/1.024kB');
    assert.equal(progressString(0, 0, 200), '');
  });
});
