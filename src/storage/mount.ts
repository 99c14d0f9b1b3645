// Performing the mounts layer stores describe. mount(2) through koffi is synchronous (~0.2 ms).
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { BerthError, wrap } from '../common/index.ts';
import { MNT_DETACH, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, MS_REMOUNT, mount, SysError, umount, umountAsync } from '../sys/index.ts';
import type { Mount } from './layer-store.ts';

/** mount(2) data is copied into one page: longer overlay options fail with EINVAL. */
export const MOUNT_DATA_MAX = 4095;

const FLAGS: Record<string, number> = { ro: MS_RDONLY, nosuid: MS_NOSUID, nodev: MS_NODEV, noexec: MS_NOEXEC };

function targetOf(m: Mount, target: string): string {
  if (m.target === undefined || m.target === '' || m.target === '/') return target;
  const rel = normalize(m.target).replace(/^\/+/, '');
  if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) throw new BerthError('invalid-argument', `mount target escapes ${target}: ${m.target}`);
  return join(target, rel);
}

/**
 * Perform `mounts` in order at `target` (a Mount's own `target` is relative to it). On failure the
 * mounts already made are undone. overlay: options go to mount(2) as data ('ro' and the MS_* words
 * become flags); bind: 'rbind' is recursive, 'ro' is applied with a remount.
 */
export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  const done: string[] = [];
  try {
    for (const m of mounts) {
      const at = targetOf(m, target);
      let flags = 0;
      const data: string[] = [];
      for (const o of m.options) {
        if (FLAGS[o] !== undefined) flags |= FLAGS[o];
        else if (o !== 'rw' && o !== 'bind' && o !== 'rbind') data.push(o);
      }
      if (m.type === 'bind') {
        const bind = MS_BIND | (m.options.includes('rbind') ? MS_REC : 0);
        mount(m.source, at, null, bind, null);
        done.push(at);
        // The kernel ignores MS_RDONLY and friends on the first bind: they take a remount.
        if (flags) mount(m.source, at, null, MS_BIND | MS_REMOUNT | flags, null);
      } else {
        const joined = data.join(',');
        if (Buffer.byteLength(joined) > MOUNT_DATA_MAX) {
          throw new BerthError('invalid-argument', `mount options for ${at} exceed one page (${Buffer.byteLength(joined)} bytes): too many layers`);
        }
        mount(m.source, at, m.type, flags, joined);
        done.push(at);
      }
    }
  } catch (err) {
    for (const at of done.reverse()) await unmount(at).catch(() => {});
    throw err instanceof BerthError ? err : wrap(err, `mount ${target}`);
  }
}

/**
 * Unmount everything mounted at `target` (stacked mounts too); lazily when busy, or always with
 * `lazy` (a detach returns at once: for short-lived mounts nobody else holds). No-op when nothing
 * is mounted.
 */
export async function unmount(target: string, opts: { lazy?: boolean } = {}): Promise<void> {
  for (let i = 0; i < 64; i++) {
    try {
      await umountAsync(target, opts.lazy ? MNT_DETACH : 0);
    } catch (err) {
      if (!(err instanceof SysError)) throw err;
      if (err.code === 'EINVAL' || err.code === 'ENOENT') return; // not a mount point (any more)
      if (err.code !== 'EBUSY') throw wrap(err, `unmount ${target}`);
      umount(target, MNT_DETACH);
    }
  }
  throw new BerthError('internal', `unmount ${target}: still mounted`);
}
