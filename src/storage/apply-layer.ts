// Extract a layer tarball into a snapshot directory, safely.
//
// This file uses synchronous fs calls on purpose, against the "no sync I/O after startup" rule:
// FIELD-NOTES measured tar-stream + sync fs at 1.62 s vs 5.95 s with fs/promises for a 366 MB layer.
// Each call is a short metadata syscall or a write of one tar chunk (≤ 64 KiB), so the event loop
// is never held for long.
//
// Safety model: `dir` is a fresh (overlay) or private (vfs) directory that nothing else modifies
// while we extract. Entry names are cleaned lexically (as Docker does) and refused when they climb
// out; every parent component is checked with lstat and must be a real directory (never a
// symlink); files are created with O_EXCL|O_NOFOLLOW; hardlink targets get the same checks. With
// no concurrent writer there is no window between check and use.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import tar from 'tar-stream';
import { BerthError, type Digest, isErrno, wrap } from '../common/index.ts';
import { lsetxattr, mknod } from '../sys/index.ts';
import { captureRawPax, parsePaxRecords, xattrsOf } from './tar-pax.ts';

/** The entry stream tar-stream hands out (its Source type is not exported). */
type EntryStream = tar.ExtractEvents['entry'][1];

export type LayerFormat = 'overlay' | 'vfs';

export interface ApplyResult {
  /** sha256 of the uncompressed tar, every byte to EOF. */
  diffId: Digest;
  /** sha256 of the input as given (compressed or not). */
  compressedDigest: Digest;
  /** Bytes of uncompressed tar. */
  size: number;
  /** How the input was compressed (by its magic bytes). */
  compression: Compression;
}

export type Compression = 'gzip' | 'zstd' | 'none';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

const bad = (what: string, name: string): BerthError => new BerthError('invalid-argument', `invalid layer: ${what}: ${name}`);

/**
 * Apply the layer tar in `input` (plain, gzip or zstd) to `dir`.
 * - 'overlay': `dir` is an empty upper dir; whiteouts become char 0:0 devices and opaque markers
 *   set `trusted.overlay.opaque=y`.
 * - 'vfs': `dir` is a full copy of the parent; whiteouts delete, opaque markers empty the directory
 *   of everything this layer has not written.
 * Throws invalid-argument for a hostile or malformed tarball (paths escaping `dir`, writes through
 * symlinks, bad hardlinks) or compressed data that does not decompress. On any failure the contents of `dir` are
 * removed: the caller must discard the snapshot. Nothing is ever written outside `dir`.
 */
export async function applyLayer(dir: string, input: Readable, opts: {
  format: LayerFormat; signal?: AbortSignal;
  /** false: the caller verifies the compressed bytes itself (a content-store blob); compressedDigest is then ''. */
  hashCompressed?: boolean;
}): Promise<ApplyResult> {
  const hashCompressed = opts.hashCompressed ?? true;
  const rawHash = createHash('sha256');
  const tarHash = createHash('sha256');
  let size = 0;
  const seen: { compression: Compression } = { compression: 'none' };
  const writer = new LayerWriter(dir, opts.format);
  const extract = tar.extract();
  captureRawPax(extract, (raw) => (writer.pendingPax = raw));
  extract.on('entry', (header, stream, next) => writer.entry(header, stream, (err) => next(err as Error | undefined)));

  async function* hashRaw(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      if (hashCompressed) rawHash.update(chunk);
      yield chunk;
    }
  }
  async function* hashTar(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      tarHash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
    // Some writers leave a short tail after the end-of-archive blocks: it is hashed above, but
    // tar-stream rejects a partial block, so pad its input (only) to a whole block.
    if (size % 512) yield Buffer.alloc(512 - (size % 512));
  }

  try {
    await pipeline(input, hashRaw, (src: AsyncIterable<Buffer>) => decompress(src, seen, opts.signal), hashTar, extract, { signal: opts.signal });
    writer.finish();
  } catch (err) {
    writer.abort();
    for (const name of fs.readdirSync(dir)) fs.rmSync(join(dir, name), { recursive: true, force: true });
    throw classify(err);
  }
  return { diffId: `sha256:${tarHash.digest('hex')}`, compressedDigest: hashCompressed ? `sha256:${rawHash.digest('hex')}` : ('' as Digest), size, compression: seen.compression };
}

