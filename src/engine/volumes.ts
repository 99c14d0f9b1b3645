import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, conflict, invalid, newId, notFound, type Logger } from '../common/index.ts';
import type { MetadataStore } from '../store/index.ts';
import type { EventBus } from './events.ts';

export interface VolumeRecord {
  name: string;
  driver: 'local';
  mountpoint: string;
  createdAt: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** Created for one container (`-v /path`, image VOLUME): removed with `rm -v`. */
  anonymous: boolean;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** dockerd labels volumes created without a name; `volume prune` without `--all` removes only those. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** dockerd's volume store errors (`get x: no such volume`): clients print them verbatim. */
const noSuchVolume = (op: string, name: string): BerthError => new BerthError('not-found', `${op} ${name}: no such volume`);

export class VolumeService {
  constructor(
    private readonly d: {
      meta: MetadataStore;
      root: string; // <data-root>/volumes
      events: EventBus;
      log: Logger;
      /** Ids of containers that mount this volume. */
      users: (name: string) => string[];
    },
  ) {}

  /**
   * Create (or return the existing) volume. A volume without a name gets a random one and, as in
   * dockerd, the anonymous label. `api` marks one created by `POST /volumes/create` (its Labels and
   * Options show as objects even when empty). invalid-argument with dockerd's text for a bad name,
   * not-found for a driver other than local.
   */
  async create(opts: { name?: string; labels?: Record<string, string>; options?: Record<string, string>; driver?: string; anonymous?: boolean; api?: boolean }): Promise<VolumeRecord> {
    if (opts.driver && opts.driver !== 'local') throw notFound('volume driver', opts.driver); // TODO(#2): plugins
    const name = opts.name || newId();
    if (!NAME_RE.test(name)) {
      throw invalid(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    }
    const existing = this.d.meta.getVolume<VolumeRecord>(name);
    if (existing) return existing;
    const mountpoint = join(this.d.root, name, '_data');
    await mkdir(mountpoint, { recursive: true, mode: 0o755 });
    const anonymous = opts.anonymous ?? !opts.name;
    const rec: VolumeRecord = {
      name, driver: 'local', mountpoint, createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      labels: { ...(opts.labels ?? {}), ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) },
      options: { ...(opts.options ?? {}), ...(opts.api ? { 'berth.api': 'true' } : {}) }, anonymous,
    };
    this.d.meta.putVolume(name, rec);
    this.d.events.emit('volume', 'create', name, { driver: 'local' });
    return rec;
  }

  /** not-found `get x: no such volume`. */
  get(name: string): VolumeRecord {
    const v = this.d.meta.getVolume<VolumeRecord>(name);
    if (!v) throw noSuchVolume('get', name);
    return v;
  }

  list(): VolumeRecord[] {
    return this.d.meta.listVolumes<VolumeRecord>();
  }

  /**
   * Remove a volume and its data. conflict (`remove x: volume is in use - [ids]`) when a container
   * uses it, even with force (dockerd refuses too); force only makes a missing volume a success.
   */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const v = this.d.meta.getVolume<VolumeRecord>(name);
    if (!v) {
      if (opts.force) return;
      throw noSuchVolume('get', name);
    }
    const users = this.d.users(name);
    if (users.length) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    this.d.meta.deleteVolume(name);
    await rm(join(this.d.root, name), { recursive: true, force: true });
    this.d.events.emit('volume', 'destroy', name, { driver: 'local' });
  }

  /**
   * Remove unused volumes: those with the anonymous label unless `all` (Docker ≥ 23). As dockerd,
   * volumes with mount options (`-o type=…`) are skipped: removing them reclaims no local space.
   */
  async prune(opts: { all?: boolean; match?: (v: VolumeRecord) => boolean } = {}): Promise<{ deleted: string[]; spaceReclaimed: number }> {
    const deleted: string[] = [];
    let space = 0;
    for (const v of this.list()) {
      if (!opts.all && !(ANONYMOUS_LABEL in v.labels)) continue;
      if (Object.keys(v.options).some((k) => !k.startsWith('berth.'))) continue;
      if (opts.match && !opts.match(v)) continue;
      if (this.d.users(v.name).length) continue;
      space += await dirSize(v.mountpoint);
      try {
        await this.remove(v.name);
      } catch (err) {
        this.d.log.warn({ err, volume: v.name }, 'volume prune: could not remove volume');
        continue;
      }
      deleted.push(v.name);
    }
    this.d.events.emit('volume', 'prune', '', { reclaimed: String(space) });
    return { deleted, spaceReclaimed: space };
  }

  async size(v: VolumeRecord): Promise<number> {
    return dirSize(v.mountpoint);
  }
}

export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else if (e.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
