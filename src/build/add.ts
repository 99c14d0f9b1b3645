// ADD's extras over COPY: local archives unpacked, remote files downloaded.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, mkdir, rm, symlink, utimes } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { BerthError, invalid } from '../common/index.ts';
import { resolveInRoot } from './scoped-path.ts';
import type { CopyOwner } from './copy.ts';

export type ArchiveKind = 'tar' | 'gzip' | 'bzip2' | 'xz';

/** The archive kind of a file from its first 262 bytes, or null for a plain file (copied as is). */
export function archiveKind(h: Buffer): ArchiveKind | null {
  if (h[0] === 0x1f && h[1] === 0x8b) return 'gzip';
  if (h.subarray(0, 3).toString() === 'BZh') return 'bzip2';
  if (h.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (h.length >= 262 && h.subarray(257, 262).toString() === 'ustar') return 'tar';
  return null;
}

/** The first `n` bytes of a stream (then it is dropped). */
export async function head(input: Readable, n = 262): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let len = 0;
  for await (const c of input) {
    chunks.push(c as Buffer);
    len += (c as Buffer).length;
    if (len >= n) break;
  }
  input.destroy();
  return Buffer.concat(chunks).subarray(0, n);
}

function decompressor(kind: ArchiveKind, input: Readable): Readable {
  if (kind === 'tar') return input;
  if (kind === 'gzip') return input.pipe(createGunzip());
  // bzip2 and xz through Debian's own tools (bzip2, xz-utils), streamed
  const child = spawn(kind === 'bzip2' ? 'bzip2' : 'xz', ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  input.pipe(child.stdin);
  const out = new PassThrough();
  child.stdout.pipe(out);
  child.on('error', (err) => out.destroy(err));
  child.on('exit', (code) => {
    if (code) out.destroy(new Error(`${kind} exited with code ${code}`));
  });
  return out;
}

/**
 * Unpack a (compressed) tar into `destDir` of `rootfs`, as ADD does with a local archive.
 * Entries are placed with scoped resolution: names with `..`, absolute names and links cannot
 * write outside the rootfs. Ownership comes from the archive unless `owner` is given.
 */
export async function unpackArchive(input: Readable, name: string, kind: ArchiveKind, rootfs: string, destDir: string, owner?: CopyOwner, opts: { noOverwriteDirNonDir?: boolean } = {}): Promise<void> {
  const ex = tar.extract();
  const dirTimes: [string, Date][] = [];
  ex.on('entry', (h, body, next) => {
    void (async () => {
      const clean = posix.normalize(h.name.replace(/^\/+/, ''));
      // compat: moby refuses entries that climb out of the destination ("breakout")
      if (clean === '..' || clean.startsWith('../')) throw invalid(`invalid tar entry ${h.name}: it leads outside the destination`);
      const rel = clean.replace(/\/$/, '').replace(/^\.$/, '');
      if (!rel || rel === '.') {
        body.resume();
        return;
      }
      const inImage = posix.join(destDir, rel);
      const parent = resolveInRoot(rootfs, posix.dirname(inImage), { scope: 'chroot', followFinal: true });
      await mkdir(parent, { recursive: true });
      const target = join(parent, posix.basename(inImage));
      const uid = owner?.uid ?? h.uid ?? 0;
      const gid = owner?.gid ?? h.gid ?? 0;
      const mode = (h.mode ?? 0o644) & 0o7777;
      const existing = await lstat(target).catch(() => null);
      if (opts.noOverwriteDirNonDir && existing && existing.isDirectory() !== (h.type === 'directory')) {
        throw invalid(existing.isDirectory() ? `cannot overwrite directory "${inImage}" with non-directory "${h.name}"` : `cannot overwrite non-directory "${inImage}" with directory "${h.name}"`);
      }
      if (existing && !(existing.isDirectory() && h.type === 'directory')) await rm(target, { recursive: true, force: true });
      switch (h.type) {
        case 'directory':
          await mkdir(target, { recursive: true });
          await chmod(target, mode);
          await lchown(target, uid, gid);
          if (h.mtime) dirTimes.push([target, h.mtime]);
          body.resume();
          return;
        case 'file': case 'contiguous-file':
          await pipeline(body, createWriteStream(target, { mode }));
          await chmod(target, mode);
          await lchown(target, uid, gid);
          if (h.mtime) await utimes(target, h.mtime, h.mtime);
          return;
        case 'symlink':
          await symlink(h.linkname ?? '', target);
          await lchown(target, uid, gid);
          body.resume();
          return;
        case 'link': {
          const from = resolveInRoot(rootfs, posix.join(destDir, posix.normalize('/' + (h.linkname ?? '')).slice(1)), { scope: 'chroot', followFinal: false });
          await link(from, target);
          body.resume();
          return;
        }
        default:
          body.resume();
      }
    })().then(() => next(), (err: unknown) => {
      ex.destroy(err as Error);
    });
  });
  try {
    await pipeline(decompressor(kind, input), ex);
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw invalid(`failed to extract archive ${name}: ${(err as Error).message}`);
  }
  for (const [d, t] of dirTimes.reverse()) await utimes(d, t, t).catch(() => {});
}

/** A downloaded ADD source: its file, name, digest and modification time. */
export interface Download { path: string; name: string; digest: string; mtime?: Date }

/** Fetch a URL to `dir` for ADD; `checksum` (`sha256:<hex>`) must match when given. */
export async function download(url: string, dir: string, opts: { checksum?: string; signal?: AbortSignal }): Promise<Download> {
  let res: Response;
  try {
    res = await fetch(url, { signal: opts.signal, redirect: 'follow' });
  } catch (err) {
    throw invalid(`failed to GET ${url}: ${(err as Error).message}`);
  }
  if (!res.ok || !res.body) throw invalid(`failed to GET ${url} with status ${res.status} ${res.statusText}: ${(await res.text().catch(() => '')).slice(0, 200)}`);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'download');
  const h = createHash('sha256');
  const file = createWriteStream(path, { mode: 0o600 });
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    h.update(c);
    if (!file.write(c)) await new Promise<void>((r) => file.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const digest = `sha256:${h.digest('hex')}`;
  if (opts.checksum && opts.checksum !== digest) {
    throw invalid(`digest mismatch for ${url}: expected ${opts.checksum}, got ${digest}`);
  }
  const name = decodeURIComponent(posix.basename(new URL(url).pathname)) || 'download';
  const lm = res.headers.get('last-modified');
  return { path, name, digest, mtime: lm ? new Date(lm) : undefined };
}
