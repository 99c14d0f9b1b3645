// `docker cp`: stat, read and write paths of a container's filesystem (running or not).
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, invalid } from '../common/index.ts';
import { archiveKind, peek, resolveInRoot, unpackArchive } from '../build/index.ts';
import { exportPath, mountAll, unmount, type LayerStore } from '../storage/index.ts';
import type { ContainerService } from './containers.ts';
import type { ContainerRecord } from './model.ts';

export interface ArchiveServiceDeps {
  containers: ContainerService;
  layers: LayerStore;
  /** Where stopped containers' filesystems are mounted while a copy runs. */
  tmpDir: string;
}

/** What `HEAD /containers/{id}/archive` reports (X-Docker-Container-Path-Stat), in Go's shapes. */
export interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

// Go's os.FileMode type bits
const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_PIPE = 2 ** 25;
const GO_SOCKET = 2 ** 24;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_CHARDEV = 2 ** 21;
const GO_STICKY = 2 ** 20;

function goMode(st: import('node:fs').Stats): number {
  let m = st.mode & 0o777;
  if (st.isDirectory()) m += GO_DIR;
  else if (st.isSymbolicLink()) m += GO_SYMLINK;
  else if (st.isFIFO()) m += GO_PIPE;
  else if (st.isSocket()) m += GO_SOCKET;
  else if (st.isCharacterDevice()) m += GO_DEVICE + GO_CHARDEV;
  else if (st.isBlockDevice()) m += GO_DEVICE;
  if (st.mode & 0o4000) m += GO_SETUID;
  if (st.mode & 0o2000) m += GO_SETGID;
  if (st.mode & 0o1000) m += GO_STICKY;
  return m;
}

export class ArchiveService {
  constructor(private readonly d: ArchiveServiceDeps) {}

  /** Run `fn` with the container's root filesystem visible at a host path. */
  async #withRoot<T>(rec: ContainerRecord, fn: (root: string) => Promise<T>): Promise<T> {
    const live = ['running', 'paused', 'restarting'].includes(rec.state.status);
    const bundleRoot = join(this.d.containers.bundleDir(rec.id), 'rootfs');
    if (live && statSync(join(bundleRoot, 'proc'), { throwIfNoEntry: false })) return fn(bundleRoot);
    await mkdir(this.d.tmpDir, { recursive: true });
    const dir = await mkdtemp(join(this.d.tmpDir, 'cp-'));
    try {
      await this.d.containers.settle(rec.id);
      await mountAll(await this.d.layers.mounts(rec.snapshot), dir);
      try {
        return await fn(dir);
      } finally {
        await unmount(dir);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * The host path of a container path: inside a bind or volume mount it is the mount's source,
   * /etc/hosts, /etc/resolv.conf and /etc/hostname are berth's own files, otherwise the path in
   * the rootfs; symlinks resolve as inside the container, never out of it.
   */
  #hostPath(rec: ContainerRecord, root: string, path: string, followFinal: boolean): string {
    const { base, rel } = this.#locate(rec, root, path);
    return resolveInRoot(base, rel, { scope: 'chroot', followFinal });
  }

  /** The tree a container path lives in (the rootfs, or a mount's source) and the path inside it. */
  #locate(rec: ContainerRecord, root: string, path: string): { base: string; rel: string } {
    const p = posix.normalize('/' + path);
    const files: Record<string, string> = { '/etc/hosts': rec.hostsPath, '/etc/resolv.conf': rec.resolvConfPath, '/etc/hostname': rec.hostnamePath };
    const file = files[p];
    if (file && statSync(file, { throwIfNoEntry: false })) return { base: posix.dirname(file), rel: posix.basename(file) };
    const m = rec.mountPoints.filter((x) => x.type !== 'tmpfs' && x.source && (p === x.destination || p.startsWith(x.destination.replace(/\/$/, '') + '/')))
      .sort((a, b) => b.destination.length - a.destination.length)[0];
    if (m) return { base: m.source, rel: p.slice(m.destination.length) || '/' };
    return { base: root, rel: p };
  }

  #stat(host: string, path: string, rec: ContainerRecord): PathStat {
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (!st) throw new BerthError('not-found', `Could not find the file ${path} in container ${rec.name}`);
    return {
      name: posix.basename(posix.normalize('/' + path)) || '/', size: st.size, mode: goMode(st), mtime: st.mtime.toISOString(),
      linkTarget: st.isSymbolicLink() ? readlinkSync(host) : '',
    };
  }

  /** `HEAD …/archive`: the path's stat, or not-found with docker's text. */
  async stat(idOrName: string, path: string): Promise<PathStat> {
    const rec = this.d.containers.get(idOrName);
    return this.#withRoot(rec, async (root) => this.#stat(this.#hostPath(rec, root, path, false), path, rec));
  }

  /**
   * `GET …/archive`: a tar of the path (a directory with everything under it) written to the
   * sink `open` returns once the stat is known (so the caller can send it as a header first).
   */
  async get(idOrName: string, path: string, open: (stat: PathStat) => Writable): Promise<void> {
    const rec = this.d.containers.get(idOrName);
    await this.#withRoot(rec, async (root) => {
      const host = this.#hostPath(rec, root, path, path.endsWith('/') || path.endsWith('/.'));
      const stat = this.#stat(host, path, rec);
      // compat: `dir/.` names its entries `./…`, so the client copies the directory's contents
      const top = /\/\.$/.test(path) || stat.name === '/' ? '.' : stat.name;
      await pipeline(exportPath(host, top), open({ ...stat, name: top }));
    });
  }

  /**
   * `PUT …/archive`: unpack a tar into the directory `path`. Entries are placed with scoped
   * resolution (nothing lands outside the container's filesystem); owners become root unless
   * `copyUIDGID`; with `noOverwriteDirNonDir`, a directory never replaces a file or the reverse.
   */
  async put(idOrName: string, path: string, body: Readable, opts: { copyUIDGID: boolean; noOverwriteDirNonDir: boolean }): Promise<void> {
    const rec = this.d.containers.get(idOrName);
    if (rec.spec.host.readonlyRootfs) throw new BerthError('forbidden', 'container rootfs is marked read-only');
    await this.#withRoot(rec, async (root) => {
      const host = this.#hostPath(rec, root, path, true);
      const st = lstatSync(host, { throwIfNoEntry: false });
      if (!st) throw new BerthError('not-found', `Could not find the file ${path} in container ${rec.name}`);
      if (!st.isDirectory()) throw invalid('extraction point is not a directory');
      // placed relative to the tree the directory lives in, so links resolve as the container sees them
      const { base, rel } = this.#locate(rec, root, path);
      const { head, stream } = await peek(body, 262);
      await unpackArchive(stream, 'archive', archiveKind(head) ?? 'tar', base, rel, opts.copyUIDGID ? undefined : { uid: 0, gid: 0 }, { noOverwriteDirNonDir: opts.noOverwriteDirNonDir });
    });
  }
}
