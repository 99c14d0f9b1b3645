// vfs snapshots: each active snapshot is a full copy of its parent (the fallback when overlayfs is
// unavailable, as Docker's vfs driver). Layout:
//   <root>/meta/<sha256(key)>.json   the snapshot record (snapshot-index.ts)
//   <root>/dir/<id>                  the snapshot's whole tree
//   <root>/empty                     what a view without parent shows
// Layers are applied with format 'vfs' (whiteouts delete). Mounts are bind mounts.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, run } from '../common/index.ts';
import { dirChanges } from './changes.ts';
import type { Change, LayerStore, Mount } from './layer-store.ts';
import { newSnapshotId, SnapshotIndex, type SnapshotKind, type SnapshotRecord } from './snapshot-index.ts';

export class VfsLayerStore implements LayerStore {
  readonly driver = 'vfs';
  readonly #root: string;
  readonly #index: SnapshotIndex;
  #ready: Promise<void> | undefined;

  constructor(root: string) {
    this.#root = root;
    this.#index = new SnapshotIndex(join(root, 'meta'));
  }

  #dir(id: string): string {
    return join(this.#root, 'dir', id);
  }

  /** Create the layout, and drop directories a crash (or an interrupted copy) left without a record. */
  #init(): Promise<void> {
    this.#ready ??= (async () => {
      for (const d of ['meta', 'dir', 'empty']) await mkdir(join(this.#root, d), { recursive: true, mode: 0o700 });
      const ids = await this.#index.ids();
      for (const id of await readdir(join(this.#root, 'dir'))) if (!ids.has(id)) await rm(this.#dir(id), { recursive: true, force: true });
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
      if (kind === 'active') {
        const dir = this.#dir(rec.id);
        await mkdir(dir, { mode: 0o755 });
        try {
          if (parent !== null) {
            const from = this.#dir((await this.#index.mustGet(parent)).id);
            // cp -a keeps owners, modes, times, hardlinks, devices and xattrs; reflinks where the fs can.
            await run('cp', ['-a', '--reflink=auto', `${from}/.`, `${dir}/`]);
          }
          await this.#index.create(rec);
        } catch (err) {
          await rm(dir, { recursive: true, force: true });
          throw err;
        }
      } else {
        await this.#index.create(rec); // a view binds its parent's tree read-only: no copy
      }
      return this.#mountsOf(rec);
    });
  }

  async #mountsOf(rec: SnapshotRecord): Promise<Mount[]> {
    if (rec.kind === 'active') return [{ type: 'bind', source: this.#dir(rec.id), options: ['rw', 'rbind'] }];
    if (rec.kind === 'committed') return [{ type: 'bind', source: this.#dir(rec.id), options: ['ro', 'rbind'] }];
    const source = rec.parent === null ? join(this.#root, 'empty') : this.#dir((await this.#index.mustGet(rec.parent)).id);
    return [{ type: 'bind', source, options: ['ro', 'rbind'] }];
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
      if (rec.kind !== 'view' && !idInUse) await rm(this.#dir(rec.id), { recursive: true, force: true });
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
    return this.#dir(rec.id);
  }

  async changes(key: string): Promise<Change[]> {
    await this.#init();
    const rec = await this.#index.mustGet(key);
    if (rec.kind === 'view') return [];
    const parent = rec.parent === null ? null : this.#dir((await this.#index.mustGet(rec.parent)).id);
    return dirChanges(this.#dir(rec.id), parent);
  }

  async list(): Promise<{ key: string; parent: string | null; kind: SnapshotKind }[]> {
    await this.#init();
    return (await this.#index.ordered()).map(({ key, parent, kind }) => ({ key, parent, kind }));
  }
}
