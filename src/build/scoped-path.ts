// Resolving a path inside a tree, following symlinks without leaving the tree.
import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';

const MAX_LINKS = 255;

export class PathEscapeError extends Error {}

/** What resolution needs of a tree: whether a relative path is a link, and its target. */
export interface LinkReader {
  isLink(rel: string): boolean;
  readlink(rel: string): string;
}

/**
 * `path` resolved inside a tree, as a relative path ('' is the root), every symlink on the way
 * resolved inside it. `scope: 'chroot'` treats absolute link targets and `..` past the top as the
 * root itself, as a rootfs is seen from inside (Go's FollowSymlinkInScope); `scope: 'strict'`
 * refuses any link or `..` that leaves the tree (a build context), throwing PathEscapeError. The
 * last component is followed only when `followFinal`. Missing components are kept as written.
 */
export function resolveIn(tree: LinkReader, path: string, opts: { scope: 'chroot' | 'strict'; followFinal: boolean }): string {
  const pending = posix.normalize('/' + path).split('/').filter(Boolean);
  if (opts.scope === 'strict' && (path === '..' || path.startsWith('../') || posix.normalize(path).startsWith('../'))) throw new PathEscapeError(path);
  const done: string[] = [];
  let links = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      if (!done.length && opts.scope === 'strict') throw new PathEscapeError(path);
      done.pop();
      continue;
    }
    const rel = [...done, part].join('/');
    if ((!pending.length && !opts.followFinal) || !tree.isLink(rel)) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`too many levels of symbolic links: ${path}`);
    const target = tree.readlink(rel);
    if (target.startsWith('/')) {
      if (opts.scope === 'strict') throw new PathEscapeError(path);
      done.length = 0;
    }
    pending.unshift(...target.split('/').filter(Boolean));
  }
  return done.join('/');
}

/** A host directory as a LinkReader. */
export function hostLinks(root: string): LinkReader {
  return {
    isLink: (rel) => lstatSync(posix.join(root, rel), { throwIfNoEntry: false })?.isSymbolicLink() ?? false,
    readlink: (rel) => readlinkSync(posix.join(root, rel)),
  };
}

/** The host path of `path` inside the directory `root` (see resolveIn). */
export function resolveInRoot(root: string, path: string, opts: { scope: 'chroot' | 'strict'; followFinal: boolean }): string {
  return posix.join(root, resolveIn(hostLinks(root), path, opts));
}
