import { lstat, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { BerthError, isErrno } from '../common/index.ts';

const inside = (root: string, p: string): boolean => p === root || p.startsWith(root + sep);

/**
 * Refuse a rootfs that would make the runtime act outside it. The runc here lacks the 2025 fixes
 * (CVE-2025-31133, -52565, -52881): a `/dev` (or `/proc`, `/sys`, or any mount destination) that
 * is a symlink out of the rootfs made runc create files on the host. `/dev`, `/proc` and `/sys`
 * may not be symlinks at all; other destinations may not resolve, as the host kernel would follow
 * them, to a place outside the rootfs.
 */
export async function checkRootfs(rootfs: string, mountDestinations: string[]): Promise<void> {
  const root = await realpath(rootfs);
  for (const special of ['/dev', '/proc', '/sys']) {
    try {
      const st = await lstat(join(root, special));
      if (st.isSymbolicLink()) throw new BerthError('invalid-argument', `unsafe rootfs: ${special} is a symlink`);
      if (!st.isDirectory()) throw new BerthError('invalid-argument', `unsafe rootfs: ${special} is not a directory`);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }
  for (const dest of mountDestinations) {
    // Walk each existing prefix: a symlink anywhere on the way that the host would follow out of the root is refused.
    const parts = dest.split('/').filter((p) => p && p !== '.');
    let cur = root;
    for (const part of parts) {
      if (part === '..') throw new BerthError('invalid-argument', `unsafe mount destination ${dest}: contains ..`);
      cur = join(cur, part);
      let st;
      try {
        st = await lstat(cur);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) break;
        throw err;
      }
      if (st.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(cur);
        } catch (err) {
          if (isErrno(err, 'ENOENT')) throw new BerthError('invalid-argument', `unsafe mount destination ${dest}: dangling symlink in the rootfs`);
          throw err;
        }
        if (!inside(root, target)) throw new BerthError('invalid-argument', `unsafe mount destination ${dest}: symlink leads out of the rootfs`);
        cur = target;
      }
    }
  }
}
