import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, fsyncDir, hexOf, isErrno, notFound, tempPathFor, type Digest } from '../common/index.ts';

/**
 * Blobs named by digest under `<root>/blobs/sha256/<hex>`. A blob is committed atomically:
 * temp file, fsync, verify size and digest, rename, fsync dir. A crash leaves at most a temp file,
 * which `open()` sweeps away.
 */
export class ContentStore {
  readonly #dir: string;
  private constructor(root: string) {
    this.#dir = join(root, 'blobs', 'sha256');
  }

  static async open(root: string): Promise<ContentStore> {
    const s = new ContentStore(root);
    await mkdir(s.#dir, { recursive: true, mode: 0o700 });
    for (const f of await readdir(s.#dir)) if (f.startsWith('.tmp-')) await unlink(join(s.#dir, f)).catch(() => {});
    return s;
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

  open(d: Digest): Readable {
    return createReadStream(this.path(d));
  }

  async size(d: Digest): Promise<number> {
    return (await stat(this.path(d))).size;
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
