import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../common/index.ts';
import { MediaType } from '../../oci/index.ts';
import { parseChallenges, parseAuthConfig, decodeRegistryAuth } from './auth.ts';
import { domainOfServerAddress, isInsecure, DEFAULT_INSECURE } from './hosts.ts';
import { MAX_MANIFEST, layerCompression, parseManifest, parsePlatform, selectPlatform } from './manifest.ts';

const D = (c: string): `sha256:${string}` => `sha256:${c.repeat(64)}`;
const manifest = (extra: object = {}): Buffer => Buffer.from(JSON.stringify({
  schemaVersion: 2, mediaType: MediaType.DockerManifest,
  config: { mediaType: MediaType.DockerConfig, digest: D('a'), size: 10 },
  layers: [{ mediaType: MediaType.DockerLayer, digest: D('b'), size: 20 }],
  ...extra,
}));
const index = (extra: object = {}): Buffer => Buffer.from(JSON.stringify({
  schemaVersion: 2, mediaType: MediaType.OciIndex,
  manifests: [
    { mediaType: MediaType.OciManifest, digest: D('c'), size: 5, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { mediaType: MediaType.OciManifest, digest: D('d'), size: 5, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: MediaType.OciManifest, digest: D('e'), size: 5, platform: { os: 'unknown', architecture: 'unknown' } },
  ],
  ...extra,
}));

const kind = (fn: () => unknown, k: string, re: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof BerthError && e.kind === k && re.test(e.message));
};

test('parseManifest: schema2, OCI index, and the media type from header or body', () => {
  const m = parseManifest(manifest(), MediaType.DockerManifest, 'x:1');
  assert.equal(m.kind, 'manifest');
  assert.equal(m.kind === 'manifest' && m.layers[0]!.digest, D('b'));
  const i = parseManifest(index({ mediaType: undefined }), `${MediaType.DockerManifestList}; charset=utf-8`, 'x:1');
  assert.equal(i.kind, 'index');
  assert.equal(i.mediaType, MediaType.DockerManifestList);
});

test('parseManifest refuses schema1, contradictions, oversize and malformed input', () => {
  kind(() => parseManifest(Buffer.from('{"schemaVersion":1,"name":"x","fsLayers":[]}'), 'application/json', 'x:1'), 'invalid-argument', /schema 1 support has been removed.*x:1/);
  kind(() => parseManifest(manifest(), 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'x:1'), 'invalid-argument', /schema 1/);
  kind(() => parseManifest(manifest({ mediaType: MediaType.OciIndex }), undefined, 'x'), 'invalid-argument', /mediaType .*index.* contradicts its content/);
  kind(() => parseManifest(index(), MediaType.DockerManifest, 'x'), 'invalid-argument', /Content-Type .* contradicts its content \(an index\)/);
  kind(() => parseManifest(index({ mediaType: MediaType.OciManifest }), undefined, 'x'), 'invalid-argument', /contradicts/);
  kind(() => parseManifest(Buffer.alloc(MAX_MANIFEST + 1, 0x20), undefined, 'x'), 'invalid-argument', /over the 4194304-byte limit/);
  kind(() => parseManifest(Buffer.from('nope'), undefined, 'x'), 'invalid-argument', /not JSON/);
  kind(() => parseManifest(manifest({ layers: [{ digest: 'sha256:xyz', size: 1 }] }), undefined, 'x'), 'invalid-argument', /layers\[0\] has an invalid or unsupported digest/);
  kind(() => parseManifest(manifest({ layers: [{ digest: D('b'), size: -1 }] }), undefined, 'x'), 'invalid-argument', /invalid size/);
  kind(() => parseManifest(manifest({ config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: D('a'), size: 1 } }), undefined, 'x'), 'invalid-argument', /not a container image/);
  kind(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [], layers: [] })), undefined, 'x'), 'invalid-argument', /both/);
});

