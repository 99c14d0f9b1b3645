/** A mount(2) call described as data. Drivers describe mounts; they never perform them. */
export interface Mount {
  type: string;
  source: string;
  target?: string;
  options: string[];
}

/** What a layer diff changed, as `docker diff` reports it. */
export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

/**
 * Snapshots of layered filesystems. `key` names an active (writable) snapshot, `name` a committed
 * one; they share one key space. Drivers: overlay (overlay-layer-store.ts), vfs (vfs-layer-store.ts).
 */
export interface LayerStore {
  /** Driver name as `docker info` shows it ("overlay2", "vfs"). */
  readonly driver: string;
  /**
   * A writable snapshot on top of `parent` (which must be committed). Throws conflict if `key` exists,
   * not-found for an unknown parent, invalid-argument for a parent that is not committed (or, on
   * overlay, a chain too long for one page of mount options).
   */
  prepare(key: string, parent: string | null): Promise<Mount[]>;
  /** A read-only view of `parent`; cannot be committed. Same errors as prepare. */
  view(key: string, parent: string | null): Promise<Mount[]>;
  /** Mounts of an existing snapshot (active or view), as prepare/view returned them. not-found if unknown. */
  mounts(key: string): Promise<Mount[]>;
  /**
   * Make active snapshot `key` a committed one named `name`; `key` is gone afterwards. No data is
   * copied. not-found for an unknown key, invalid-argument unless it is active, conflict if `name`
   * exists. The caller unmounts it first.
   */
  commit(name: string, key: string): Promise<void>;
  /** Remove a snapshot and its data. Throws conflict if it has children (views included), not-found if unknown. The caller unmounts it first. */
  remove(key: string): Promise<void>;
  /** True when the snapshot exists (active or committed). */
  exists(key: string): Promise<boolean>;
  /**
   * The directory holding the snapshot's own (upper) files: where a layer tar is applied, with
   * applyLayer format 'overlay' for overlay2 and 'vfs' for vfs (whose dir is a full copy).
   * invalid-argument for a view.
   */
  upperDir(key: string): Promise<string>;
  /** Changes of snapshot `key` against its parent, sorted by path, as `docker diff` (none for a view). */
  changes(key: string): Promise<Change[]>;
  /** All snapshots, each after its parent (remove in reverse order), for garbage collection and consistency checks. */
  list(): Promise<{ key: string; parent: string | null; kind: 'active' | 'committed' | 'view' }[]>;
}
