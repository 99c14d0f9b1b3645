// The build context: a tar stream unpacked into a private directory, hostile entries refused.
import { createHash } from 'node:crypto';
import { chmodSync, createWriteStream, linkSync, lstatSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import dockerignore from '@balena/dockerignore';

// the package is CommonJS (`module.exports = factory`): its default import is the factory itself
const ignore = ((dockerignore as unknown as { default?: typeof dockerignore }).default ?? dockerignore) as unknown as () => { add(p: string[]): { ignores(p: string): boolean } };
import { BerthError, invalid } from '../common/index.ts';

/** Files up to this size are buffered and written in one call. */
const SMALL_FILE = 1 << 20;

export interface BuildContext {
  /** Host directory holding the context's files. */
  root: string;
  /** sha256 of each regular file's content, by context-relative path. */
  digests: Map<string, string>;
}

/** A context-relative path, normalised; throws for paths that leave the context. */
export function contextPath(name: string): string {
  const n = posix.normalize(name.replace(/^\/+/, ''));
  if (n === '..' || n.startsWith('../')) throw invalid(`invalid build context: path escapes the context: ${name}`);
  return n === '.' ? '' : n.replace(/\/$/, '').replace(/^\.\//, '');
}

/** Reads the first bytes of a stream and returns them with a stream that yields everything. */
async function peek(input: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
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
export async function unpackContext(input: Readable, dir: string, opts: { dockerfile: string; signal?: AbortSignal }): Promise<BuildContext> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const digests = new Map<string, string>();
  let { head, stream } = await peek(input, 512);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    ({ head, stream } = await peek(stream.pipe(createGunzip()), 512));
  }
  const isTar = head.length >= 262 && head.subarray(257, 262).toString() === 'ustar';
  if (!isTar) {
    // compat: dockerd accepts a bare Dockerfile as the body (`docker build - < Dockerfile`)
    const text = await readAll(stream);
    if (text.length === 0 && head.length === 0) throw invalid('the build context is empty');
    await writeFile(join(dir, opts.dockerfile === '-' ? 'Dockerfile' : posix.basename(opts.dockerfile)), text);
    return { root: dir, digests: new Map([[posix.basename(opts.dockerfile), createHash('sha256').update(text).digest('hex')]]) };
  }
  const ex = tar.extract();
  const dirTimes: [string, Date][] = [];
  const made = new Set<string>([dir]);
  const seen = new Set<string>();
  // Contexts are many small files: synchronous calls here cost microseconds where each awaited
  // call costs a thread-pool round trip (200 files took 650 ms awaited, ~20 ms like this).
  const mkdirp = (d: string): void => {
    if (made.has(d)) return;
    mkdirSync(d, { recursive: true });
    made.add(d);
  };
  const place = (abs: string): void => {
    mkdirp(posix.dirname(abs));
    if (seen.has(abs)) rmSync(abs, { recursive: true, force: true });
    seen.add(abs);
  };
  ex.on('entry', (h, body, next) => {
    const done = (err?: unknown): void => (err ? ex.destroy(err as Error) : next());
    void (async () => {
      const rel = contextPath(h.name);
      if (!rel) {
        body.resume();
        return;
      }
      const abs = join(dir, rel);
      const mode = (h.mode ?? 0o644) & 0o7777;
      switch (h.type) {
        case 'directory':
          mkdirp(abs);
          chmodSync(abs, mode);
          if (h.mtime) dirTimes.push([abs, h.mtime]);
          body.resume();
          break;
        case 'file':
        case 'contiguous-file': {
          place(abs);
          const hash = createHash('sha256');
          if ((h.size ?? 0) <= SMALL_FILE) {
            const chunks: Buffer[] = [];
            for await (const c of body) chunks.push(c as Buffer);
            const data = Buffer.concat(chunks);
            hash.update(data);
            writeFileSync(abs, data, { mode });
          } else {
            await pipeline(body, new Transform({ transform(c, _e, cb) { hash.update(c as Buffer); cb(null, c); } }), createWriteStream(abs, { mode }));
          }
          if (mode & 0o7022) chmodSync(abs, mode); // the umask may have cut group/other write bits or set-id bits
          if (h.mtime) utimesSync(abs, h.mtime, h.mtime);
          digests.set(rel, hash.digest('hex'));
          break;
        }
        case 'symlink':
          place(abs);
          symlinkSync(h.linkname ?? '', abs);
          body.resume();
          break;
        case 'link': {
          const target = contextPath(h.linkname ?? '');
          place(abs);
          const st = lstatSync(join(dir, target), { throwIfNoEntry: false });
          if (!st || !st.isFile()) throw invalid(`invalid build context: hard link ${h.name} to a missing file ${h.linkname}`);
          linkSync(join(dir, target), abs);
          const d = digests.get(target);
          if (d) digests.set(rel, d);
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
  for (const [abs, t] of dirTimes.reverse()) await utimes(abs, t, t).catch(() => {});
  await applyDockerignore(dir, digests, opts.dockerfile);
  return { root: dir, digests };
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
 * (docker sends them regardless). Patterns cannot reach outside `dir`: only paths found in it
 * are tested.
 */
async function applyDockerignore(dir: string, digests: Map<string, string>, dockerfile: string): Promise<void> {
  const text = await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => null);
  if (text === null) return;
  const ig = ignore().add(readIgnorePatterns(text));
  const keep = new Set(['.dockerignore', contextPath(dockerfile)]);
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (keep.has(p)) continue;
      if (ig.ignores(p)) {
        // a directory may be excluded while some of its content is re-included with `!`
        if (e.isDirectory()) {
          await walk(p);
          if ((await readdir(join(dir, p))).length === 0) await rm(join(dir, p), { recursive: true, force: true });
        } else {
          await rm(join(dir, p), { force: true });
          digests.delete(p);
        }
      } else if (e.isDirectory()) await walk(p);
    }
  };
  await walk('');
}