/** PAX mtime keeps sub-second precision; the ustar field has whole seconds. */
function mtimeOf(header: tar.Header, pax: Map<string, Buffer> | undefined): Date {
  const p = Number(pax?.get('mtime')?.toString('latin1'));
  return Number.isFinite(p) ? new Date(p * 1000) : (header.mtime ?? new Date(0));
}

function classify(err: unknown): unknown {
  if (err instanceof BerthError || (err instanceof Error && err.name === 'AbortError')) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown }).code;
  if ((typeof code === 'string' && code.startsWith('Z_')) || /^(Invalid tar header|Invalid header|Unexpected end of data|Header exceeds max size)/.test(msg)) {
    return new BerthError('invalid-argument', `invalid layer: ${msg}`, { cause: err });
  }
  return wrap(err, 'apply layer');
}

/** The compression of a blob from its first bytes: gzip (1f 8b), zstd (28 b5 2f fd), else none. */
export function compressionOf(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** Pass plain tar through, gunzip gzip, and decompress zstd through Debian's `zstd` (Node 20 has no zstd). */
async function* decompress(source: AsyncIterable<Buffer>, seen: { compression: Compression }, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < 4) {
    const r = await it.next();
    if (r.done) break;
    head = Buffer.concat([head, r.value]);
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  seen.compression = compressionOf(head);
  if (seen.compression === 'none') return yield* rest();
  if (seen.compression === 'zstd') return yield* zstdDecompress(rest(), signal);
  // zlib inflates on the thread pool: deep buffers on both sides let it run ahead while this
  // thread hashes, parses and writes (16 KiB defaults kept the two in lock step: 0.95 s -> 0.78 s
  // for a 100 MB layer)
  const gunzip = createGunzip({ chunkSize: 256 * 1024, readableHighWaterMark: 8 * 1024 * 1024, writableHighWaterMark: 4 * 1024 * 1024 } as ZlibOptions);
  const feeding = pipeline(rest(), gunzip);
  feeding.catch(() => {}); // its error also destroys gunzip, which the loop below throws
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
    await feeding;
  } finally {
    gunzip.destroy();
  }
}

/**
 * zstd-decompress a stream with `zstd -dc` (Debian's zstd: fast, streaming, every frame).
 * invalid-argument for data zstd refuses; unavailable when the binary is missing.
 */
