// COPY and ADD: source matching, content checksums for the cache, and copying into a rootfs.
// Writes into the rootfs use synchronous calls: a COPY is many small files, and each awaited
// call would cost a thread-pool round trip.
import { createHash } from 'node:crypto';
import { chmodSync, lchownSync, lstatSync, mkdirSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { posix, join } from 'node:path';
import picomatch from 'picomatch';
import { invalid } from '../common/index.ts';
import { PathEscapeError, resolveIn, resolveInRoot, type LinkReader } from './scoped-path.ts';
import type { SourceFS } from './source-fs.ts';

export interface CopyOwner { uid: number; gid: number }

const hasGlob = (p: string): boolean => /[*?[\\]/.test(p);

const links = (src: SourceFS): LinkReader => ({ isLink: (rel) => src.lstat(rel)?.type === 'symlink', readlink: (rel) => src.readlink(rel) });

/** Every path under `rel` (not following links), relative to the tree's root. */
function walk(src: SourceFS, rel: string, out: string[]): void {
  for (const name of src.readdir(rel)) {
    const p = rel ? `${rel}/${name}` : name;
    out.push(p);
    if (src.lstat(p)?.type === 'dir') walk(src, p, out);
  }
}

/**
 * The tree-relative paths named by COPY's sources, globs expanded (Go filepath.Match rules: `*`
 * stays within one path element). A source that leaves the context is refused with docker's
 * `forbidden path outside the build context`; one that matches nothing fails as docker's does.
 */
export function matchSources(src: SourceFS, patterns: string[], verb: string): string[] {
  const out: string[] = [];
  let all: string[] | undefined;
  const forbidden = (raw: string): Error => invalid(`${verb} failed: forbidden path outside the build context: ${raw} ()`);
  for (const raw of patterns) {
    const pattern = posix.normalize('/' + raw).slice(1).replace(/\/$/, '');
    if (!hasGlob(pattern)) {
      let rel: string;
      try {
        rel = resolveIn(links(src), src.scope === 'strict' ? raw.replace(/^\/+/, '') : pattern, { scope: src.scope, followFinal: true });
      } catch (err) {
        if (err instanceof PathEscapeError) throw forbidden(raw);
        throw err;
      }
      if (!src.lstat(rel)) throw invalid(`${verb} failed: file not found in ${src.label} or excluded by .dockerignore: stat ${pattern || '.'}: file does not exist`);
      out.push(rel);
      continue;
    }
    if (src.scope === 'strict' && posix.normalize(raw.replace(/^\/+/, '')).startsWith('../')) throw forbidden(raw);
    if (!all) {
      all = [];
      walk(src, '', all);
    }
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
 * `files` receives each path's own digest, for --explain-cache.
 */
export async function checksumSources(src: SourceFS, paths: string[], files?: Map<string, string>): Promise<string> {
  const h = createHash('sha256');
  const visit = async (rel: string, name: string): Promise<void> => {
    const st = src.lstat(rel);
    if (!st) return;
    let one: string;
    if (st.type === 'dir') {
      h.update(`${name}\0d ${st.mode}\n`);
      for (const k of src.readdir(rel)) await visit(rel ? `${rel}/${k}` : k, `${name}/${k}`);
      return;
    }
    if (st.type === 'symlink') one = `l ${src.readlink(rel)}`;
    else if (st.type === 'file') one = `f ${st.mode} ${await src.digest(rel)}`;
    else one = `o ${st.mode}`;
    h.update(`${name}\0${one}\n`);
    files?.set(name, createHash('sha256').update(one).digest('hex').slice(0, 16));
  };
  for (const p of paths) await visit(p, p || '.');
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
export async function copyInto(src: SourceFS, paths: string[], rootfs: string, dest: string, opts: { owner: CopyOwner; mode?: number }): Promise<void> {
  const destIsDir = dest.endsWith('/') || paths.length > 1;
  const destHost = resolveInRoot(rootfs, dest, { scope: 'chroot', followFinal: true });
  const destStat = statSync(destHost, { throwIfNoEntry: false });
  for (const p of paths) {
    const st = src.lstat(p)!;
    if (st.type === 'dir') {
      mkdirOwned(rootfs, dest, opts.owner);
      await copyTree(src, p, resolveInRoot(rootfs, dest, { scope: 'chroot', followFinal: true }), opts);
      continue;
    }
    let target: string;
    if (destIsDir || destStat?.isDirectory()) {
      mkdirOwned(rootfs, dest, opts.owner);
      target = join(resolveInRoot(rootfs, dest, { scope: 'chroot', followFinal: true }), posix.basename(p));
    } else {
      mkdirOwned(rootfs, posix.dirname(dest), opts.owner);
      target = destHost;
    }
    await copyOne(src, p, target, opts);
  }
}

/** mkdir -p inside the rootfs; directories made here get `owner` and mode 0755. */
export function mkdirOwned(rootfs: string, path: string, owner: CopyOwner): void {
  const parts = posix.normalize('/' + path).split('/').filter(Boolean);
  let cur = '/';
  for (const part of parts) {
    cur = posix.join(cur, part);
    const host = resolveInRoot(rootfs, cur, { scope: 'chroot', followFinal: true });
    const st = statSync(host, { throwIfNoEntry: false });
    if (st?.isDirectory()) continue;
    if (st) throw invalid(`mkdir ${cur}: not a directory`);
    mkdirSync(host, { mode: 0o755 });
    chmodSync(host, 0o755);
    lchownSync(host, owner.uid, owner.gid);
  }
}

async function copyOne(src: SourceFS, rel: string, target: string, opts: { owner: CopyOwner; mode?: number }): Promise<void> {
  const st = src.lstat(rel)!;
  const existing = lstatSync(target, { throwIfNoEntry: false });
  if (existing && (existing.isDirectory() || existing.isSymbolicLink() || st.type !== 'file')) rmSync(target, { recursive: true, force: true });
  if (st.type === 'symlink') {
    symlinkSync(src.readlink(rel), target);
    lchownSync(target, opts.owner.uid, opts.owner.gid);
    return;
  }
  if (st.type !== 'file') return; // devices, fifos and sockets are not copied
  if (existing?.isFile()) rmSync(target, { force: true });
  await src.copyTo(rel, target);
  chmodSync(target, opts.mode ?? st.mode);
  lchownSync(target, opts.owner.uid, opts.owner.gid);
  utimesSync(target, st.mtime, st.mtime);
}

async function copyTree(src: SourceFS, from: string, to: string, opts: { owner: CopyOwner; mode?: number }): Promise<void> {
  for (const name of src.readdir(from)) {
    const a = from ? `${from}/${name}` : name;
    const b = join(to, name);
    const st = src.lstat(a)!;
    if (st.type === 'dir') {
      const have = lstatSync(b, { throwIfNoEntry: false });
      if (have && !have.isDirectory()) rmSync(b, { force: true });
      if (!have?.isDirectory()) mkdirSync(b);
      chmodSync(b, opts.mode ?? st.mode);
      lchownSync(b, opts.owner.uid, opts.owner.gid);
      await copyTree(src, a, b, opts);
      utimesSync(b, st.mtime, st.mtime);
    } else {
      await copyOne(src, a, b, opts);
    }
  }
}
