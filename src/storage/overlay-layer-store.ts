// overlayfs snapshots, laid out like Docker's overlay2:
//   <root>/meta/<sha256(key)>.json   the snapshot record (snapshot-index.ts)
//   <root>/snapshots/<id>/diff       the layer's own files (upper dir while active)
//   <root>/snapshots/<id>/work       overlay's work dir
//   <root>/l/<id> -> ../snapshots/<id>/diff   short names for lowerdir
//   <root>/empty                     the lower dir of a snapshot without parent
//
// Limit: overlay options are passed to mount(2) in one page (4096 bytes). Each lower layer costs
// `<root>/l/<16 hex>:` (root length + 20 bytes), so with a 30-character root about 80 layers fit;
// longer chains fail in prepare with invalid-argument. Docker mounts with relative `l/` paths from
// a child process that chdirs into the root (~125 layers); we keep mounts as plain data instead.
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, discard } from '../common/index.ts';
import { overlayChanges } from './changes.ts';
import type { Change, LayerStore, Mount } from './layer-store.ts';
import { MOUNT_DATA_MAX, mountAll, unmount } from './mount.ts';
import { newSnapshotId, SnapshotIndex, type SnapshotKind, type SnapshotRecord } from './snapshot-index.ts';

export class OverlayLayerStore implements LayerStore {
  readonly driver = 'overlay2';
  readonly #root: string;
  readonly #index: SnapshotIndex;
  #ready: Promise<void> | undefined;

  constructor(root: string) {
    this.#root = root;
    this.#index = new SnapshotIndex(join(root, 'meta'));
  }

