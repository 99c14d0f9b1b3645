// Resolving a path inside a root directory, following symlinks without leaving the root.
import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { isErrno } from '../common/index.ts';

const MAX_LINKS = 255;

export class PathEscapeError extends Error {}

/**
 * The host path of `path` inside `root`, with every symlink on the way resolved inside `root`.
 * `scope: 'chroot'` treats absolute link targets and `..` past the top as the root itself, as a
 * rootfs is seen from inside (Go's FollowSymlinkInScope); `scope: 'strict'` refuses any link or
 * `..` that leaves the root (a build context), throwing PathEscapeError. The last component is
 * followed only when `followFinal`. Components that do not exist are kept as written.
 */
export async function resolveInRoot(root: string, path: string, opts: { scope: 'chroot' | 'strict'; followFinal: boolean }): Promise<string> {
  const pending = posix.normalize('/' + path).split('/').filter(Boolean);
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
    const rel = [...done, part];
    const host = posix.join(root, ...rel);
    if (!pending.length && !opts.followFinal) {
      done.push(part);
      break;
    }
    let st;
    try {
      st = await lstat(host);
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) {
        done.push(part);
        continue;
      }
      throw err;
    }
    if (!st.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`too many levels of symbolic links: ${path}`);
    const target = await readlink(host);
    if (target.startsWith('/')) {
      if (opts.scope === 'strict') throw new PathEscapeError(path);
      done.length = 0;
    }
    pending.unshift(...target.split('/').filter(Boolean));
  }
  return posix.join(root, ...done);
}
