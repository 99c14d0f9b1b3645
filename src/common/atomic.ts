import { open, rename, mkdir, unlink, rm, readdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** fsync a directory so a rename inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A temp path next to `target`, in the same directory (so rename is atomic). */
export const tempPathFor = (target: string): string =>
  join(dirname(target), `.tmp-${basename(target)}-${randomBytes(6).toString('hex')}`);

/** Write a whole file atomically: temp file, fsync, rename, fsync dir. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmp, target);
  await fsyncDir(dirname(target));
}

/**
 * Remove a directory tree off the caller's critical path: rename it to a `.trash-*` sibling (atomic,
 * same file system) and delete that in the background. What a crash leaves is swept by `sweepTrash`.
 */
export async function discard(path: string): Promise<void> {
  const trash = join(dirname(path), `.trash-${randomBytes(6).toString('hex')}-${basename(path)}`);
  try {
    await rename(path, trash);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return;
    throw err;
  }
  void rm(trash, { recursive: true, force: true }).catch(() => {});
}

/** Delete `.trash-*` entries that `discard` left in `dir` (after a crash). */
export async function sweepTrash(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith('.trash-')).map((n) => rm(join(dir, n), { recursive: true, force: true })));
}
