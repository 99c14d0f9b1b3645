import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { BerthError } from '../common/index.ts';
import { lgetxattr } from '../sys/index.ts';
import { applyLayer } from './apply-layer.ts';
import { encodePaxRecords, packWithRawPax, RAW_PAX, type RawPaxHeaders } from './tar-pax.ts';

type Entry = RawPaxHeaders & { body?: string | Buffer; xattrs?: Record<string, Buffer> };

async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = packWithRawPax();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) out.push(c as Buffer);
  })();
  for (const { body, xattrs, ...h } of entries) {
    const header: RawPaxHeaders = { mtime: new Date(1_600_000_000_000), ...h };
    if (xattrs) {
      header[RAW_PAX] = encodePaxRecords([['path', h.name], ...Object.entries(xattrs).map(([k, v]): [string, Buffer] => [`SCHILY.xattr.${k}`, v])]);
      (header as { pax?: object }).pax = {};
    }
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry(header as Parameters<typeof pack.entry>[0], body ?? '', (err) => (err ? reject(err) : resolve()));
      void sink;
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** tmp/{target/, outside/sentinel}: everything outside target must stay as it was. */
function sandbox(t: TestContext): { target: string; outside: string; check: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'berth-apply-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const target = join(base, 'target');
  const outside = join(base, 'outside');
  mkdirSync(target);
  mkdirSync(outside);
  writeFileSync(join(outside, 'sentinel'), 'untouched');
  const check = (): void => {
    assert.deepEqual(readdirSync(base).sort(), ['outside', 'target']);
    assert.deepEqual(readdirSync(outside), ['sentinel']);
    assert.equal(readFileSync(join(outside, 'sentinel'), 'utf8'), 'untouched');
  };
  return { target, outside, check };
}

async function refuses(t: TestContext, entries: (outside: string) => Entry[], message: RegExp): Promise<void> {
  const { target, outside, check } = sandbox(t);
  const tarball = await makeTar(entries(outside));
  await assert.rejects(applyLayer(target, Readable.from(tarball), { format: 'overlay' }), (err: unknown) => {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.kind, 'invalid-argument');
    assert.match(err.message, message);
    return true;
  });
  check();
  assert.deepEqual(readdirSync(target), [], 'what the layer wrote is removed');
}

test('applies files, dirs, symlinks, modes, owners and times; digests cover every byte', async (t) => {
  const { target, check } = sandbox(t);
  const tarball = await makeTar([
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/hello', body: 'hi\n', mode: 0o640, uid: 1000, gid: 1001 },
    { name: 'bin/su', body: 'x', mode: 0o4755 },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'link', type: 'symlink', linkname: '/etc/hello' },
    { name: './dot/../plain', body: 'p' },
  ]);
  const padded = Buffer.concat([tarball, Buffer.alloc(700)]); // trailing zeros beyond the end blocks
  const res = await applyLayer(target, Readable.from(padded), { format: 'overlay' });
  assert.equal(res.diffId, sha(padded));
  assert.equal(res.compressedDigest, sha(padded));
  assert.equal(res.size, padded.length);
  assert.equal(readFileSync(join(target, 'etc/hello'), 'utf8'), 'hi\n');
  const st = statSync(join(target, 'etc/hello'));
  assert.equal(st.mode & 0o7777, 0o640);
  assert.deepEqual([st.uid, st.gid], [1000, 1001]);
  assert.equal(st.mtimeMs, 1_600_000_000_000);
  assert.equal(statSync(join(target, 'bin/su')).mode & 0o7777, 0o4755);
  assert.equal(statSync(join(target, 'tmp')).mode & 0o7777, 0o1777);
  assert.equal(statSync(join(target, 'tmp')).mtimeMs, 1_600_000_000_000);
  assert.equal(statSync(join(target, 'bin')).mode & 0o7777, 0o755, 'implicit parents are 0755');
  assert.equal(readlinkSync(join(target, 'link')), '/etc/hello');
  assert.equal(readFileSync(join(target, 'plain'), 'utf8'), 'p');
  check();
});

test('gzip input: diffId is of the tar, compressedDigest of the input', async (t) => {
  const { target } = sandbox(t);
  const tarball = await makeTar([{ name: 'a', body: 'gz' }]);
  const gz = gzipSync(tarball);
  const res = await applyLayer(target, Readable.from(gz), { format: 'overlay' });
  assert.deepEqual(res, { diffId: sha(tarball), compressedDigest: sha(gz), size: tarball.length, compression: 'gzip' });
  assert.equal(readFileSync(join(target, 'a'), 'utf8'), 'gz');
});

