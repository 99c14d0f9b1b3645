// skopeo interop through Debian's docker-registry on loopback: skopeo pushes an OCI image with
// zstd layers, berth pulls and runs it; berth pushes (the zstd layer as is, in an OCI manifest, and a
// gzip image as Docker schema2), skopeo inspects and copies both.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, busyboxArchive, runCmd, skipReason, randomSuffix } from '../helpers/env.ts';
import { Registry, has } from '../helpers/registry.ts';
import { makeTar } from '../helpers/tar.ts';

const skip = skipReason()
  ?? (has('docker-registry') ? undefined : 'needs docker-registry (apt-get install docker-registry)')
  ?? (has('skopeo') ? undefined : 'needs skopeo (apt-get install skopeo)')
  ?? (has('zstd') ? undefined : 'needs zstd (apt-get install zstd)');

describe('registries: skopeo interop, zstd layers', { skip, timeout: 180_000 }, () => {
  const d = new TestDaemon();
  const reg = new Registry();
  const sfx = randomSuffix();
  const tmp = mkdtempSync('/tmp/berth-skopeo-');
  const ok = (r: { code: number; stdout: string; stderr: string }, what: string): string => {
    assert.equal(r.code, 0, `${what}: ${r.stdout}\n${r.stderr}\n${d.log.slice(-2000)}`);
    return r.stdout;
  };
  const skopeo = (args: string[]): ReturnType<typeof runCmd> => runCmd('skopeo', args, { timeout: 120_000 });

  before(async () => {
    // no busybox loaded: its layer must come from the zstd blob
    await Promise.all([d.start(), reg.start()]);
  });
  after(async () => {
    await d.cleanup();
    await reg.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test('skopeo pushes an OCI image with zstd layers; berth pulls and runs it', async () => {
    const ref = `${reg.host}/zst-${sfx}:1`;
    ok(await skopeo(['copy', '--dest-tls-verify=false', '--format', 'oci', '--dest-compress-format', 'zstd', `docker-archive:${busyboxArchive()}`, `docker://${ref}`]), 'skopeo copy');
    const m = JSON.parse(ok(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]), 'skopeo inspect')) as { mediaType: string; layers: { mediaType: string }[] };
    assert.equal(m.layers[0]?.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
    const pull = ok(await d.berth(['pull', ref]), 'berth pull');
    assert.match(pull, /Pull complete/);
    assert.equal(ok(await d.berth(['run', '--rm', ref, 'echo', 'from a zstd layer']), 'berth run'), 'from a zstd layer\n');
    assert.equal(ok(await d.docker(['run', '--rm', ref, 'sh', '-c', 'ls /bin/busybox']), 'docker run'), '/bin/busybox\n');
  });

  test('berth pushes; skopeo inspects and copies what it pushed (zstd kept in OCI, gzip in schema2)', async () => {
    const zref = `${reg.host}/back-${sfx}:zstd`;
    ok(await d.berth(['tag', `${reg.host}/zst-${sfx}:1`, zref]), 'tag');
    ok(await d.berth(['push', zref]), 'berth push zstd');
    const zm = JSON.parse(ok(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${zref}`]), 'inspect raw')) as { mediaType: string; layers: { mediaType: string }[] };
    assert.equal(zm.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(zm.layers[0]?.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
    const gref = `${reg.host}/back-${sfx}:gzip`;
    ok(await d.berth(['import', '-', gref], { input: await makeTar([{ name: 'hello.txt', body: 'hi\n' }]) }), 'import');
    const push = ok(await d.berth(['push', gref]), 'berth push gzip');
    assert.match(push, /gzip: digest: sha256:[a-f0-9]{64} size: \d+/);
    const info = JSON.parse(ok(await skopeo(['inspect', '--tls-verify=false', `docker://${gref}`]), 'inspect')) as { Architecture: string; Os: string; Layers: string[] };
    assert.equal(info.Os, 'linux');
    assert.equal(info.Layers.length, 1);
    const gm = JSON.parse(ok(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${gref}`]), 'inspect raw')) as { mediaType: string };
    assert.equal(gm.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    for (const [r, name] of [[gref, 'gz'], [zref, 'zst']] as const) {
      ok(await skopeo(['copy', '--src-tls-verify=false', `docker://${r}`, `oci:${join(tmp, name)}:x`]), `skopeo copy ${r}`);
      const index = JSON.parse(readFileSync(join(tmp, name, 'index.json'), 'utf8')) as { manifests: unknown[] };
      assert.equal(index.manifests.length, 1);
      assert.ok(readdirSync(join(tmp, name, 'blobs', 'sha256')).length >= 3);
    }
    // and back: the OCI layout skopeo wrote loads into berthd
    const tar = join(tmp, 'gz.tar');
    ok(await runCmd('tar', ['-C', join(tmp, 'gz'), '-cf', tar, '.']), 'tar');
    ok(await d.berth(['load', '-i', tar]), 'berth load');
  });
});
