// Pulls that resume and pushes that mount or go up in chunks, through berthd against Debian's
// docker-registry, with a counting proxy (test/helpers/registry.ts) that drops or stalls a blob
// download halfway: the bytes served prove what was, and was not, downloaded twice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';
import { CountingProxy, Registry, has } from '../helpers/registry.ts';

const skip = skipReason()
  ?? (has('docker') ? undefined : 'needs the docker CLI')
  ?? (has('docker-registry') ? undefined : 'needs docker-registry (apt-get install docker-registry)');

function manifestOf(host: string, repo: string, tag: string): Promise<{ layers: { digest: string; size: number }[] }> {
  return new Promise((resolve, reject) => {
    const r = request(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(JSON.parse(b) as { layers: { digest: string; size: number }[] }));
    });
    r.on('error', reject);
    r.end();
  });
}

describe('registries: resumable pulls, concurrent pulls, chunked and mounted pushes, -a', { skip, timeout: 400_000 }, () => {
  const d = new TestDaemon(['--registry-chunk-size', String(256 * 1024)]);
  const reg = new Registry();
  let proxy: CountingProxy;
  const sfx = randomSuffix();
  let ref = '';
  let blob = { digest: '', size: 0 };
  const ok = (r: { code: number; stdout: string; stderr: string }, what: string): string => {
    assert.equal(r.code, 0, `${what}: ${r.stdout}\n${r.stderr}\n${d.log.slice(-2000)}`);
    return r.stdout;
  };
  const partial = (): string => join(d.dataRoot, 'ingest', blob.digest.slice(7));

  before(async () => {
    await Promise.all([daemonWithBusybox(d), reg.start()]);
    proxy = await new CountingProxy(reg.host).start();
    // busybox plus a 6 MB layer of random bytes (gzip cannot shrink it), pushed through the proxy
    ref = `${proxy.host}/big-${sfx}:1`;
    const name = `mk-${sfx}`;
    ok(await d.docker(['run', '--name', name, 'busybox', 'sh', '-c', 'head -c 6291456 /dev/urandom > /big.bin && echo hi > /hello.txt']), 'run');
    ok(await d.docker(['commit', name, ref]), 'commit');
    ok(await d.docker(['rm', name]), 'rm');
    const push = ok(await d.docker(['push', ref]), 'push');
    assert.match(push, /: Pushed$/m);
    const m = await manifestOf(reg.host, `big-${sfx}`, '1');
    blob = [...m.layers].sort((a, b) => b.size - a.size)[0]!;
    assert.ok(blob.size > 6_000_000, JSON.stringify(m));
  });
  after(async () => {
    await d.cleanup();
    await proxy?.close();
    await reg.stop();
  });

  test('a push of a large blob goes up in PATCH chunks', () => {
    const patches = proxy.requests.filter((r) => r.startsWith('PATCH '));
    assert.ok(patches.length >= Math.floor(blob.size / (256 * 1024)), `${patches.length} PATCH requests for ${blob.size} bytes`);
    assert.ok(proxy.requests.some((r) => /^PUT .*digest=sha256/.test(r)), 'a closing PUT with the digest');
  });

  test('a connection dropped halfway is resumed within the same pull, without fetching the first half again', async () => {
    ok(await d.docker(['rmi', ref]), 'rmi');
    proxy.served.clear();
    proxy.arm(blob.digest, 'drop-half');
    const out = ok(await d.docker(['pull', ref]), 'pull');
    assert.match(out, /Pull complete/);
    const served = proxy.servedOf(blob.digest);
    assert.ok(served >= blob.size && served <= blob.size + 64 * 1024, `served ${served} bytes of a ${blob.size}-byte blob`);
    assert.ok(proxy.requests.some((r) => r.includes(blob.digest) && /bytes=\d+-$/.test(r)), 'a Range request');
    assert.equal(ok(await d.docker(['run', '--rm', ref, 'cat', '/hello.txt']), 'run'), 'hi\n');
  });

  /** The partial download's size once it stops changing (bytes in flight are written as a pull stops). */
  async function keptBytes(): Promise<number> {
    let last = -1;
    for (let i = 0; i < 100; i++) {
      const now = existsSync(partial()) ? statSync(partial()).size : 0;
      if (now === last && now > 0) return now;
      last = now;
      await new Promise((r) => setTimeout(r, 200));
    }
    return last;
  }

  /** A `docker pull` of the image, from scratch, whose blob the proxy stops sending halfway. */
  async function pullStalledHalfway(): Promise<{ p: ReturnType<typeof spawn>; exited: Promise<unknown> }> {
    ok(await d.docker(['rmi', ref]), 'rmi');
    proxy.served.clear();
    proxy.arm(blob.digest, 'stall-half');
    const p = spawn('docker', ['pull', ref], { env: d.env, stdio: 'ignore' });
    const exited = new Promise((r) => p.once('exit', r));
    await proxy.stalled;
    return { p, exited };
  }

  test('a docker pull killed halfway leaves the bytes; the next pull fetches only the rest', async () => {
    const { p, exited } = await pullStalledHalfway();
    await new Promise((r) => setTimeout(r, 500));
    p.kill('SIGKILL');
    await exited;
    const kept = await keptBytes();
    assert.ok(kept >= 1024 * 1024, `kept ${kept} of ${blob.size}`);
    const before = proxy.servedOf(blob.digest);
    ok(await d.docker(['pull', ref]), 'pull again');
    assert.equal(proxy.servedOf(blob.digest) - before, blob.size - kept, 'the second pull fetched exactly the bytes not kept');
    assert.ok(proxy.requests.some((r) => r.includes(blob.digest) && r.endsWith(`bytes=${kept}-`)), 'a Range request from the kept bytes on');
    assert.equal(existsSync(partial()), false);
  });

  test('berthd killed (-9) halfway through a pull: after a restart the pull resumes', async () => {
    const { exited } = await pullStalledHalfway();
    await new Promise((r) => setTimeout(r, 1000));
    await d.kill9();
    await exited;
    const kept = await keptBytes();
    assert.ok(kept > 0, `kept ${kept} of ${blob.size}`);
    const before = proxy.servedOf(blob.digest);
    await d.start();
    ok(await d.docker(['pull', ref]), 'pull after restart');
    assert.equal(proxy.servedOf(blob.digest) - before, blob.size - kept, 'the pull after the restart fetched exactly the bytes not kept');
    assert.equal(ok(await d.docker(['run', '--rm', ref, 'cat', '/hello.txt']), 'run'), 'hi\n');
  });

  test('two pulls of the same image at once download each blob once', async () => {
    ok(await d.docker(['rmi', ref]), 'rmi');
    proxy.served.clear();
    const [a, b] = await Promise.all([d.docker(['pull', ref]), d.berth(['pull', ref])]);
    ok(a, 'docker pull');
    ok(b, 'berth pull');
    const served = proxy.servedOf(blob.digest);
    assert.ok(served <= blob.size + 64 * 1024, `served ${served} bytes for two pulls of a ${blob.size}-byte blob`);
    assert.equal(ok(await d.docker(['run', '--rm', ref, 'cat', '/hello.txt']), 'run'), 'hi\n');
  });

  test('push mounts a blob the registry holds in another repository; push -a and pull -a every tag', async () => {
    const repo = `${proxy.host}/multi-${sfx}`; // the registry the image came from: its blobs can be mounted
    ok(await d.docker(['tag', ref, `${repo}:a`]), 'tag a');
    ok(await d.docker(['tag', 'busybox', `${repo}:b`]), 'tag b');
    const push = ok(await d.docker(['push', '-a', repo]), 'push -a');
    assert.match(push, new RegExp(`Mounted from big-${sfx}`), push);
    assert.match(push, /^a: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    assert.match(push, /^b: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    ok(await d.docker(['rmi', `${repo}:a`, `${repo}:b`]), 'rmi');
    const pull = ok(await d.docker(['pull', '-a', repo]), 'pull -a');
    assert.match(pull, /^a: Pulling from multi-/m);
    assert.match(pull, /^b: Pulling from multi-/m);
    assert.match(pull, new RegExp(`Status: Downloaded newer image for ${repo.replace(/\./g, '\\.')}\n`));
    const tags = async (): Promise<string[]> => ok(await d.docker(['images', '--format', '{{.Tag}}', repo]), 'images').trim().split('\n').filter((t) => t !== '<none>').sort();
    assert.deepEqual(await tags(), ['a', 'b']);
    ok(await d.docker(['rmi', `${repo}:a`, `${repo}:b`]), 'rmi');
    const berth = ok(await d.berth(['pull', '-a', repo]), 'berth pull -a');
    assert.match(berth, new RegExp(`\n${repo.replace(/\./g, '\\.')}\n$`));
    assert.deepEqual(await tags(), ['a', 'b']);
  });
});
