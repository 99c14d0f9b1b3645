// The build context: a tar stream unpacked into a private directory, hostile entries refused.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { MemFS } from './source-fs.ts';
import { posix, join } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import dockerignore from '@balena/dockerignore';

// the package is CommonJS (`module.exports = factory`): its default import is the factory itself
const ignore = ((dockerignore as unknown as { default?: typeof dockerignore }).default ?? dockerignore) as unknown as () => { add(p: string[]): { ignores(p: string): boolean } };
import { BerthError, invalid } from '../common/index.ts';

/** Files up to this size are held in memory, up to MEMORY_LIMIT in all; the rest are spilled to disk. */
const SMALL_FILE = 1 << 20;
const MEMORY_LIMIT = 256 << 20;

export interface BuildContext {
  /** The context's files, in memory (large files spilled to the build's temp dir). */
  fs: MemFS;
}

/** A context-relative path, normalised; throws for paths that leave the context. */
export function contextPath(name: string): string {
  const n = posix.normalize(name.replace(/^\/+/, ''));
  if (n === '..' || n.startsWith('../')) throw invalid(`invalid build context: path escapes the context: ${name}`);
  return n === '.' ? '' : n.replace(/\/$/, '').replace(/^\.\//, '');
}

/** Reads the first bytes of a stream and returns them with a stream that yields everything. */
export async function peek(input: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let len = 0;
  const it = input[Symbol.asyncIterator]();
  let done = false;
  while (len < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = Buffer.from(r.value as Buffer);
    chunks.push(b);
    len += b.length;
  }
  const head = Buffer.concat(chunks);
  const out = new PassThrough();
  out.write(head);
  if (done) out.end();
  else {
    void (async () => {
      try {
        for (;;) {
          const r = await it.next();
          if (r.done) break;
          if (!out.write(r.value)) await new Promise((res) => out.once('drain', res));
        }
        out.end();
      } catch (err) {
        out.destroy(err as Error);
      }
    })();
  }
  return { head, stream: out };
}

/**
 * Unpack a context (a tar, optionally gzip-compressed, or a bare Dockerfile) into `dir`. Entries
 * whose names leave the context, hard links to outside it and device nodes are refused
 * (invalid-argument); symlinks are kept as links, resolved later only inside the context.
 * `.dockerignore` is applied here as well as by the client, so a tar from any client is filtered.
 */
export async function unpackContext(input: Readable, spillDir: string, opts: { dockerfile: string; signal?: AbortSignal }): Promise<BuildContext> {
  const fs = new MemFS();
  let { head, stream } = await peek(input, 512);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    ({ head, stream } = await peek(stream.pipe(createGunzip()), 512));
  }
  const isTar = head.length >= 262 && head.subarray(257, 262).toString() === 'ustar';
  const now = new Date();
  if (!isTar) {
    // compat: dockerd accepts a bare Dockerfile as the body (`docker build - < Dockerfile`)
    const text = await readAll(stream);
    if (text.length === 0) throw invalid('the build context is empty');
    fs.put(opts.dockerfile === '-' ? 'Dockerfile' : contextPath(opts.dockerfile), { stat: { type: 'file', mode: 0o644, mtime: now, size: text.length }, data: text });
    return { fs };
  }
  const ex = tar.extract();
  let held = 0;
  let spills = 0;
  ex.on('entry', (h, body, next) => {
    const done = (err?: unknown): void => (err ? ex.destroy(err as Error) : next());
    void (async () => {
      const rel = contextPath(h.name);
      if (!rel) {
        body.resume();
        return;
      }
      const stat = { mode: (h.mode ?? 0o644) & 0o7777, mtime: h.mtime ?? now, size: h.size ?? 0 };
      switch (h.type) {
        case 'directory':
          fs.put(rel, { stat: { ...stat, type: 'dir' } });
          body.resume();
          break;
        case 'file':
        case 'contiguous-file': {
          const hash = createHash('sha256');
          if (stat.size <= SMALL_FILE && held + stat.size <= MEMORY_LIMIT) {
            const chunks: Buffer[] = [];
            for await (const c of body) chunks.push(c as Buffer);
            const data = Buffer.concat(chunks);
            held += data.length;
            fs.put(rel, { stat: { ...stat, type: 'file', size: data.length }, data, digest: hash.update(data).digest('hex') });
          } else {
            await mkdir(spillDir, { recursive: true, mode: 0o700 });
            const spill = join(spillDir, String(spills++));
            await pipeline(body, new Transform({ transform(c, _e, cb) { hash.update(c as Buffer); cb(null, c); } }), createWriteStream(spill, { mode: 0o600 }));
            fs.put(rel, { stat: { ...stat, type: 'file' }, spill, digest: hash.digest('hex') });
          }
          break;
        }
        case 'symlink':
          fs.put(rel, { stat: { ...stat, type: 'symlink' }, linkname: h.linkname ?? '' });
          body.resume();
          break;
        case 'link': {
          const target = fs.get(contextPath(h.linkname ?? ''));
          if (!target || target.stat.type !== 'file') throw invalid(`invalid build context: hard link ${h.name} to a missing file ${h.linkname}`);
          fs.put(rel, { stat: target.stat, data: target.data, spill: target.spill, digest: target.digest });
          body.resume();
          break;
        }
        default:
          throw invalid(`invalid build context: unsupported entry type ${h.type} for ${h.name}`);
      }
    })().then(() => done(), done);
  });
  try {
    await pipeline(stream, ex, { signal: opts.signal });
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw invalid(`invalid build context: ${(err as Error).message}`);
  }
  await applyDockerignore(fs, opts.dockerfile);
  return { fs };
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Patterns of a .dockerignore file: comments and blank lines dropped, as docker reads them. */
export function readIgnorePatterns(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/**
 * Remove what `.dockerignore` excludes. The Dockerfile and .dockerignore themselves are kept
 * (docker sends them regardless). Patterns cannot reach outside the context: only paths in it
 * are tested.
 */
async function applyDockerignore(fs: MemFS, dockerfile: string): Promise<void> {
  const text = (await fs.read('.dockerignore'))?.toString('utf8');
  if (text === undefined) return;
  const ig = ignore().add(readIgnorePatterns(text));
  const keep = new Set(['.dockerignore', contextPath(dockerfile)]);
  // deepest first, so a directory emptied by its exclusions can go too
  for (const p of fs.paths().reverse()) {
    if (keep.has(p) || !ig.ignores(p)) continue;
    // a directory may be excluded while some of its content is re-included with `!`
    if (fs.lstat(p)?.type === 'dir' && fs.readdir(p).length) continue;
    fs.remove(p);
  }
}
