import { readFile, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { BerthError } from '../common/index.ts';

/** Read a file of the container's rootfs without following a symlink out of it. undefined when absent. */
export async function readInRoot(rootfs: string, path: string): Promise<string | undefined> {
  try {
    const root = await realpath(rootfs);
    const real = await realpath(join(root, path));
    if (real !== root && !real.startsWith(root + sep)) return undefined;
    return await readFile(real, 'utf8');
  } catch {
    return undefined;
  }
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

/**
 * Resolve Docker's `-u` forms (`name`, `uid`, `name:group`, `uid:gid`) against the rootfs's
 * /etc/passwd and /etc/group, as Docker does: an unknown name is an error, an unknown number is fine.
 */
export async function resolveUser(rootfs: string, user: string, groupAdd: string[] = []): Promise<ResolvedUser> {
  const passwd = parseColon(await readInRoot(rootfs, '/etc/passwd'));
  const groups = parseColon(await readInRoot(rootfs, '/etc/group'));
  const [u = '', g] = user.split(':', 2);
  let uid = 0;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  if (u === '') {
    const root = passwd.find((p) => p[2] === '0');
    name = root?.[0] ?? 'root';
    home = root?.[5] ?? '/root';
  } else if (/^\d+$/.test(u)) {
    uid = Number(u);
    const ent = passwd.find((p) => Number(p[2]) === uid);
    if (ent) {
      gid = Number(ent[3]);
      home = ent[5] ?? '/';
      name = ent[0];
    }
  } else {
    const ent = passwd.find((p) => p[0] === u);
    if (!ent) throw new BerthError('invalid-argument', `unable to find user ${u}: no matching entries in passwd file`);
    uid = Number(ent[2]);
    gid = Number(ent[3]);
    home = ent[5] ?? '/';
    name = u;
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const ent = groups.find((x) => x[0] === g);
      if (!ent) throw new BerthError('invalid-argument', `unable to find group ${g}: no matching entries in group file`);
      gid = Number(ent[2]);
    }
  }
  const additional = new Set<number>();
  if (name && g === undefined) for (const grp of groups) if ((grp[3] ?? '').split(',').includes(name)) additional.add(Number(grp[2]));
  for (const ga of groupAdd) {
    if (/^\d+$/.test(ga)) additional.add(Number(ga));
    else {
      const ent = groups.find((x) => x[0] === ga);
      if (!ent) throw new BerthError('invalid-argument', `Unable to find group ${ga}: no matching entries in group file`);
      additional.add(Number(ent[2]));
    }
  }
  additional.delete(gid);
  // compat: docker lists the primary group first among the supplementary ones (`id` shows groups=<gid>,…)
  return { uid, gid, additionalGids: [gid, ...additional], home };
}

function parseColon(text: string | undefined): string[][] {
  if (!text) return [];
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}
