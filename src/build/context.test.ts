import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { unpackContext } from './context.ts';
import { matchSources, checksumSources } from './copy.ts';
import { resolveIn } from './scoped-path.ts';

async function tarOf(entries: { name: string; body?: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string; mode?: number }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  for (const e of entries) {
    await new Promise<void>((res, rej) => {
      const cb = (err?: Error | null): void => (err ? rej(err) : res());
      const h = { name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.mode ?? 0o644, mtime: new Date(1_700_000_000_000) };
      if (e.body !== undefined) pack.entry({ ...h, size: Buffer.byteLength(e.body) }, e.body, cb);
      else pack.entry(h, cb);
    });
  }
  pack.finalize();
  await new Promise<void>((r) => pack.on('end', () => r()));
  return Buffer.concat(chunks);
}

const unpack = async (body: Buffer, dockerfile = 'Dockerfile') => unpackContext(Readable.from([body]), '/nonexistent-spill', { dockerfile });

test('a tar context is held in memory with digests; gzip contexts too', async () => {
  const body = await tarOf([{ name: 'Dockerfile', body: 'FROM x\n' }, { name: 'src/a.txt', body: 'a' }, { name: 'src/link', type: 'symlink', linkname: 'a.txt' }]);
  for (const b of [body, gzipSync(body)]) {
    const { fs } = await unpack(b);
    assert.deepEqual(fs.paths(), ['Dockerfile', 'src', 'src/a.txt', 'src/link']);
    assert.equal((await fs.read('src/a.txt'))?.toString(), 'a');
    assert.equal(await fs.digest('src/a.txt'), 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb');
    assert.equal(fs.readlink('src/link'), 'a.txt');
  }
});

test('a bare Dockerfile body is a context of one file', async () => {
  const { fs } = await unpack(Buffer.from('FROM busybox\nRUN true\n'));
  assert.equal((await fs.read('Dockerfile'))?.toString(), 'FROM busybox\nRUN true\n');
});

test('entries that climb out of the context are refused', async () => {
  const body = await tarOf([{ name: 'Dockerfile', body: 'FROM x' }, { name: '../../etc/evil', body: 'x' }]);
  await assert.rejects(unpack(body), /path escapes the context: \.\.\/\.\.\/etc\/evil/);
  const abs = await tarOf([{ name: '/etc/abs', body: 'x' }]);
  assert.deepEqual((await unpack(abs)).fs.paths(), ['etc', 'etc/abs'], 'absolute names are taken as relative, as tar does');
});

test('.dockerignore: exclusions, ! exceptions inside an excluded directory, the Dockerfile kept', async () => {
  const body = await tarOf([
    { name: '.dockerignore', body: 'secret\n!secret/public\n*.log\nDockerfile\n' },
    { name: 'Dockerfile', body: 'FROM x' }, { name: 'secret/key', body: 'k' }, { name: 'secret/public', body: 'p' },
    { name: 'app.log', body: 'l' }, { name: 'keep.txt', body: 'k' },
  ]);
  const { fs } = await unpack(body);
  assert.deepEqual(fs.paths(), ['.dockerignore', 'Dockerfile', 'keep.txt', 'secret', 'secret/public']);
});

test('COPY sources: globs stay in one element; ../ and links out of the context are refused', async () => {
  const body = await tarOf([
    { name: 'a.txt', body: 'a' }, { name: 'b.txt', body: 'b' }, { name: 'd/c.txt', body: 'c' },
    { name: 'out', type: 'symlink', linkname: '../../etc/passwd' }, { name: 'abs', type: 'symlink', linkname: '/etc/passwd' },
    { name: 'in', type: 'symlink', linkname: 'd/c.txt' },
  ]);
  const { fs } = await unpack(body);
  assert.deepEqual(matchSources(fs, ['*.txt'], 'COPY'), ['a.txt', 'b.txt']);
  assert.deepEqual(matchSources(fs, ['in'], 'COPY'), ['d/c.txt'], 'a link inside the context is followed');
  for (const bad of ['../x', 'out', 'abs', 'd/../../x']) assert.throws(() => matchSources(fs, [bad], 'COPY'), /forbidden path outside the build context/, bad);
  assert.throws(() => matchSources(fs, ['nosuch'], 'COPY'), /file not found in build context or excluded by \.dockerignore: stat nosuch: file does not exist/);
  const files = new Map<string, string>();
  const s1 = await checksumSources(fs, ['a.txt', 'd'], files);
  assert.deepEqual([...files.keys()], ['a.txt', 'd/c.txt']);
  assert.equal(await checksumSources(fs, ['a.txt', 'd']), s1, 'the checksum is stable');
  assert.notEqual(await checksumSources(fs, ['b.txt', 'd']), s1);
});

test('chroot scope: absolute links and .. stop at the root', () => {
  const links = new Map([['etc', '/private/etc'], ['up', '../../..'], ['private/etc/x', '../../x']]);
  const tree = { isLink: (r: string) => links.has(r), readlink: (r: string) => links.get(r)! };
  assert.equal(resolveIn(tree, '/etc/passwd', { scope: 'chroot', followFinal: true }), 'private/etc/passwd');
  assert.equal(resolveIn(tree, '/up/etc', { scope: 'chroot', followFinal: false }), 'etc');
  assert.equal(resolveIn(tree, '/etc/x', { scope: 'chroot', followFinal: true }), 'x');
  assert.equal(resolveIn(tree, '/etc', { scope: 'chroot', followFinal: false }), 'etc');
  assert.throws(() => resolveIn(tree, 'etc/passwd', { scope: 'strict', followFinal: true }));
});
