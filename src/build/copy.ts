// COPY and ADD: source matching, content checksums for the cache, and copying into a rootfs.
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, copyFile, lchown, lstat, mkdir, readdir, readlink, rm, stat, symlink, utimes } from 'node:fs/promises';
import { posix, join } from 'node:path';
import picomatch from 'picomatch';
import { invalid, isErrno } from '../common/index.ts';
import { PathEscapeError, resolveInRoot } from './scoped-path.ts';

/** Where COPY reads from: the context (strict: nothing outside) or a stage's or image's rootfs. */
export interface CopySource {
  root: string;
  scope: 'strict' | 'chroot';
  /** Known content digests (the context's, computed while unpacking). */
  digests?: Map<string, string>;
  /** How errors name the source, e.g. "build context". */
  label: string;
}

export interface CopyOwner { uid: number; gid: number }

const hasGlob = (p: string): boolean => /[*?[\\]/.test(p);

/** Every path under `rel` (not following links), relative to the source root. */
async function walk(root: string, rel: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(join(root, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    out.push(p);
    if (e.isDirectory()) await walk(root, p, out);
  }
}

/**
 * The source-relative paths named by COPY's sources, globs expanded (Go filepath.Match rules:
 * `*` stays within one path element). A source that leaves the context is refused with docker's
 * `forbidden path outside the build context`; one that matches nothing fails as docker's does.
 */
export async function matchSources(src: CopySource, patterns: string[], verb: string): Promise<string[]> {
  const out: string[] = [];
  let all: string[] | undefined;
  for (const raw of patterns) {
    const pattern = posix.normalize('/' + raw).slice(1).replace(/\/$/, '');
    if (src.scope === 'strict' && (raw === '..' || raw.startsWith('../') || posix.normalize(raw).startsWith('../'))) {
      throw invalid(`${verb} failed: forbidden path outside the build context: ${raw} ()`);
    }
    if (!hasGlob(pattern)) {
      let host: string;
      try {
        host = await resolveInRoot(src.root, pattern, { scope: src.scope, followFinal: true });
      } catch (err) {
        if (err instanceof PathEscapeError) throw invalid(`${verb} failed: forbidden path outside the build context: ${raw} ()`);
        throw err;
      }
      const st = await lstat(host).catch(() => null);
      if (!st) throw invalid(`${verb} failed: file not found in ${src.label} or excluded by .dockerignore: stat ${pattern || '.'}: file does not exist`);
      out.push(posix.relative(src.root, host));
      continue;
    }
    all ??= await (async () => {
      const list: string[] = [];
      await walk(src.root, '', list);
      return list;
    })();
    const re = picomatch(pattern, { dot: true, nobrace: true, noextglob: true });
    const hits = all.filter((p) => re(p));
    if (!hits.length) throw invalid(`${verb} failed: no source files were specified`);
    out.push(...hits);
  }
  return out;
}

/**
 * A digest of the sources' names, types, modes, link targets and contents: COPY's cache key
 * (modification times are left out, as docker does, so a fresh checkout still hits the cache).
 * `changed` receives each path's own digest, for --explain-cache.
 */
export async function checksumSources(src: CopySource, paths: string[], files?: Map<string, string>): Promise<string> {
  const h = createHash('sha256');
  // synchronous metadata reads: a COPY of a few hundred small files is hashed in a few ms
  const visit = async (rel: string, name: string): Promise<void> => {
    const abs = join(src.root, rel);
    const st = lstatSync(abs);
    let one: string;
    if (st.isDirectory()) {
      one = `d ${st.mode & 0o7777}`;
      h.update(`${name}\0${one}\n`);
      const kids = readdirSync(abs).sort();
      for (const k of kids) await visit(`${rel}/${k}`.replace(/^\//, ''), `${name}/${k}`);
      return;
    }
    if (st.isSymbolicLink()) one = `l ${readlinkSync(abs)}`;
    else if (st.isFile()) one = `f ${st.mode & 0o7777} ${src.digests?.get(rel) ?? (await fileDigest(abs))}`;
    else one = `o ${st.mode}`;
    h.update(`${name}\0${one}\n`);
    files?.set(name, createHash('sha256').update(one).digest('hex').slice(0, 16));
  };
  for (const p of paths) await visit(p, p || '.');
  return h.digest('hex');
}

async function fileDigest(abs: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(abs)) h.update(c as Buffer);
  return h.digest('hex');
}

/** Parse `--chmod` (octal only, as the classic builder). */
export function parseChmod(s: string | undefined): number | undefined {
  if (!s) return undefined;
  if (!/^[0-7]{3,4}$/.test(s)) throw invalid(`invalid chmod parameter: ${s}`);
  return parseInt(s, 8);
}

/**
 * Copy the sources into `rootfs` at `dest` (absolute in the image). A directory source copies
 * its contents; with several sources, or a `dest` ending in `/`, files land inside `dest`.
 * Paths in the rootfs are resolved inside it, so an image's symlinks cannot send writes to the
 * host. New files and directories get `owner`; files keep their mode unless `mode` is given.
 */
export async function copyInto(src: CopySource, paths: string[], rootfs: string, dest: string, opts: { owner: CopyOwner; mode?: number; verb: string }): Promise<void> {
  const destIsDir = dest.endsWith('/') || paths.length > 1;
  const destHost = await resolveInRoot(rootfs, dest, { scope: 'chroot', followFinal: true });
  const destStat = await stat(destHost).catch(() => null);
  for (const p of paths) {
    const abs = join(src.root, p);
    const st = await lstat(abs);
    if (st.isDirectory()) {
      await mkdirOwned(rootfs, dest, opts.owner);
      await copyTree(abs, await resolveInRoot(rootfs, dest, { scope: 'chroot', followFinal: true }), opts);
      continue;
    }
    let target: string;
    if (destIsDir || destStat?.isDirectory()) {
      await mkdirOwned(rootfs, dest, opts.owner);
      const dir = await resolveInRoot(rootfs, dest, { scope: 'chroot', followFinal: true });
      target = join(dir, posix.basename(p));
    } else {
      await mkdirOwned(rootfs, posix.dirname(dest), opts.owner);
      target = destHost;
    }
    await copyOne(abs, st, target, opts);
  }
}

/** mkdir -p inside the rootfs; directories made here get `owner` and mode 0755. */
export async function mkdirOwned(rootfs: string, path: string, owner: CopyOwner): Promise<void> {
  const parts = posix.normalize('/' + path).split('/').filter(Boolean);
  let cur = '/';
  for (const part of parts) {
    cur = posix.join(cur, part);
    const host = await resolveInRoot(rootfs, cur, { scope: 'chroot', followFinal: true });
    const st = await stat(host).catch(() => null);
    if (st?.isDirectory()) continue;
    if (st) throw invalid(`mkdir ${cur}: not a directory`);
    await mkdir(host, { mode: 0o755 });
    await chmod(host, 0o755);
    await lchown(host, owner.uid, owner.gid);
  }
}

async function copyOne(abs: string, st: import('node:fs').Stats, target: string, opts: { owner: CopyOwner; mode?: number }): Promise<void> {
  const existing = await lstat(target).catch(() => null);
  if (existing && (existing.isDirectory() !== st.isDirectory() || existing.isSymbolicLink())) await rm(target, { recursive: true, force: true });
  if (st.isSymbolicLink()) {
    await rm(target, { force: true });
    await symlink(await readlink(abs), target);
    await lchown(target, opts.owner.uid, opts.owner.gid);
    return;
  }
  if (st.isFile()) {
    await copyFile(abs, target);
    await chmod(target, opts.mode ?? st.mode & 0o7777);
    await lchown(target, opts.owner.uid, opts.owner.gid);
    await utimes(target, st.atime, st.mtime);
    return;
  }
  // devices, fifos and sockets in a source are skipped, as in a tar context they cannot occur
}

async function copyTree(from: string, to: string, opts: { owner: CopyOwner; mode?: number }): Promise<void> {
  for (const e of await readdir(from, { withFileTypes: true })) {
    const a = join(from, e.name);
    const b = join(to, e.name);
    const st = await lstat(a);
    if (st.isDirectory()) {
      const have = await lstat(b).catch((err: unknown) => {
        if (isErrno(err, 'ENOENT')) return null;
        throw err;
      });
      if (have && !have.isDirectory()) await rm(b, { force: true });
      if (!have?.isDirectory()) await mkdir(b);
      await chmod(b, opts.mode ?? st.mode & 0o7777);
      await lchown(b, opts.owner.uid, opts.owner.gid);
      await copyTree(a, b, opts);
      await utimes(b, st.atime, st.mtime);
    } else {
      await copyOne(a, st, b, opts);
    }
  }
}
