// Tar streams out of snapshots: a layer of changes (`docker commit`) and a whole tree (`docker export`).
import type { Stats } from 'node:fs';
import { constants as fsc } from 'node:fs';
import { closeSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type tar from 'tar-stream';
import { lgetxattr } from '../sys/index.ts';
import { WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './apply-layer.ts';
import { isOpaque } from './changes.ts';
import type { LayerStore } from './layer-store.ts';
import { encodePaxRecords, packWithRawPax, RAW_PAX, type RawPaxHeaders, XATTR_PREFIX } from './tar-pax.ts';

// compat: like Docker's archive package, only security.capability is exported (not SELinux labels
// or overlay's own trusted.* attributes).
const EXPORTED_XATTRS = ['security.capability'];
const USTAR_ID_MAX = 0o7777777;
/** Files up to this size are read in one call; larger ones are streamed. */
const SMALL_FILE = 1 << 20;

/**
 * A layer tar of snapshot `key`'s changes against its parent, in Docker's form: deletions as
 * `.wh.<name>` files, opaque directories followed by `.wh..wh..opq`. Errors (not-found for an
 * unknown key) are emitted on the stream.
 */
export function exportChanges(store: LayerStore, key: string): Readable {
  return packFrom(async (w) => {
    const [changes, upper] = await Promise.all([store.changes(key), store.upperDir(key)]);
    for (const c of changes) {
      const name = c.path.replace(/^\/+/, '');
      if (c.kind === 'D') {
        const dir = posix.dirname(name);
        await w.whiteout(dir === '.' ? `${WHITEOUT_PREFIX}${posix.basename(name)}` : `${dir}/${WHITEOUT_PREFIX}${posix.basename(name)}`);
        continue;
      }
      const abs = join(upper, name);
      const st = lstatSync(abs);
      await w.add(name, abs, st);
      if (st.isDirectory() && isOpaque(abs)) await w.whiteout(`${name}/${WHITEOUT_OPAQUE}`, st);
    }
  });
}

/** A tar of the whole tree at `dir` (a mounted rootfs), for `docker export`. */
export function exportTree(dir: string): Readable {
  return packFrom(async (w) => {
    async function walk(rel: string): Promise<void> {
      for (const name of (await readdir(join(dir, rel))).sort()) {
        const childRel = rel === '' ? name : `${rel}/${name}`;
        const abs = join(dir, childRel);
        const st = await lstat(abs);
        await w.add(childRel, abs, st);
        if (st.isDirectory()) await walk(childRel);
      }
    }
    await walk('');
  });
}

/**
 * A tar of one file or directory tree at host path `path`, its entries named under `name` (a
 * directory `etc` gives `etc`, `etc/passwd`, …): `docker cp`'s archive. Links are not followed.
 */
export function exportPath(path: string, name: string): Readable {
  return packFrom(async (w) => {
    const st = lstatSync(path);
    await w.add(name, path, st);
    if (!st.isDirectory()) return;
    async function walk(abs: string, rel: string): Promise<void> {
      for (const child of (await readdir(abs)).sort()) {
        const a = join(abs, child);
        const r = `${rel}/${child}`;
        const cst = lstatSync(a);
        await w.add(r, a, cst);
        if (cst.isDirectory()) await walk(a, r);
      }
    }
    await walk(path, name);
  });
}

class TarWriter {
  readonly #pack: tar.Pack;
  /** dev:ino of files with several links → the first name written, for hardlink entries. */
  readonly #links = new Map<string, string>();

  constructor(pack: tar.Pack) {
    this.#pack = pack;
  }

  #entry(header: RawPaxHeaders, body?: Readable | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const h = header as Parameters<tar.Pack['entry']>[0];
      if (!body || Buffer.isBuffer(body)) {
        this.#pack.entry(h, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
        return;
      }
      const sink = this.#pack.entry(h, (err) => (err ? reject(err) : resolve()));
      pipeline(body, sink as unknown as NodeJS.WritableStream).catch(reject);
    });
  }

  whiteout(name: string, like?: Stats): Promise<void> {
    return this.#entry({ name, type: 'file', size: 0, mode: 0o644, uid: like?.uid ?? 0, gid: like?.gid ?? 0, mtime: like ? seconds(like) : new Date(0) });
  }

  /** Add `abs` (already lstat'ed) as `name`. Sockets are skipped, as Docker does. */
  async add(name: string, abs: string, st: Stats): Promise<void> {
    const header: RawPaxHeaders = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: seconds(st), size: 0 };
    let body: Readable | undefined;
    let data: Buffer | undefined;
    if (st.isDirectory()) header.type = 'directory';
    else if (st.isSymbolicLink()) Object.assign(header, { type: 'symlink', linkname: readlinkSync(abs) });
    else if (st.isCharacterDevice() || st.isBlockDevice()) {
      Object.assign(header, { type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major(st.rdev), devminor: minor(st.rdev) });
    } else if (st.isFIFO()) header.type = 'fifo';
    else if (st.isFile()) {
      const id = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? this.#links.get(id) : undefined;
      if (first !== undefined) Object.assign(header, { type: 'link', linkname: first });
      else {
        if (st.nlink > 1) this.#links.set(id, name);
        Object.assign(header, { type: 'file', size: st.size });
        // O_NOFOLLOW: the tree may change under us; never read through a symlink swapped in.
        if (st.size > 0 && st.size <= SMALL_FILE) {
          // small files in one synchronous read: a layer is mostly small files
          const fd = openSync(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
          try {
            const buf = Buffer.allocUnsafe(st.size);
            let off = 0;
            while (off < st.size) {
              const n = readSync(fd, buf, off, st.size - off, off);
              if (n === 0) throw new Error(`${name}: file shrank while being read`);
              off += n;
            }
            data = buf;
          } finally {
            closeSync(fd);
          }
        } else if (st.size > 0) body = (await open(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW)).createReadStream({ start: 0, end: st.size - 1 });
      }
    } else return;
    this.#rawPax(header, st.isSymbolicLink() ? [] : xattrsOf(abs));
    await this.#entry(header, body ?? data);
  }

  /**
   * Binary xattrs need our own PAX body (see tar-pax.ts); it then also carries long names and large
   * ids, and the ustar fields get short placeholders so tar-stream writes no second PAX header.
   */
  #rawPax(header: RawPaxHeaders, xattrs: [string, Buffer][]): void {
    if (xattrs.length === 0) return;
    const records: [string, Buffer | string][] = [['path', header.name]];
    if (!/^[\x20-\x7e]{1,98}$/.test(header.name)) header.name = '@PaxEntry';
    if (header.linkname && !/^[\x20-\x7e]{1,100}$/.test(header.linkname)) {
      records.push(['linkpath', header.linkname]);
      header.linkname = '@PaxLink';
    }
    if ((header.uid ?? 0) > USTAR_ID_MAX) records.push(['uid', String(header.uid)]);
    if ((header.gid ?? 0) > USTAR_ID_MAX) records.push(['gid', String(header.gid)]);
    for (const [k, v] of xattrs) records.push([`${XATTR_PREFIX}${k}`, v]);
    header[RAW_PAX] = encodePaxRecords(records);
    (header as { pax?: object }).pax = {};
  }
}

function xattrsOf(abs: string): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  for (const name of EXPORTED_XATTRS) {
    const v = lgetxattr(abs, name);
    if (v !== undefined) out.push([name, Buffer.from(v)]);
  }
  return out;
}

/** compat: Docker truncates times to whole seconds in layer tars. */
const seconds = (st: Stats): Date => new Date(Math.floor(st.mtimeMs / 1000) * 1000);
// glibc's major()/minor() encoding of dev_t
const major = (dev: number): number => Number(((BigInt(dev) >> 8n) & 0xfffn) | ((BigInt(dev) >> 32n) & ~0xfffn));
const minor = (dev: number): number => Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));

function packFrom(produce: (w: TarWriter) => Promise<void>): Readable {
  const pack = packWithRawPax();
  produce(new TarWriter(pack)).then(
    () => pack.finalize(),
    (err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))),
  );
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}
