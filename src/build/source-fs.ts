// Where COPY reads from: the build context (held in memory) or an image's rootfs (a host directory).
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, lstatSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { posix, join } from 'node:path';
import { Readable } from 'node:stream';

export interface SourceStat { type: 'file' | 'dir' | 'symlink' | 'other'; mode: number; mtime: Date; size: number }

/**
 * A read-only tree addressed by relative paths ('' is the root). Nothing here follows links:
 * resolution is the caller's (see scoped-path.ts), so a link cannot lead a read out of the tree.
 */
export interface SourceFS {
  /** How errors name this tree, e.g. "build context". */
  readonly label: string;
  /** 'strict': links and `..` may not leave the tree (a context); 'chroot': they stop at its root (a rootfs). */
  readonly scope: 'strict' | 'chroot';
  lstat(rel: string): SourceStat | null;
  /** Entry names of a directory, sorted. */
  readdir(rel: string): string[];
  readlink(rel: string): string;
  /** sha256 (hex) of a regular file's content. */
  digest(rel: string): Promise<string>;
  /** A regular file's content. */
  open(rel: string): Readable;
  /** Write a regular file's content to a new host file. */
  copyTo(rel: string, hostPath: string): Promise<void>;
}

const statOf = (st: import('node:fs').Stats): SourceStat => ({
  type: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other',
  mode: st.mode & 0o7777, mtime: st.mtime, size: st.size,
});

/** A host directory, e.g. a stage's or an image's mounted rootfs for COPY --from. */
export class HostFS implements SourceFS {
  constructor(readonly root: string, readonly label: string, readonly scope: 'strict' | 'chroot' = 'chroot') {}
  #abs(rel: string): string {
    return join(this.root, posix.normalize('/' + rel));
  }
  lstat(rel: string): SourceStat | null {
    const st = lstatSync(this.#abs(rel), { throwIfNoEntry: false });
    return st ? statOf(st) : null;
  }
  readdir(rel: string): string[] {
    return readdirSync(this.#abs(rel)).sort();
  }
  readlink(rel: string): string {
    return readlinkSync(this.#abs(rel));
  }
  async digest(rel: string): Promise<string> {
    const h = createHash('sha256');
    for await (const c of createReadStream(this.#abs(rel))) h.update(c as Buffer);
    return h.digest('hex');
  }
  open(rel: string): Readable {
    return createReadStream(this.#abs(rel));
  }
  async copyTo(rel: string, hostPath: string): Promise<void> {
    copyFileSync(this.#abs(rel), hostPath);
  }
}

interface MemEntry {
  stat: SourceStat;
  data?: Buffer;
  /** Large files live in a file of the build's temp dir instead of memory. */
  spill?: string;
  linkname?: string;
  digest?: string;
  children?: Set<string>;
}

/**
 * The build context held in memory: contexts are mostly many small files, and creating them on
 * disk cost ~1 ms a file here (200 files: 230 ms) where a cached rebuild needs only their
 * digests. Files over a size limit are kept in spill files by the caller.
 */
export class MemFS implements SourceFS {
  readonly label = 'build context';
  readonly scope = 'strict' as const;
  readonly #entries = new Map<string, MemEntry>([['', { stat: { type: 'dir', mode: 0o755, mtime: new Date(0), size: 0 }, children: new Set() }]]);

  #parentDir(rel: string): MemEntry {
    const parent = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
    let p = this.#entries.get(parent);
    if (!p || p.stat.type !== 'dir') {
      if (p) this.remove(parent);
      p = this.#parentDir(parent);
      const e: MemEntry = { stat: { type: 'dir', mode: 0o755, mtime: new Date(0), size: 0 }, children: new Set() };
      this.#entries.set(parent, e);
      p.children!.add(posix.basename(parent));
      return e;
    }
    return p;
  }

  /** Add or replace an entry (a later tar entry of the same name wins, as with tar -x). */
  put(rel: string, e: { stat: SourceStat; data?: Buffer; spill?: string; linkname?: string; digest?: string }): void {
    const parent = this.#parentDir(rel);
    const old = this.#entries.get(rel);
    if (e.stat.type === 'dir' && old?.stat.type === 'dir') {
      old.stat = e.stat;
      return;
    }
    if (old) this.remove(rel);
    this.#entries.set(rel, { ...e, ...(e.stat.type === 'dir' ? { children: new Set<string>() } : {}) });
    parent.children!.add(posix.basename(rel));
  }

  remove(rel: string): void {
    const e = this.#entries.get(rel);
    if (!e || rel === '') return;
    for (const c of e.children ?? []) this.remove(`${rel}/${c}`);
    this.#entries.delete(rel);
    const parent = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
    this.#entries.get(parent)?.children?.delete(posix.basename(rel));
  }

  /** Every path, parents before children. */
  paths(): string[] {
    return [...this.#entries.keys()].filter((k) => k !== '').sort();
  }

  get(rel: string): MemEntry | undefined {
    return this.#entries.get(rel);
  }

  lstat(rel: string): SourceStat | null {
    return this.#entries.get(rel)?.stat ?? null;
  }
  readdir(rel: string): string[] {
    return [...(this.#entries.get(rel)?.children ?? [])].sort();
  }
  readlink(rel: string): string {
    return this.#entries.get(rel)?.linkname ?? '';
  }
  async digest(rel: string): Promise<string> {
    const e = this.#entries.get(rel);
    if (!e) throw new Error(`no such file: ${rel}`);
    if (!e.digest) {
      const h = createHash('sha256');
      for await (const c of this.open(rel)) h.update(c as Buffer);
      e.digest = h.digest('hex');
    }
    return e.digest;
  }
  open(rel: string): Readable {
    const e = this.#entries.get(rel);
    if (e?.spill) return createReadStream(e.spill);
    return Readable.from([e?.data ?? Buffer.alloc(0)]);
  }
  async copyTo(rel: string, hostPath: string): Promise<void> {
    const e = this.#entries.get(rel);
    if (e?.spill) copyFileSync(e.spill, hostPath);
    else writeFileSync(hostPath, e?.data ?? Buffer.alloc(0));
  }
  /** A small file's content (the Dockerfile, .dockerignore); undefined when absent or not a file. */
  async read(rel: string): Promise<Buffer | undefined> {
    const e = this.#entries.get(rel);
    if (!e || e.stat.type !== 'file') return undefined;
    const chunks: Buffer[] = [];
    for await (const c of this.open(rel)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
}