export async function* zstdDecompress(source: AsyncIterable<Buffer>, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const child = spawn('zstd', ['-d', '-c', '-q', '--no-progress'], { stdio: ['pipe', 'pipe', 'pipe'], signal });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  exited.catch(() => {});
  const feeding = pipeline(source, child.stdin).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  feeding.catch(() => {});
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    await feeding.catch((err: unknown) => {
      if ((err as { code?: string }).code !== 'EPIPE') throw err;
    });
    let code: number | null;
    try {
      code = await exited;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new BerthError('unavailable', 'zstd-compressed layer: the zstd program is missing (apt-get install zstd)');
      throw err;
    }
    if (code !== 0) throw new BerthError('invalid-argument', `invalid layer: zstd: ${stderr.trim() || `exit ${code}`}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** Lexically clean a tar name as Docker does ("/a/./b" → "a/b"); refuse names climbing out. */
export function cleanName(name: string): string {
  const n = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (n === '..' || n.startsWith('../')) throw bad('path escapes the layer', name);
  return n === '.' ? '' : n;
}

class LayerWriter {
  /** Raw body of the PAX header for the next entry (see tar-pax.ts). */
  pendingPax: Buffer | undefined;
  #dir: string;
  #format: LayerFormat;
  /** Relative paths known to be real directories (not symlinks); see #invalidate. */
  #dirs = new Set<string>(['']);
  /** vfs only: what this layer wrote, plus ancestors, so opaque markers keep it. */
  #written = new Set<string>();
  #dirTimes: [string, Date][] = [];
  #fd: number | undefined;

  constructor(dir: string, format: LayerFormat) {
    this.#dir = dir;
    this.#format = format;
  }

  #abs(rel: string): string {
    return rel === '' ? this.#dir : join(this.#dir, rel);
  }

  entry(header: tar.Header, stream: EntryStream, next: (err?: unknown) => void): void {
    const raw = this.pendingPax;
    this.pendingPax = undefined;
    stream.on('error', () => {}); // a failure surfaces through the extract stream
    let done: (() => void) | undefined;
    try {
      const pax = raw === undefined ? undefined : parsePaxRecords(raw);
      done = this.#begin(header, pax, mtimeOf(header, pax));
    } catch (err) {
      stream.resume();
      next(err);
      return;
    }
    stream.on('data', (data) => {
      const chunk = data as Buffer;
      if (this.#fd === undefined) return;
      try {
        for (let off = 0; off < chunk.length; ) off += fs.writeSync(this.#fd, chunk, off);
      } catch (err) {
        stream.destroy(err as Error);
      }
    });
    stream.on('end', () => {
      try {
        done?.();
        next();
      } catch (err) {
        next(err);
      }
    });
    stream.resume();
  }

  /** Create the entry (a file is opened; its data follows). Returns what to do once the data is in. */
  #begin(header: tar.Header, pax: Map<string, Buffer> | undefined, mtime: Date): (() => void) | undefined {
    const rel = cleanName(header.name);
    const base = posix.basename(rel);
    const parent = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      this.#whiteout(header, rel, parent, base);
      return undefined;
    }
    if (rel === '') return undefined; // the layer root itself: keep the snapshot dir's own metadata
    const type = header.type ?? 'file';
    this.#parents(rel, true, header.name);
    const abs = this.#abs(rel);
    const existing = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (existing && !(existing.isDirectory() && type === 'directory')) this.#remove(rel);
    if (this.#format === 'vfs') this.#markWritten(rel);
    const mode = (header.mode ?? 0o644) & 0o7777;
    const uid = header.uid ?? 0;
    const gid = header.gid ?? 0;
    switch (type) {
      case 'directory':
        if (!existing?.isDirectory()) fs.mkdirSync(abs, 0o700);
        this.#dirs.add(rel);
        fs.lchownSync(abs, uid, gid);
        fs.chmodSync(abs, mode); // after chown, which clears setuid/setgid
        this.#xattrs(abs, pax);
        this.#dirTimes.push([abs, mtime]);
        return undefined;
      case 'file':
      case 'contiguous-file': {
        const fd = fs.openSync(abs, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        this.#fd = fd;
        // Owner, mode and xattrs once the data is written: a write drops security.capability, and
        // chown drops setuid bits and capabilities.
        return () => {
          fs.fchownSync(fd, uid, gid);
          fs.fchmodSync(fd, mode);
          this.#fd = undefined;
          fs.closeSync(fd);
          this.#xattrs(abs, pax);
          fs.lutimesSync(abs, mtime, mtime);
        };
      }
      case 'symlink':
        fs.symlinkSync(header.linkname ?? '', abs); // never followed by us
        fs.lchownSync(abs, uid, gid);
        this.#xattrs(abs, pax);
        return () => fs.lutimesSync(abs, mtime, mtime);
      case 'link': {
        const linkRel = cleanName(header.linkname ?? '');
        if (linkRel === '') throw bad('hardlink to the layer root', header.name);
        this.#parents(linkRel, false, header.name);
        const st = fs.lstatSync(this.#abs(linkRel), { throwIfNoEntry: false });
        if (!st) throw bad('hardlink target does not exist in the layer', `${header.name} -> ${header.linkname ?? ''}`);
        if (st.isDirectory()) throw bad('hardlink to a directory', header.name);
        fs.linkSync(this.#abs(linkRel), abs); // link(2) does not follow a symlink target
        return undefined;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const kind = type === 'fifo' ? S_IFIFO : type === 'block-device' ? S_IFBLK : S_IFCHR;
        mknod(abs, kind | mode, header.devmajor ?? 0, header.devminor ?? 0); // created, never opened
        fs.lchownSync(abs, uid, gid);
        fs.chmodSync(abs, mode);
        this.#xattrs(abs, pax);
        return () => fs.lutimesSync(abs, mtime, mtime);
      }
      default:
        throw bad(`unsupported entry type ${String(type)}`, header.name);
    }
  }

  #whiteout(header: tar.Header, rel: string, parent: string, base: string): void {
    if (base === WHITEOUT_OPAQUE) {
      this.#parents(rel, true, header.name);
      if (this.#format === 'overlay') lsetxattr(this.#abs(parent), OPAQUE_XATTR, Buffer.from('y'));
      else this.#prune(parent);
      return;
    }
    if (base.startsWith(WHITEOUT_META_PREFIX)) return; // aufs metadata (.wh..wh.plnk…): Docker ignores it
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw bad('invalid whiteout', header.name);
    const victim = parent === '' ? name : `${parent}/${name}`;
    if (this.#format === 'overlay') {
      this.#parents(victim, true, header.name);
      if (fs.lstatSync(this.#abs(victim), { throwIfNoEntry: false })) this.#remove(victim);
      mknod(this.#abs(victim), S_IFCHR, 0, 0);
      fs.lchownSync(this.#abs(victim), header.uid ?? 0, header.gid ?? 0);
    } else if (this.#parents(victim, false, header.name)) {
      this.#remove(victim);
    }
  }

  /**
   * Check every parent component of `rel` is a real directory inside the root: refuse symlinks and
   * non-directories; create missing ones (0755, as Docker) when `create`, else return false.
   */
  #parents(rel: string, create: boolean, name: string): boolean {
    const parts = rel.split('/');
    let cur = '';
    for (let i = 0; i < parts.length - 1; i++) {
      cur = cur === '' ? parts[i]! : `${cur}/${parts[i]!}`;
      if (this.#dirs.has(cur)) continue;
      const st = fs.lstatSync(this.#abs(cur), { throwIfNoEntry: false });
      if (!st) {
        if (!create) return false;
        fs.mkdirSync(this.#abs(cur), 0o755);
        if (this.#format === 'vfs') this.#written.add(cur);
      } else if (st.isSymbolicLink()) {
        throw bad('path traverses a symlink', name);
      } else if (!st.isDirectory()) {
        throw bad('parent is not a directory', name);
      }
      this.#dirs.add(cur);
    }
    return true;
  }

  #remove(rel: string): void {
    fs.rmSync(this.#abs(rel), { recursive: true, force: true }); // rm does not follow symlinks
    this.#invalidate(rel);
  }

  /** A verified directory is being replaced: forget it and everything cached under it. */
  #invalidate(rel: string): void {
    if (!this.#dirs.has(rel)) return; // a cached descendant implies a cached parent
    for (const d of this.#dirs) if (d === rel || d.startsWith(`${rel}/`)) this.#dirs.delete(d);
  }

  #markWritten(rel: string): void {
    for (let p = rel; p !== '.' && p !== '' && !this.#written.has(p); p = posix.dirname(p)) this.#written.add(p);
  }

  /** vfs opaque marker: remove everything under `rel` this layer has not written. */
  #prune(rel: string): void {
    for (const name of fs.readdirSync(this.#abs(rel))) {
      const child = rel === '' ? name : `${rel}/${name}`;
      if (!this.#written.has(child)) this.#remove(child);
      else if (fs.lstatSync(this.#abs(child)).isDirectory()) this.#prune(child);
    }
  }

  #xattrs(abs: string, pax: Map<string, Buffer> | undefined): void {
    for (const [name, value] of xattrsOf(pax)) {
      // A layer must not forge overlay metadata (opaque, redirect, metacopy): whiteouts carry that.
      if (name.startsWith('trusted.overlay.')) continue;
      lsetxattr(abs, name, value);
    }
  }

  /** Directory times last: creating children changes them. */
  finish(): void {
    for (let i = this.#dirTimes.length - 1; i >= 0; i--) {
      const [abs, mtime] = this.#dirTimes[i]!;
      try {
        fs.lutimesSync(abs, mtime, mtime);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err; // a later entry or whiteout removed it
      }
    }
  }

  abort(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }
}
