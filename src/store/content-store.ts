import { createHash, type Hash } from 'node:crypto';
import { constants as fsc, createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, KeyedLock, fsyncDir, hexOf, isErrno, notFound, tempPathFor, type Digest } from '../common/index.ts';

/** Partial downloads untouched for this long are swept when the store opens. */
const PARTIAL_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/**
 * Blobs named by digest under `<root>/blobs/sha256/<hex>`. A blob is committed atomically:
 * temp file, fsync, verify size and digest, rename, fsync dir. A crash leaves at most a temp file,
 * which `open()` sweeps away.
 */
export class ContentStore {
  readonly #dir: string;
  /** Partial downloads, `<root>/ingest/<hex>`: kept across failures and restarts so a download resumes. */
  readonly #ingestDir: string;
  readonly #locks = new KeyedLock();
  private constructor(root: string) {
    this.#dir = join(root, 'blobs', 'sha256');
    this.#ingestDir = join(root, 'ingest');
  }

  static async open(root: string): Promise<ContentStore> {
    const s = new ContentStore(root);
    await mkdir(s.#dir, { recursive: true, mode: 0o700 });
    await mkdir(s.#ingestDir, { recursive: true, mode: 0o700 });
    for (const f of await readdir(s.#dir)) if (f.startsWith('.tmp-')) await unlink(join(s.#dir, f)).catch(() => {});
    const now = Date.now();
    for (const f of await readdir(s.#ingestDir)) {
      const p = join(s.#ingestDir, f);
      const st = await stat(p).catch(() => undefined);
      if (!/^[a-f0-9]{64}$/.test(f) || (st && now - st.mtimeMs > PARTIAL_MAX_AGE_MS)) await unlink(p).catch(() => {});
    }
    return s;
  }

  /**
   * Exclusive, resumable writing of the blob `expected`. `fn` gets a PartialBlob that holds the
   * bytes an earlier attempt kept (a failed download, an aborted pull, a berthd that was killed),
   * hashed again as it opens. One holder per digest at a time in this process: a second caller
   * waits, so it should check `has()` first thing. What `fn` leaves uncommitted stays for the next
   * attempt; `commit()` verifies size and digest (invalid-argument, and the bytes are dropped).
   */
  async resume<T>(expected: { digest: Digest; size: number }, fn: (p: PartialBlob) => Promise<T>): Promise<T> {
    return this.#locks.with(expected.digest, async () => {
      const p = await PartialBlob.open(join(this.#ingestDir, hexOf(expected.digest)), this.path(expected.digest), this.#dir, expected);
      try {
        return await fn(p);
      } finally {
        await p.close();
      }
    });
  }

  /** Bytes kept of an unfinished download of `d` (0 when none). */
  async partialSize(d: Digest): Promise<number> {
    return (await stat(join(this.#ingestDir, hexOf(d))).catch(() => undefined))?.size ?? 0;
  }

  /**
   * Take a committed blob back out of the store into the partial area, where a later download of it
   * finds it whole (after hashing it again). For an operation that failed for reasons other than
   * the blob's content: nothing stays committed, nothing is fetched twice.
   */
  async uncommit(d: Digest): Promise<void> {
    await this.#locks.with(d, async () => {
      await rename(this.path(d), join(this.#ingestDir, hexOf(d))).catch((err: unknown) => {
        if (!isErrno(err, 'ENOENT')) throw err;
      });
    });
  }

  /** Drop the partial download of `d`, if any. */
  async discardPartial(d: Digest): Promise<void> {
    await this.#locks.with(d, () => unlink(join(this.#ingestDir, hexOf(d))).catch(() => {}));
  }

  path(d: Digest): string {
    return join(this.#dir, hexOf(d));
  }

  async has(d: Digest): Promise<boolean> {
    try {
      await stat(this.path(d));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  /** The blob's bytes. not-found when absent. */
  async get(d: Digest): Promise<Buffer> {
    try {
      return await readFile(this.path(d));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound('blob', d);
      throw err;
    }
  }

  /** The blob's bytes, or bytes `start`..`end` of it (inclusive). */
  open(d: Digest, range?: { start: number; end: number }): Readable {
    return createReadStream(this.path(d), range ? { start: range.start, end: range.end, highWaterMark: 1 << 20 } : { highWaterMark: 1 << 20 });
  }

  async size(d: Digest): Promise<number> {
    return (await stat(this.path(d))).size;
  }

  /**
   * True when the blob a descriptor names is here; invalid-argument when it is here with another
   * size than the descriptor says (a manifest may name one digest twice with different sizes).
   */
  async holds(d: { digest: Digest; size: number }): Promise<boolean> {
    const st = await stat(this.path(d.digest)).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    });
    if (!st) return false;
    if (st.size !== d.size) throw new BerthError('invalid-argument', `blob ${d.digest}: size mismatch: expected ${d.size}, the store holds ${st.size} bytes`);
    return true;
  }

  /** Store bytes; returns their digest. If `expected` is given, a mismatch is invalid-argument and nothing is stored. */
  async put(data: Uint8Array, expected?: Digest): Promise<{ digest: Digest; size: number }> {
    return this.ingest((async function* () { yield data; })(), expected ? { digest: expected } : undefined);
  }

  /**
   * Stream a blob in, hashing as it goes. With `expected`, the digest (and size, when given) must
   * match or the blob is discarded with an invalid-argument error.
   */
  async ingest(source: AsyncIterable<Uint8Array>, expected?: { digest?: Digest; size?: number }, signal?: AbortSignal): Promise<{ digest: Digest; size: number }> {
    const probe = join(this.#dir, 'x');
    const tmp = tempPathFor(probe);
    const fh = await open(tmp, 'wx', 0o600);
    const h = createHash('sha256');
    let size = 0;
    try {
      // small chunks (a layer tar streams a 512-byte header per entry) are written in batches:
      // one awaited write per chunk cost more than the hashing
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      const flush = async (): Promise<void> => {
        if (pending.length) await fh.writev(pending);
        pending = [];
        pendingBytes = 0;
      };
      for await (const chunk of source) {
        signal?.throwIfAborted();
        h.update(chunk);
        size += chunk.length;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= 1 << 20 || pending.length >= 1024) await flush();
      }
      await flush();
      await fh.sync();
    } catch (err) {
      await fh.close();
      await unlink(tmp).catch(() => {});
      throw err;
    }
    await fh.close();
    const digest: Digest = `sha256:${h.digest('hex')}`;
    if ((expected?.digest && expected.digest !== digest) || (expected?.size !== undefined && expected.size !== size)) {
      await unlink(tmp).catch(() => {});
      throw new BerthError('invalid-argument', expected?.digest && expected.digest !== digest
        ? `digest mismatch: expected ${expected.digest}, got ${digest}`
        : `size mismatch: expected ${expected?.size}, got ${size}`);
    }
    await rename(tmp, this.path(digest));
    await fsyncDir(this.#dir);
    return { digest, size };
  }

  async delete(d: Digest): Promise<void> {
    await unlink(this.path(d)).catch((err: unknown) => {
      if (!isErrno(err, 'ENOENT')) throw err;
    });
  }

  async list(): Promise<Digest[]> {
    return (await readdir(this.#dir)).filter((f) => /^[a-f0-9]{64}$/.test(f)).map((f) => `sha256:${f}` as Digest);
  }
}

/**
 * One blob being written, resumably: `offset` bytes are on disk (and hashed). `append` adds bytes
 * from a source, `commit` verifies and moves the blob into the store. Readers can `follow` the
 * bytes while they are written (a layer extracted as it downloads).
 */
export class PartialBlob {
  #fh: FileHandle;
  #hash: Hash;
  #offset: number;
  #state: 'open' | 'done' | 'failed' = 'open';
  #error: unknown;
  #waiters: (() => void)[] = [];
  /** Bytes this holder read back from an earlier attempt as it opened. */
  readonly resumedFrom: number;

  private constructor(readonly path: string, private readonly target: string, private readonly dir: string, readonly expected: { digest: Digest; size: number }, fh: FileHandle, hash: Hash, offset: number) {
    this.#fh = fh;
    this.#hash = hash;
    this.#offset = offset;
    this.resumedFrom = offset;
  }

  static async open(path: string, target: string, dir: string, expected: { digest: Digest; size: number }): Promise<PartialBlob> {
    const fh = await open(path, fsc.O_RDWR | fsc.O_CREAT, 0o600);
    const hash = createHash('sha256');
    let offset = 0;
    try {
      const size = (await fh.stat()).size;
      if (size > expected.size) {
        await fh.truncate(0);
      } else {
        const buf = Buffer.allocUnsafe(1 << 20);
        while (offset < size) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - offset), offset);
          if (bytesRead === 0) break;
          hash.update(buf.subarray(0, bytesRead));
          offset += bytesRead;
        }
      }
    } catch (err) {
      await fh.close();
      throw err;
    }
    return new PartialBlob(path, target, dir, expected, fh, hash, offset);
  }

  /** Bytes on disk. */
  get offset(): number {
    return this.#offset;
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /**
   * Write `source` after the bytes already there (in batches of up to 1 MiB: fewer, larger writes).
   * invalid-argument (and the bytes dropped) past the expected size. Bytes received before a
   * failure of `source` are written before it is rethrown.
   */
  async append(source: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<void> {
    let batch: Uint8Array[] = [];
    let pending = 0;
    const flush = async (): Promise<void> => {
      if (!pending) return;
      const buf = batch.length === 1 ? batch[0]! : Buffer.concat(batch, pending);
      batch = [];
      pending = 0;
      let off = 0;
      while (off < buf.length) off += (await this.#fh.write(buf, off, buf.length - off, this.#offset + off)).bytesWritten;
      this.#hash.update(buf);
      this.#offset += buf.length;
      this.#wake();
    };
    try {
      for await (const chunk of source) {
        signal?.throwIfAborted();
        if (this.#offset + pending + chunk.length > this.expected.size) {
          batch = [];
          pending = 0;
          await this.reset();
          throw new BerthError('invalid-argument', `size mismatch: more than the ${this.expected.size} bytes expected`);
        }
        batch.push(chunk);
        pending += chunk.length;
        if (pending >= 1 << 20) await flush();
      }
    } finally {
      await flush();
    }
  }

  /** Drop the bytes kept so far (a server that ignored a Range request sends everything again). */
  async reset(): Promise<void> {
    await this.#fh.truncate(0);
    this.#hash = createHash('sha256');
    this.#offset = 0;
  }

  /**
   * Verify size and digest, then move the bytes into the store (fsynced). invalid-argument on a
   * mismatch: the bytes are dropped, so the next attempt starts afresh.
   */
  async commit(): Promise<void> {
    const digest: Digest = `sha256:${this.#hash.copy().digest('hex')}`;
    if (this.#offset !== this.expected.size || digest !== this.expected.digest) {
      const err = new BerthError('invalid-argument', this.#offset !== this.expected.size
        ? `size mismatch: expected ${this.expected.size}, got ${this.#offset}`
        : `digest mismatch: expected ${this.expected.digest}, got ${digest}`);
      await unlink(this.path).catch(() => {});
      this.fail(err);
      throw err;
    }
    await this.#fh.sync();
    await rename(this.path, this.target);
    await fsyncDir(this.dir);
    this.#state = 'done';
    this.#wake();
  }

  /** The download gave up: followers fail with `err`. The bytes stay for a later attempt. */
  fail(err: unknown): void {
    if (this.#state !== 'open') return;
    this.#state = 'failed';
    this.#error = err;
    this.#wake();
  }

  /**
   * The blob's bytes from the start, as they are written: waits for more at the end of what is
   * there until the blob is committed; throws what the download failed with.
   */
  async *follow(signal?: AbortSignal): AsyncGenerator<Buffer> {
    // its own handle: the writer's closes when the download ends, maybe before this reader does
    const fh = await open(this.path, 'r').catch(async (err: unknown) => {
      if (isErrno(err, 'ENOENT') && this.#state === 'done') return open(this.target, 'r');
      throw err;
    });
    try {
      let pos = 0;
      for (;;) {
        signal?.throwIfAborted();
        if (pos < this.#offset) {
          const buf = Buffer.allocUnsafe(Math.min(256 * 1024, this.#offset - pos));
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead > 0) {
            pos += bytesRead;
            yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
            continue;
          }
        }
        if (this.#state === 'failed') throw this.#error;
        if (this.#state === 'done' && pos >= this.#offset) return;
        await new Promise<void>((r) => {
          const onAbort = (): void => r();
          signal?.addEventListener('abort', onAbort, { once: true });
          this.#waiters.push(() => {
            signal?.removeEventListener('abort', onAbort);
            r();
          });
        });
      }
    } finally {
      await fh.close();
    }
  }

  /** Drop the bytes for good (they are not this blob's): followers fail with `err`. */
  async discard(err: unknown): Promise<void> {
    this.fail(err);
    await unlink(this.path).catch(() => {});
  }

  /** Close the writer's file (an empty partial is removed); followers keep their own handles. */
  async close(): Promise<void> {
    if (this.#state === 'open') this.fail(new BerthError('unavailable', 'the download stopped'));
    await this.#fh.close();
    if (this.#state !== 'done' && this.#offset === 0) await unlink(this.path).catch(() => {});
  }
}