test('zstd input (through the zstd program): diffId of the tar, compressedDigest of the input', { skip: spawnSync('sh', ['-c', 'command -v zstd']).status !== 0 ? 'needs zstd' : undefined }, async (t) => {
  const { target } = sandbox(t);
  const tarball = await makeTar([{ name: 'z', body: 'zstd layer'.repeat(1000) }]);
  const z = spawnSync('zstd', ['-c', '-q'], { input: tarball }).stdout;
  assert.deepEqual([...z.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
  const res = await applyLayer(target, Readable.from(z), { format: 'overlay' });
  assert.deepEqual(res, { diffId: sha(tarball), compressedDigest: sha(z), size: tarball.length, compression: 'zstd' });
  assert.equal(readFileSync(join(target, 'z'), 'utf8'), 'zstd layer'.repeat(1000));
});

test('broken zstd and garbage are invalid layers', async (t) => {
  const { target } = sandbox(t);
  await assert.rejects(applyLayer(target, Readable.from(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0])), { format: 'overlay' }), { kind: 'invalid-argument' });
  await assert.rejects(applyLayer(target, Readable.from(Buffer.alloc(1024, 7)), { format: 'overlay' }), { kind: 'invalid-argument' });
  await assert.rejects(applyLayer(target, Readable.from(Buffer.from([0x1f, 0x8b, 1, 2, 3])), { format: 'overlay' }), { kind: 'invalid-argument' });
});

test('overlay format: whiteouts become 0:0 char devices, opaque markers an xattr', async (t) => {
  const { target } = sandbox(t);
  const tarball = await makeTar([
    { name: 'd/', type: 'directory' },
    { name: 'd/.wh..wh..opq', body: '' },
    { name: 'd/new', body: 'n' },
    { name: '.wh.gone', body: '' },
    { name: 'x/.wh..wh.plnk', body: '' },
  ]);
  await applyLayer(target, Readable.from(tarball), { format: 'overlay' });
  const wh = lstatSync(join(target, 'gone'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.equal(lgetxattr(join(target, 'd'), 'trusted.overlay.opaque')?.toString(), 'y');
  assert.deepEqual(readdirSync(join(target, 'd')), ['new']);
  assert.ok(!existsSync(join(target, '.wh.gone')));
});

test('vfs format: whiteouts delete, opaque markers drop what this layer did not write', async (t) => {
  const { target } = sandbox(t);
  for (const p of ['d/old/deep', 'd/kept', 'e']) mkdirSync(join(target, p), { recursive: true });
  writeFileSync(join(target, 'gone'), 'lower');
  writeFileSync(join(target, 'd/old/deep/f'), 'lower');
  writeFileSync(join(target, 'd/kept/lowerfile'), 'lower');
  const tarball = await makeTar([
    { name: 'd/', type: 'directory' },
    { name: 'd/kept/', type: 'directory' },
    { name: 'd/kept/mine', body: 'm' },
    { name: 'd/.wh..wh..opq', body: '' },
    { name: 'd/new', body: 'n' },
    { name: '.wh.gone', body: '' },
    { name: '.wh.e', body: '' },
    { name: 'nodir/.wh.nothing', body: '' },
  ]);
  await applyLayer(target, Readable.from(tarball), { format: 'vfs' });
  assert.deepEqual(readdirSync(target).sort(), ['d']);
  assert.deepEqual(readdirSync(join(target, 'd')).sort(), ['kept', 'new']);
  assert.deepEqual(readdirSync(join(target, 'd/kept')), ['mine']);
});

test('binary xattrs round trip (security.capability); overlay xattrs from a layer are ignored', async (t) => {
  const { target } = sandbox(t);
  // VFS_CAP_REVISION_2 with the effective flag, permitting cap_setuid (bit 7: a 0x80 byte) and cap_net_bind_service.
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const bin = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0a]);
  const tarball = await makeTar([
    { name: 'bin/ping', body: 'elf', mode: 0o755, uid: 1, xattrs: { 'security.capability': cap, 'user.bin': bin } },
    { name: 'dir/', type: 'directory', xattrs: { 'trusted.overlay.opaque': Buffer.from('y') } },
  ]);
  await applyLayer(target, Readable.from(tarball), { format: 'overlay' });
  assert.deepEqual(lgetxattr(join(target, 'bin/ping'), 'security.capability'), cap);
  assert.deepEqual(lgetxattr(join(target, 'bin/ping'), 'user.bin'), bin);
  assert.equal(lgetxattr(join(target, 'dir'), 'trusted.overlay.opaque'), undefined);
});

