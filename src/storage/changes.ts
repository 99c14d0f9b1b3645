// `docker diff` for both drivers. Paths are absolute ("/etc/passwd") and sorted, as Docker reports
// them. compat: a directory holding any change is reported C when it exists below, as Docker does
// (so permissions of parents are carried into a committed layer).
import type { Stats } from 'node:fs';
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isErrno } from '../common/index.ts';
import { lgetxattr } from '../sys/index.ts';
import { OPAQUE_XATTR } from './apply-layer.ts';
import type { Change } from './layer-store.ts';

const sorted = (changes: Change[]): Change[] => changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

// Walks use synchronous metadata calls: a diff is mostly many small entries, and an awaited call
// costs a thread-pool round trip each (~1 ms here). `breathe` yields to the event loop now and
// then so a huge tree does not stall other requests.
let sinceYield = 0;
async function breathe(): Promise<void> {
  if (++sinceYield < 256) return;
  sinceYield = 0;
  await new Promise<void>((r) => setImmediate(r));
}

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return lstatSync(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return null;
    throw err;
  }
}

async function list(dir: string): Promise<string[]> {
  await breathe();
  return readdirSync(dir).sort();
}

export const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;
// koffi calls are synchronous; a getxattr is a single short syscall.
export const isOpaque = (abs: string): boolean => lgetxattr(abs, OPAQUE_XATTR)?.toString() === 'y';

/**
 * What `rel` is in a stack of overlay lower dirs (top first), honouring whiteouts and opaque dirs
 * inside the stack: its Stats, or null when absent.
 */
export async function lookupLower(lowers: string[], rel: string, memo?: LowerMemo): Promise<Stats | null> {
  const parts = rel.split('/').filter(Boolean);
  const stat = async (p: string): Promise<Stats | null> => {
    if (!memo) return lstatOrNull(p);
    let st = memo.stats.get(p);
    if (st === undefined) memo.stats.set(p, (st = await lstatOrNull(p)));
    return st;
  };
  const opaque = (p: string): boolean => {
    if (!memo) return isOpaque(p);
    let o = memo.opaque.get(p);
    if (o === undefined) memo.opaque.set(p, (o = isOpaque(p)));
    return o;
  };
  for (const layer of lowers) {
    let cur = layer;
    let hidden = false;
    for (let i = 0; i < parts.length; i++) {
      cur = join(cur, parts[i]!);
      const st = await stat(cur);
      if (!st) break;
      if (isWhiteout(st)) return null;
      if (i === parts.length - 1) return st;
      if (!st.isDirectory()) return null; // a file here shadows the path in the layers below
      if (opaque(cur)) hidden = true;
    }
    if (hidden) return null;
  }
  return null;
}

/** Lookups shared by one walk: siblings repeat their parents' lstat and opaque checks in every lower. */
export interface LowerMemo { stats: Map<string, Stats | null>; opaque: Map<string, boolean> }

/** Changes recorded in an overlay upper dir against its lower dirs (top first). */
export async function overlayChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const out: Change[] = [];
  const memo: LowerMemo = { stats: new Map(), opaque: new Map() };
  async function walk(rel: string): Promise<boolean> {
    let any = false;
    for (const name of await list(join(upper, rel))) {
      const childRel = `${rel}/${name}`;
      const abs = join(upper, childRel);
      const st = lstatSync(abs);
      if (isWhiteout(st)) {
        out.push({ kind: 'D', path: childRel });
        any = true;
        continue;
      }
      const below = await lookupLower(lowers, childRel, memo);
      if (!st.isDirectory()) {
        out.push({ kind: below ? 'C' : 'A', path: childRel });
        any = true;
        continue;
      }
      const inner = await walk(childRel);
      if (!below) out.push({ kind: 'A', path: childRel });
      else if (inner || isOpaque(abs) || metaDiffers(st, below, true)) out.push({ kind: 'C', path: childRel });
      else continue;
      any = true;
    }
    return any;
  }
  await walk('');
  return sorted(out);
}

function metaDiffers(a: Stats, b: Stats, dir: boolean): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.rdev !== b.rdev) return true;
  // compat: Docker ignores size and times of directories.
  return !dir && (a.size !== b.size || a.mtimeMs !== b.mtimeMs);
}

/** Changes between two full trees (vfs): `newDir` against `oldDir` (null: everything is added). */
export async function dirChanges(newDir: string, oldDir: string | null): Promise<Change[]> {
  const out: Change[] = [];
  async function walk(rel: string, oldExists: boolean): Promise<boolean> {
    let any = false;
    const names = await list(join(newDir, rel));
    for (const name of names) {
      const childRel = `${rel}/${name}`;
      const st = lstatSync(join(newDir, childRel));
      const old = oldExists && oldDir !== null ? await lstatOrNull(join(oldDir, childRel)) : null;
      const isDir = st.isDirectory();
      const inner = isDir ? await walk(childRel, old?.isDirectory() ?? false) : false;
      if (!old) out.push({ kind: 'A', path: childRel });
      else if (inner || metaDiffers(st, old, isDir && old.isDirectory()) || (st.isSymbolicLink() && readlinkSync(join(newDir, childRel)) !== readlinkSync(join(oldDir!, childRel))))
        out.push({ kind: 'C', path: childRel });
      else continue;
      any = true;
    }
    if (oldExists && oldDir !== null) {
      const present = new Set(names);
      for (const name of await list(join(oldDir, rel))) {
        if (present.has(name)) continue;
        out.push({ kind: 'D', path: `${rel}/${name}` });
        any = true;
      }
    }
    return any;
  }
  await walk('', oldDir !== null);
  return sorted(out);
}
