// `--chown` for COPY and ADD: names resolved in the image's own /etc/passwd and /etc/group.
import { invalid, messageOf } from '../common/index.ts';
import { resolveUser } from '../runtime/index.ts';
import type { CopyOwner } from './copy.ts';

/** `user`, `uid`, `user:group` or `uid:gid`; a user alone gives its primary group, a number alone gid = uid. */
export async function resolveOwner(rootfs: string, chown: string): Promise<CopyOwner> {
  const [u = '', g] = chown.split(':', 2);
  try {
    if (/^\d+$/.test(u) && (g === undefined || /^\d+$/.test(g))) return { uid: Number(u), gid: Number(g ?? u) };
    const r = await resolveUser(rootfs, chown);
    return { uid: r.uid, gid: g === undefined && /^\d+$/.test(u) ? Number(u) : r.gid };
  } catch (err) {
    throw invalid(`unable to convert uid/gid chown string to host mapping: ${messageOf(err)}`);
  }
}
