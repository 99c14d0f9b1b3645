// Daemon settings in use (a daemon.json with registry-mirrors for a non-Hub registry, add-registry
// and insecure-registries) and search, through berthd, with docker-registry instances and counting
// proxies on loopback, and a small registry with the v1 search API written here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';
import { CountingProxy, Registry, closeServer, has, listen } from '../helpers/registry.ts';

const skip = skipReason()
  ?? (has('docker') ? undefined : 'needs the docker CLI')
  ?? (has('docker-registry') ? undefined : 'needs docker-registry (apt-get install docker-registry)');

describe('registries: daemon.json mirrors and add-registry, search', { skip, timeout: 240_000 }, () => {
  const d = new TestDaemon();
  let d2: TestDaemon;
  const origin = new Registry();
  const mirror = new Registry();
  let originProxy: CountingProxy;
  let mirrorProxy: CountingProxy;
  const sfx = randomSuffix();
  const ok = (r: { code: number; stdout: string; stderr: string }, what: string, dd: TestDaemon = d): string => {
    assert.equal(r.code, 0, `${what}: ${r.stdout}\n${r.stderr}\n${dd.log.slice(-2000)}`);
    return r.stdout;
  };
  const blobBytes = (p: CountingProxy): number => [...p.served.values()].reduce((a, b) => a + b, 0);

  before(async () => {
    await Promise.all([daemonWithBusybox(d), origin.start(), mirror.start()]);
    originProxy = await new CountingProxy(origin.host).start();
    mirrorProxy = await new CountingProxy(mirror.host).start();
    // the mirror holds mir-*, the origin holds mir-*, only-* and short-*
    for (const [host, repo] of [[originProxy.host, `mir-${sfx}`], [mirrorProxy.host, `mir-${sfx}`], [originProxy.host, `only-${sfx}`], [originProxy.host, `short-${sfx}`]] as const) {
      ok(await d.docker(['tag', 'busybox', `${host}/${repo}:1`]), 'tag');
      ok(await d.docker(['push', `${host}/${repo}:1`]), 'push');
    }
    const cfg = join(d.dir, 'daemon.json');
    writeFileSync(cfg, JSON.stringify({
      'registry-mirrors': [`${originProxy.host}=http://${mirrorProxy.host}`],
      'add-registry': [originProxy.host],
      'insecure-registries': ['10.99.0.0/16'],
    }));
    d2 = new TestDaemon(['--config-file', cfg]);
    await d2.start();
  });
  after(async () => {
    await d2?.cleanup();
    await d.cleanup();
    await originProxy?.close();
    await mirrorProxy?.close();
    await Promise.all([origin.stop(), mirror.stop()]);
  });

  test('docker info shows the settings of daemon.json', async () => {
    const info = JSON.parse(ok(await d2.docker(['info', '--format', '{{json .RegistryConfig}}']), 'info', d2)) as { Mirrors: string[]; InsecureRegistryCIDRs: string[] };
    assert.deepEqual(info.Mirrors, [`${originProxy.host}=http://${mirrorProxy.host}/`]);
    assert.ok(info.InsecureRegistryCIDRs.includes('10.99.0.0/16'), JSON.stringify(info));
  });

  test('a mirror of a non-Hub registry serves the pull; a tag it lacks, and a mirror that is down, fall back to the registry', async () => {
    originProxy.served.clear();
    originProxy.requests.length = 0;
    ok(await d2.docker(['pull', `${originProxy.host}/mir-${sfx}:1`]), 'pull', d2);
    assert.equal(blobBytes(originProxy), 0, originProxy.requests.join('\n'));
    assert.ok(!originProxy.requests.some((r) => r.includes('/manifests/')), originProxy.requests.join('\n'));
    assert.ok(blobBytes(mirrorProxy) > 0);
    const digests = ok(await d2.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', `${originProxy.host}/mir-${sfx}:1`]), 'inspect', d2);
    assert.match(digests, new RegExp(`${originProxy.host.replace(/\./g, '\\.')}/mir-${sfx}@sha256:`), 'recorded under the registry, not the mirror');
    ok(await d2.docker(['pull', `${originProxy.host}/only-${sfx}:1`]), 'pull of a tag the mirror lacks', d2);
    ok(await d2.docker(['rmi', `${originProxy.host}/mir-${sfx}:1`, `${originProxy.host}/only-${sfx}:1`]), 'rmi', d2);
    await mirror.kill();
    ok(await d2.docker(['pull', `${originProxy.host}/mir-${sfx}:1`]), 'pull with the mirror down', d2);
    ok(await d2.docker(['rmi', `${originProxy.host}/mir-${sfx}:1`]), 'rmi', d2);
  });

  test('add-registry: a short name is pulled from the listed registry first, and resolves to it locally', async () => {
    const r = await d2.docker(['run', '--rm', `short-${sfx}:1`, 'echo', 'via add-registry']);
    assert.equal(r.code, 0, `${r.stderr}\n${d2.log.slice(-1500)}`);
    assert.equal(r.stdout, 'via add-registry\n');
    assert.match(r.stderr, new RegExp(`Trying to pull repository ${originProxy.host.replace(/\./g, '\\.')}/short-${sfx} \\.\\.\\.`));
    assert.equal(ok(await d2.docker(['images', '--format', '{{.Repository}}:{{.Tag}}', `${originProxy.host}/short-${sfx}`]), 'images', d2), `${originProxy.host}/short-${sfx}:1\n`);
    assert.equal(ok(await d2.berth(['run', '--rm', `short-${sfx}:1`, 'echo', 'again']), 'berth run', d2), 'again\n');
    const missing = await d2.docker(['pull', `nothing-${sfx}`]);
    assert.notEqual(missing.code, 0);
  });

  test('search: the v1 search API in docker\'s table through berthd, the same from berth; a registry without search says so', async (t) => {
    const results = [
      { name: 'busybox', description: 'Busybox base image, with a description longer than forty-five columns.', star_count: 3180, is_official: true, is_automated: false },
      { name: 'me/busyness', description: 'two\nlines', star_count: 2, is_official: false, is_automated: true },
      { name: 'x/busy-bee', description: '', star_count: 0, is_official: false, is_automated: false },
    ];
    const seen: string[] = [];
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push(url.search);
      if (url.pathname === '/v2/') res.writeHead(200).end('{}');
      else if (url.pathname === '/v1/search') {
        const q = url.searchParams.get('q') ?? '';
        const hits = results.filter((r) => r.name.includes(q)).slice(0, Number(url.searchParams.get('n')));
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ num_results: hits.length, query: q, results: hits }));
      } else res.writeHead(404).end();
    });
    const host = await listen(server);
    t.after(() => closeServer(server));
    for (const args of [[], ['--no-trunc'], ['--limit', '2'], ['--filter', 'is-official=true'], ['--filter', 'stars=2'], ['--format', '{{.Name}}: {{.StarCount}} {{.IsOfficial}}'], ['--format', 'json']]) {
      const dk = ok(await d.docker(['search', ...args, `${host}/busy`]), `docker search ${args.join(' ')}`);
      const bt = ok(await d.berth(['search', ...args, `${host}/busy`]), `berth search ${args.join(' ')}`);
      assert.equal(bt, dk, args.join(' '));
      if (!args.length) assert.match(dk, /^NAME +DESCRIPTION +STARS +OFFICIAL\nbusybox +Busybox base image, with a description longe…   3180 +\[OK\]\n/);
    }
    assert.ok(seen.includes('?q=busy&n=2'), seen.join(' '));
    assert.ok(seen.includes('?q=busy&n=25'), seen.join(' '));
    const none = await d.docker(['search', `${origin.host}/busy`]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /registry 127\.0\.0\.1:\d+ does not support search: GET \/v1\/search answered 404/);
    const bad = await d.berth(['search', '--limit', '500', `${host}/busy`]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /limit 500 is outside the range of \[1, 100\]/);
  });
});