test('selectPlatform picks the host entry, honours variants, skips attestations', () => {
  const i = parseManifest(index(), undefined, 'x');
  assert.ok(i.kind === 'index');
  assert.equal(selectPlatform(i.manifests, parsePlatform('linux/amd64')).digest, D('d'));
  assert.equal(selectPlatform(i.manifests, parsePlatform('linux/arm64')).digest, D('c'));
  assert.equal(selectPlatform(i.manifests, parsePlatform('linux/arm64/v8')).digest, D('c'));
  kind(() => selectPlatform(i.manifests, parsePlatform('linux/s390x')), 'not-found', /no matching manifest for linux\/s390x in the manifest list entries/);
  kind(() => selectPlatform(i.manifests, parsePlatform('unknown/unknown')), 'not-found', /no matching manifest/);
  assert.deepEqual(parsePlatform('x86_64'), { os: 'linux', architecture: 'amd64' });
  kind(() => parsePlatform('linux/am d64'), 'invalid-argument', /unknown operating system or architecture/);
});

test('layerCompression by media type', () => {
  assert.equal(layerCompression({ mediaType: MediaType.DockerLayer, digest: D('a'), size: 1 }), 'gzip');
  assert.equal(layerCompression({ mediaType: MediaType.OciLayer, digest: D('a'), size: 1 }), 'none');
  assert.equal(layerCompression({ mediaType: MediaType.OciLayerZstd, digest: D('a'), size: 1 }), 'zstd');
  kind(() => layerCompression({ mediaType: 'text/plain', digest: D('a'), size: 1 }), 'invalid-argument', /unsupported layer media type/);
});

test('parseChallenges: bearer with quoted params, basic, several challenges', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:library/busybox:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:library/busybox:pull,push' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="basic-realm"'), [{ scheme: 'basic', params: { realm: 'basic-realm' } }]);
  assert.deepEqual(parseChallenges('Basic realm="a\\"b", Bearer realm=http://x/t, service=s'), [
    { scheme: 'basic', params: { realm: 'a"b' } },
    { scheme: 'bearer', params: { realm: 'http://x/t', service: 's' } },
  ]);
  assert.deepEqual(parseChallenges(undefined), []);
});

test('X-Registry-Auth: base64url JSON, the auth field, anonymous on garbage', () => {
  const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  assert.deepEqual(decodeRegistryAuth(enc({ username: 'u', password: 'p?>>', serveraddress: '127.0.0.1:5000' })), { username: 'u', password: 'p?>>', serverAddress: '127.0.0.1:5000' });
  assert.deepEqual(decodeRegistryAuth('e30='), {});
  assert.deepEqual(decodeRegistryAuth('!!!'), {});
  assert.deepEqual(parseAuthConfig({ auth: Buffer.from('me:se:cret').toString('base64') }), { username: 'me', password: 'se:cret' });
  assert.deepEqual(parseAuthConfig({ identitytoken: 'tok' }), { identityToken: 'tok' });
  assert.throws(() => parseAuthConfig('x'), /not an object/);
});

test('hosts: loopback is insecure by default, CIDRs and host:port entries, login addresses', () => {
  assert.ok(isInsecure('127.0.0.1:5000', DEFAULT_INSECURE));
  assert.ok(isInsecure('localhost:5000', DEFAULT_INSECURE));
  assert.ok(isInsecure('[::1]:5000', DEFAULT_INSECURE));
  assert.ok(!isInsecure('registry.example:5000', DEFAULT_INSECURE));
  assert.ok(isInsecure('10.1.2.3:5000', ['10.0.0.0/8']));
  assert.ok(isInsecure('reg.lan:5000', ['reg.lan:5000']));
  assert.ok(!isInsecure('reg.lan:5001', ['reg.lan:5000']));
  assert.equal(domainOfServerAddress('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(domainOfServerAddress(''), 'docker.io');
  assert.equal(domainOfServerAddress('http://127.0.0.1:5000/'), '127.0.0.1:5000');
});
