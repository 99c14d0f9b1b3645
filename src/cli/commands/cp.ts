import { createWriteStream, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, readdir, rm, stat, symlink, utimes } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import tar from 'tar-stream';
import { ClientError } from '../../client/index.ts';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { StatusError } from '../errors.ts';
import { packLocal } from '../local-tar.ts';

const GO_DIR = 2 ** 31;

/** `container:path` → its parts; a local path (absolute, ./ or no colon) → undefined container. */
function splitArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  if (i <= 0) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** A tar of a local file or tree, its top entry renamed `name`; links are sent as links (`-L`: the top one is followed). */
function tarOf(path: string, name: string, followLink: boolean): Readable {
  return packLocal(async (w) => {
    const add = async (abs: string, rel: string, st: Stats): Promise<void> => {
      await w.add(rel, abs, st);
      if (st.isDirectory()) for (const c of (await readdir(abs)).sort()) await add(join(abs, c), `${rel}/${c}`, await lstat(join(abs, c)));
    };
    await add(path, name, followLink ? await stat(path) : await lstat(path));
  });
}

/**
 * Unpack a tar into `dir`, renaming the top entry `from` to `to` when given. Entries may not
 * climb out of `dir` (names with `..` are refused).
 */
async function untar(body: Readable, dir: string, rename?: { from: string; to: string }): Promise<void> {
  const ex = tar.extract();
  const dirTimes: [string, Date][] = [];
  ex.on('entry', (h, stream, next) => {
    void (async () => {
      let name = h.name.replace(/^\/+/, '').replace(/\/$/, '');
      if (rename && (name === rename.from || name.startsWith(`${rename.from}/`))) name = rename.to + name.slice(rename.from.length);
      if (name.split('/').includes('..')) throw new Error(`invalid tar entry: ${h.name}`);
      const abs = join(dir, name);
      await mkdir(dirname(abs), { recursive: true });
      const old = await lstat(abs).catch(() => null);
      if (old && !(old.isDirectory() && h.type === 'directory')) await rm(abs, { recursive: true, force: true });
      if (h.type === 'directory') {
        await mkdir(abs, { recursive: true });
        await chmod(abs, (h.mode ?? 0o755) & 0o7777);
        if (h.mtime) dirTimes.push([abs, h.mtime]);
        stream.resume();
      } else if (h.type === 'file') {
        await pipeline(stream, createWriteStream(abs, { mode: (h.mode ?? 0o644) & 0o7777 }));
        if (h.mtime) await utimes(abs, h.mtime, h.mtime);
      } else if (h.type === 'symlink') {
        await symlink(h.linkname ?? '', abs);
        stream.resume();
      } else stream.resume();
    })().then(() => next(), (err: unknown) => ex.destroy(err as Error));
  });
  await pipeline(body, ex);
  for (const [d, t] of dirTimes.reverse()) await utimes(d, t, t).catch(() => {});
}

/** `cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-` and `cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH`. */
export function registerCp(parent: Command, ctx: CliContext, name = 'cp'): Command {
  const cmd = verb(parent, name, '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tdocker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH', 'Copy files/folders between a container and the local filesystem', { min: 2, max: 2 });
  cmd.option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
    .option('-q, --quiet', 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached');
  return action<{ archive?: boolean; followLink?: boolean }>(cmd, async ([srcArg = '', dstArg = ''], o) => {
    const src = splitArg(srcArg);
    const dst = splitArg(dstArg);
    if (src.container && dst.container) throw new StatusError('copying between containers is not supported', 1);
    if (!src.container && !dst.container) throw new StatusError('must specify at least one container source', 1);
    const fail = (err: unknown): never => {
      throw err; // the daemon's message, printed as `Error response from daemon: …`
    };
    if (src.container) {
      const { stat, body } = await ctx.client.containerGetArchive(src.container, src.path).catch(fail);
      if (dst.path === '-') {
        await pipeline(body, ctx.io.stdout);
        return;
      }
      const dest = resolve(dst.path);
      const have = await lstat(dest).catch(() => null);
      const contentsOnly = /\/\.$/.test(src.path);
      if (have?.isDirectory()) {
        await untar(body, dest, contentsOnly ? { from: stat.name, to: '.' } : undefined);
      } else {
        if (dst.path.endsWith('/') || dst.path.endsWith(sep)) throw new StatusError(`destination directory "${dst.path}" does not exist`, 1);
        if ((stat.mode & GO_DIR) && have) throw new StatusError(`cannot copy directory to a file`, 1);
        const parentOk = await lstat(dirname(dest)).then((s) => s.isDirectory(), () => false);
        if (!parentOk) throw new StatusError(`lstat ${dirname(dest)}: no such file or directory`, 1);
        await untar(body, dirname(dest), { from: stat.name, to: basename(dest) });
      }
      return;
    }
    const container = dst.container!;
    if (src.path === '-') {
      await ctx.client.containerPutArchive(container, dst.path, ctx.io.stdin as Readable, { copyUIDGID: o.archive }).catch(fail);
      return;
    }
    const local = resolve(src.path);
    const st = await lstat(local).catch(() => null);
    if (!st) throw new StatusError(`lstat ${local}: no such file or directory`, 1);
    const target = await ctx.client.containerStatPath(container, dst.path).catch((err: unknown) => {
      if (err instanceof ClientError && err.status === 404) return undefined;
      return fail(err);
    });
    let dir: string;
    let topName: string;
    if (target && (target.mode & GO_DIR)) {
      dir = dst.path;
      topName = /\/\.$/.test(src.path) ? '.' : basename(local);
    } else {
      if (!target && dst.path.endsWith('/')) throw new StatusError(`Error response from daemon: Could not find the file ${dst.path} in container ${container}`, 1);
      if (target && st.isDirectory()) throw new StatusError('cannot copy directory to a file', 1);
      dir = dst.path.replace(/\/[^/]*$/, '') || '/';
      topName = dst.path.replace(/^.*\//, '');
    }
    await ctx.client.containerPutArchive(container, dir, tarOf(local, topName, !!o.followLink), { copyUIDGID: o.archive }).catch(fail);
  });
}
