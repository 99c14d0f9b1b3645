// Tar streams of local files, for `build` (the context) and `cp` (a file or tree).
import { createReadStream, type Stats } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';

export interface LocalTarWriter {
  /**
   * `abs` as `name`, from its Stats (lstat'ed, or stat'ed to follow a link): a directory entry (its
   * content is the caller's to add), a symlink or a file; other kinds are skipped. `owner` defaults
   * to the file's own.
   */
  add(name: string, abs: string, st: Stats, owner?: { uid: number; gid: number }): Promise<void>;
  /** A file from memory. */
  addData(name: string, data: Buffer, mode: number): Promise<void>;
}

/** A tar stream written by `produce`; an error from it destroys the stream. */
export function packLocal(produce: (w: LocalTarWriter) => Promise<void>): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  pack.pipe(out);
  const entry = (h: Partial<tar.Header> & { name: string }, data?: Buffer): Promise<void> =>
    new Promise((res, rej) => (data ? pack.entry(h as tar.Header, data, (e) => (e ? rej(e) : res())) : pack.entry(h as tar.Header, (e) => (e ? rej(e) : res()))));
  const w: LocalTarWriter = {
    async add(name, abs, st, owner) {
      const h = { name, mode: st.mode & 0o7777, mtime: st.mtime, uid: owner?.uid ?? st.uid, gid: owner?.gid ?? st.gid };
      if (st.isDirectory()) await entry({ ...h, type: 'directory' });
      else if (st.isSymbolicLink()) await entry({ ...h, type: 'symlink', linkname: await readlink(abs) });
      else if (st.isFile()) {
        await new Promise<void>((res, rej) => {
          const sink = pack.entry({ ...h, type: 'file', size: st.size } as tar.Header, (e) => (e ? rej(e) : res()));
          createReadStream(abs).on('error', rej).pipe(sink);
        });
      }
    },
    addData: (name, data, mode) => entry({ name, mode, uid: 0, gid: 0, mtime: new Date(), type: 'file' }, data),
  };
  produce(w).then(() => pack.finalize(), (err: unknown) => out.destroy(err as Error));
  return out;
}