test('hardlinks, devices and fifos', async (t) => {
  const { target } = sandbox(t);
  const tarball = await makeTar([
    { name: 'a', body: 'same' },
    { name: 'sub/b', type: 'link', linkname: 'a' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660 },
    { name: 'fifo', type: 'fifo', mode: 0o600 },
  ]);
  await applyLayer(target, Readable.from(tarball), { format: 'overlay' });
  assert.equal(statSync(join(target, 'a')).ino, statSync(join(target, 'sub/b')).ino);
  const n = lstatSync(join(target, 'dev/null'));
  assert.ok(n.isCharacterDevice());
  assert.equal(n.mode & 0o7777, 0o666);
  assert.ok(lstatSync(join(target, 'dev/loop0')).isBlockDevice());
  assert.ok(lstatSync(join(target, 'fifo')).isFIFO());
});

test('an absolute name is kept inside the layer', async (t) => {
  const { target, check } = sandbox(t);
  const name = `berth-test-${randomBytes(6).toString('hex')}`;
  await applyLayer(target, Readable.from(await makeTar([{ name: `/etc/${name}`, body: 'x' }])), { format: 'overlay' });
  assert.ok(existsSync(join(target, 'etc', name)));
  assert.ok(!existsSync(join('/etc', name)));
  check();
});

test('refuses ../ names', (t) => refuses(t, () => [{ name: 'ok', body: 'x' }, { name: '../x', body: 'evil' }], /^invalid layer: path escapes the layer: \.\.\/x$/));
test('refuses a/../../ names', (t) => refuses(t, () => [{ name: 'a/../../outside/sentinel', body: 'evil' }], /path escapes the layer/));
test('refuses writing through a symlink to an absolute path', (t) =>
  refuses(t, (outside) => [{ name: 'a', type: 'symlink', linkname: outside }, { name: 'a/x', body: 'evil' }], /^invalid layer: path traverses a symlink: a\/x$/));
test('refuses writing through a symlink to ..', (t) =>
  refuses(t, () => [{ name: 'a', type: 'symlink', linkname: '..' }, { name: 'a/outside/x', body: 'evil' }], /path traverses a symlink/));
test('refuses a symlink that replaced a directory already written', (t) =>
  refuses(
    t,
    (outside) => [{ name: 'a/', type: 'directory' }, { name: 'a/f', body: 'ok' }, { name: 'a', type: 'symlink', linkname: outside }, { name: 'a/x', body: 'evil' }],
    /path traverses a symlink: a\/x/,
  ));
test('refuses a hardlink climbing out', (t) => refuses(t, () => [{ name: 'h', type: 'link', linkname: '../../etc/passwd' }], /^invalid layer: path escapes the layer: h$|path escapes the layer/));
test('refuses a hardlink to an absolute path (it does not exist inside)', async (t) => {
  const before = statSync('/etc/passwd').nlink;
  await refuses(t, () => [{ name: 'h', type: 'link', linkname: '/etc/passwd' }], /^invalid layer: hardlink target does not exist in the layer: h -> \/etc\/passwd$/);
  assert.equal(statSync('/etc/passwd').nlink, before);
});
test('refuses a hardlink through a symlink', (t) =>
  refuses(t, (outside) => [{ name: 's', type: 'symlink', linkname: outside }, { name: 'h', type: 'link', linkname: 's/sentinel' }], /path traverses a symlink: h/));
test('refuses whiteouts of . and ..', async (t) => {
  await refuses(t, () => [{ name: 'd/.wh...', body: '' }], /invalid whiteout: d\/\.wh\.\.\./);
  await refuses(t, () => [{ name: '.wh..', body: '' }], /invalid whiteout/);
});

test('a directory entry replaces a symlink instead of following it', async (t) => {
  const { target, outside, check } = sandbox(t);
  const tarball = await makeTar([
    { name: 'a', type: 'symlink', linkname: outside },
    { name: 'a/', type: 'directory', mode: 0o700 },
    { name: 'b', type: 'symlink', linkname: join(outside, 'sentinel') },
    { name: 'b', body: 'replaced' },
  ]);
  await applyLayer(target, Readable.from(tarball), { format: 'vfs' });
  assert.ok(lstatSync(join(target, 'a')).isDirectory());
  assert.equal(readFileSync(join(target, 'b'), 'utf8'), 'replaced');
  check();
});

test('abort signal stops the extraction', async (t) => {
  const { target } = sandbox(t);
  const ac = new AbortController();
  const tarball = await makeTar([{ name: 'a', body: 'x' }]);
  async function* slow(): AsyncGenerator<Buffer> {
    yield tarball.subarray(0, 512);
    ac.abort();
    await new Promise((r) => setTimeout(r, 10));
    yield tarball.subarray(512);
  }
  await assert.rejects(applyLayer(target, Readable.from(slow()), { format: 'overlay', signal: ac.signal }), { name: 'AbortError' });
  assert.deepEqual(readdirSync(target), []);
});
