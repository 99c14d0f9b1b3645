// In-memory tar archives for tests (layers, docker-save archives, hostile inputs).
import { createHash } from 'node:crypto';
import tar from 'tar-stream';

export interface TarEntry {
  name: string;
  body?: Buffer | string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device';
  linkname?: string;
  mode?: number;
  devmajor?: number;
  devminor?: number;
}

/** A tar archive in memory; modes default to 0755 for directories and 0644 otherwise. */
export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const collected = collect(pack);
  for (const e of entries) {
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    await new Promise<void>((res, rej) => {
      const cb = (err?: Error | null): void => (err ? rej(err) : res());
      const header = {
        name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
        devmajor: e.devmajor, devminor: e.devminor, mtime: new Date(1_700_000_000_000),
      };
      if (body) pack.entry({ ...header, size: body.length }, body, cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  return collected;
}

/** Every regular file of a tar archive, by name. */
export async function readTar(data: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tar.extract();
  ex.on('entry', (h, stream, next) => {
    collect(stream).then((b) => {
      if (h.type === 'file') out.set(h.name, b);
      next();
    }, next);
  });
  const done = new Promise<void>((res, rej) => {
    ex.on('finish', () => res());
    ex.on('error', rej);
  });
  ex.end(data);
  await done;
  return out;
}

/** The bytes a stream produces, read as they come (tar-stream's pack waits for a reader). */
export async function collect(s: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export const digestOf = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