  /** Whether overlayfs works on `root`'s filesystem (it fails on overlay itself and some others). */
  static async isSupported(root: string): Promise<boolean> {
    await mkdir(root, { recursive: true });
    const dir = await mkdtemp(join(root, '.overlay-check-'));
    const merged = join(dir, 'merged');
    try {
      for (const d of ['lower', 'upper', 'work', 'merged']) await mkdir(join(dir, d));
      await writeFile(join(dir, 'lower', 'f'), 'x');
      await mountAll([overlayMount([join(dir, 'lower')], join(dir, 'upper'), join(dir, 'work'))], merged);
      try {
        await writeFile(join(merged, 'g'), 'y');
        return (await readFile(join(merged, 'f'), 'utf8')) === 'x' && (await readdir(join(dir, 'upper'))).includes('g');
      } finally {
        await unmount(merged);
      }
    } catch {
      return false;
    } finally {
      await unmount(merged).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  }

  #dir(id: string): string {
    return join(this.#root, 'snapshots', id);
  }
  #diff(id: string): string {
    return join(this.#dir(id), 'diff');
  }
  #link(id: string): string {
    return join(this.#root, 'l', id);
  }

  /** Create the layout, and drop directories a crash left without a record. */
  #init(): Promise<void> {
    this.#ready ??= (async () => {
      for (const d of ['meta', 'snapshots', 'l', 'empty']) await mkdir(join(this.#root, d), { recursive: true, mode: 0o700 });
      const ids = await this.#index.ids();
      for (const id of await readdir(join(this.#root, 'snapshots'))) if (!ids.has(id)) await rm(this.#dir(id), { recursive: true, force: true });
      for (const id of await readdir(join(this.#root, 'l'))) if (!ids.has(id)) await rm(this.#link(id), { force: true });
    })();
    return this.#ready;
  }

  prepare(key: string, parent: string | null): Promise<Mount[]> {
    return this.#create(key, parent, 'active');
  }

  view(key: string, parent: string | null): Promise<Mount[]> {
    return this.#create(key, parent, 'view');
  }

  async #create(key: string, parent: string | null, kind: SnapshotKind): Promise<Mount[]> {
    await this.#init();
    return this.#index.locked(async () => {
      if (await this.#index.get(key)) throw new BerthError('conflict', `layer ${key} already exists`);
      await this.#index.checkParent(parent);
      const rec: SnapshotRecord = { key, id: newSnapshotId(), parent, kind, created: new Date().toISOString() };
      const mounts = await this.#mountsOf(rec); // checks the option length before anything is created
      if (kind === 'active') {
        await mkdir(this.#dir(rec.id), { mode: 0o700 });
        try {
          await mkdir(this.#diff(rec.id), { mode: 0o755 });
          await mkdir(join(this.#dir(rec.id), 'work'), { mode: 0o700 });
          await symlink(`../snapshots/${rec.id}/diff`, this.#link(rec.id));
          await this.#index.create(rec);
        } catch (err) {
          await rm(this.#dir(rec.id), { recursive: true, force: true });
          await rm(this.#link(rec.id), { force: true });
          throw err;
        }
      } else {
        await this.#index.create(rec); // a view owns no directory
      }
      return mounts;
    });
  }

  async #mountsOf(rec: SnapshotRecord): Promise<Mount[]> {
    const lowers = (await this.#index.chain(rec.parent)).map((r) => this.#link(r.id));
    if (rec.kind === 'active') {
      return [overlayMount(lowers.length ? lowers : [join(this.#root, 'empty')], this.#diff(rec.id), join(this.#dir(rec.id), 'work'))];
    }
    // Read-only: a view of its parent, or a committed snapshot's own content.
    if (rec.kind === 'committed') lowers.unshift(this.#link(rec.id));
    if (lowers.length === 0) return [{ type: 'bind', source: join(this.#root, 'empty'), options: ['ro', 'rbind'] }];
    if (lowers.length === 1) return [{ type: 'bind', source: lowers[0]!, options: ['ro', 'rbind'] }];
    return [overlayMount(lowers)]; // overlay without upper is read-only; it needs two lowers or more
  }

  async mounts(key: string): Promise<Mount[]> {
    await this.#init();
    return this.#mountsOf(await this.#index.mustGet(key));
  }

  async commit(name: string, key: string): Promise<void> {
    await this.#init();
    await this.#index.locked(() => this.#index.commit(name, key));
  }

  async remove(key: string): Promise<void> {
    await this.#init();
    await this.#index.locked(async () => {
      const { rec, idInUse } = await this.#index.remove(key);
      if (rec.kind === 'view' || idInUse) return;
      await rm(this.#link(rec.id), { force: true });
      await discard(this.#dir(rec.id));
    });
  }

  async exists(key: string): Promise<boolean> {
    await this.#init();
    return (await this.#index.get(key)) !== undefined;
  }

  async upperDir(key: string): Promise<string> {
    await this.#init();
    const rec = await this.#index.mustGet(key);
    if (rec.kind === 'view') throw new BerthError('invalid-argument', `layer ${key} is a view: it has no files of its own`);
    return this.#diff(rec.id);
  }

  async changes(key: string): Promise<Change[]> {
    await this.#init();
    const rec = await this.#index.mustGet(key);
    if (rec.kind === 'view') return [];
    const lowers = (await this.#index.chain(rec.parent)).map((r) => this.#diff(r.id));
    return overlayChanges(this.#diff(rec.id), lowers);
  }

  async list(): Promise<{ key: string; parent: string | null; kind: SnapshotKind }[]> {
    await this.#init();
    return (await this.#index.ordered()).map(({ key, parent, kind }) => ({ key, parent, kind }));
  }
}

function overlayMount(lowers: string[], upper?: string, work?: string): Mount {
  const options = [`lowerdir=${lowers.join(':')}`];
  if (upper !== undefined && work !== undefined) options.push(`upperdir=${upper}`, `workdir=${work}`);
  // index=off: the inode index would tie a lower layer to the first upper mounted on it (Docker does the same).
  options.push('index=off');
  if (Buffer.byteLength(options.join(',')) > MOUNT_DATA_MAX) {
    throw new BerthError('invalid-argument', `too many layers (${lowers.length}): overlay mount options exceed one page`);
  }
  return { type: 'overlay', source: 'overlay', options };
}
