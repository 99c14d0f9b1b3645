import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Digest } from '../common/index.ts';

export interface LayerRecord {
  chainId: Digest;
  diffId: Digest;
  parent: Digest | null;
  /** Bytes of the uncompressed layer tar. */
  size: number;
  /** The layer as stored in the content store (compressed or not), to save or push it again. */
  blob: Digest;
  blobMediaType: string;
}

export interface ImageRecord {
  id: Digest; // the config digest
  created: string;
  size: number; // sum of layer sizes
  parent: string; // local parent image id (builder/commit), '' if none
  /** Manifest digests known for this image, per repository: `name@sha256:…`. */
  repoDigests: string[];
  loadedAt: string;
}

interface LayerRow { chain_id: Digest; diff_id: Digest; parent: Digest | null; size: number; blob: Digest; media_type: string }
const fromLayerRow = (r: LayerRow): LayerRecord => ({ chainId: r.chain_id, diffId: r.diff_id, parent: r.parent, size: r.size, blob: r.blob, blobMediaType: r.media_type });

const SCHEMA = `
CREATE TABLE IF NOT EXISTS layers (chain_id TEXT PRIMARY KEY, diff_id TEXT NOT NULL, parent TEXT, size INTEGER NOT NULL, blob TEXT NOT NULL, media_type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tags (ref TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id));
CREATE TABLE IF NOT EXISTS containers (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS volumes (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tags_image ON tags(image_id);
CREATE TABLE IF NOT EXISTS networks (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ip_allocations (network_id TEXT NOT NULL, address TEXT NOT NULL, owner TEXT NOT NULL, PRIMARY KEY (network_id, address));
CREATE TABLE IF NOT EXISTS build_cache (key TEXT PRIMARY KEY, image_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS build_slots (slot TEXT PRIMARY KEY, data TEXT NOT NULL);
`;

/**
 * Metadata in SQLite (WAL; every state change is one transaction). Records are JSON documents
 * keyed by id; the engine owns their shape. better-sqlite3 is synchronous by design; each call is
 * a short indexed statement.
 */
export class MetadataStore {
  readonly db: Database.Database;
  private constructor(db: Database.Database) {
    this.db = db;
  }

  static open(root: string): MetadataStore {
    const db = new Database(join(root, 'berth.db'));
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a commit survives a kill -9 of berthd (it is in the OS's page cache); only a
    // power loss can drop the last commits, and never corrupts the database. FULL cost an fsync per state change.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.exec(SCHEMA);
    return new MetadataStore(db);
  }

  close(): void {
    this.db.close();
  }

  /** Run `fn` in one transaction. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // layers
  getLayer(chainId: string): LayerRecord | undefined {
    const r = this.db.prepare('SELECT * FROM layers WHERE chain_id = ?').get(chainId) as LayerRow | undefined;
    return r && fromLayerRow(r);
  }
  putLayer(l: LayerRecord): void {
    this.db.prepare('INSERT OR REPLACE INTO layers (chain_id, diff_id, parent, size, blob, media_type) VALUES (?, ?, ?, ?, ?, ?)').run(l.chainId, l.diffId, l.parent, l.size, l.blob, l.blobMediaType);
  }
  deleteLayer(chainId: string): void {
    this.db.prepare('DELETE FROM layers WHERE chain_id = ?').run(chainId);
  }
  listLayers(): LayerRecord[] {
    return (this.db.prepare('SELECT * FROM layers').all() as LayerRow[]).map(fromLayerRow);
  }

  // images and tags
  getImage(id: string): ImageRecord | undefined {
    const r = this.db.prepare('SELECT data FROM images WHERE id = ?').get(id) as { data: string } | undefined;
    return r && (JSON.parse(r.data) as ImageRecord);
  }
  putImage(img: ImageRecord): void {
    this.db.prepare('INSERT OR REPLACE INTO images (id, data) VALUES (?, ?)').run(img.id, JSON.stringify(img));
  }
  deleteImage(id: string): void {
    this.db.prepare('DELETE FROM tags WHERE image_id = ?').run(id);
    this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
  }
  listImages(): ImageRecord[] {
    return (this.db.prepare('SELECT data FROM images').all() as { data: string }[]).map((r) => JSON.parse(r.data) as ImageRecord);
  }
  findImagesByPrefix(hexPrefix: string): string[] {
    return (this.db.prepare("SELECT id FROM images WHERE id LIKE ?").all(`sha256:${hexPrefix}%`) as { id: string }[]).map((r) => r.id);
  }
  getTag(ref: string): string | undefined {
    return (this.db.prepare('SELECT image_id FROM tags WHERE ref = ?').get(ref) as { image_id: string } | undefined)?.image_id;
  }
  setTag(ref: string, imageId: string): void {
    this.db.prepare('INSERT OR REPLACE INTO tags (ref, image_id) VALUES (?, ?)').run(ref, imageId);
  }
  deleteTag(ref: string): void {
    this.db.prepare('DELETE FROM tags WHERE ref = ?').run(ref);
  }
  tagsOf(imageId: string): string[] {
    return (this.db.prepare('SELECT ref FROM tags WHERE image_id = ? ORDER BY ref').all(imageId) as { ref: string }[]).map((r) => r.ref);
  }
  listTags(): { ref: string; imageId: string }[] {
    return (this.db.prepare('SELECT ref, image_id FROM tags').all() as { ref: string; image_id: string }[]).map((r) => ({ ref: r.ref, imageId: r.image_id }));
  }

  // containers
  getContainer<T>(id: string): T | undefined {
    const r = this.db.prepare('SELECT data FROM containers WHERE id = ?').get(id) as { data: string } | undefined;
    return r && (JSON.parse(r.data) as T);
  }
  containerIdByName(name: string): string | undefined {
    return (this.db.prepare('SELECT id FROM containers WHERE name = ?').get(name) as { id: string } | undefined)?.id;
  }
  findContainersByPrefix(prefix: string): string[] {
    return (this.db.prepare('SELECT id FROM containers WHERE id LIKE ?').all(`${prefix}%`) as { id: string }[]).map((r) => r.id);
  }
  putContainer(id: string, name: string, data: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO containers (id, name, data) VALUES (?, ?, ?)').run(id, name, JSON.stringify(data));
  }
  deleteContainer(id: string): void {
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }
  listContainers<T>(): T[] {
    return (this.db.prepare('SELECT data FROM containers').all() as { data: string }[]).map((r) => JSON.parse(r.data) as T);
  }

  // volumes
  getVolume<T>(name: string): T | undefined {
    const r = this.db.prepare('SELECT data FROM volumes WHERE name = ?').get(name) as { data: string } | undefined;
    return r && (JSON.parse(r.data) as T);
  }
  putVolume(name: string, data: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO volumes (name, data) VALUES (?, ?)').run(name, JSON.stringify(data));
  }
  deleteVolume(name: string): void {
    this.db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
  }
  listVolumes<T>(): T[] {
    return (this.db.prepare('SELECT data FROM volumes ORDER BY name').all() as { data: string }[]).map((r) => JSON.parse(r.data) as T);
  }

  // networks and their address allocations (IPAM)
  getNetwork<T>(id: string): T | undefined {
    const r = this.db.prepare('SELECT data FROM networks WHERE id = ?').get(id) as { data: string } | undefined;
    return r && (JSON.parse(r.data) as T);
  }
  networkIdByName(name: string): string | undefined {
    return (this.db.prepare('SELECT id FROM networks WHERE name = ?').get(name) as { id: string } | undefined)?.id;
  }
  putNetwork(id: string, name: string, data: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO networks (id, name, data) VALUES (?, ?, ?)').run(id, name, JSON.stringify(data));
  }
  deleteNetwork(id: string): void {
    this.tx(() => {
      this.db.prepare('DELETE FROM ip_allocations WHERE network_id = ?').run(id);
      this.db.prepare('DELETE FROM networks WHERE id = ?').run(id);
    });
  }
  listNetworks<T>(): T[] {
    return (this.db.prepare('SELECT data FROM networks ORDER BY name').all() as { data: string }[]).map((r) => JSON.parse(r.data) as T);
  }
  /**
   * Allocate an address in one transaction: `pick` sees the addresses taken in the network and
   * returns a free one (or undefined when exhausted, which is returned as is).
   */
  allocateAddress(networkId: string, owner: string, pick: (used: ReadonlySet<string>) => string | undefined): string | undefined {
    return this.tx(() => {
      const used = new Set((this.db.prepare('SELECT address FROM ip_allocations WHERE network_id = ?').all(networkId) as { address: string }[]).map((r) => r.address));
      const ip = pick(used);
      if (ip !== undefined) this.db.prepare('INSERT INTO ip_allocations (network_id, address, owner) VALUES (?, ?, ?)').run(networkId, ip, owner);
      return ip;
    });
  }
  /** Release every address `owner` holds (in any network). */
  releaseAddresses(owner: string): void {
    this.db.prepare('DELETE FROM ip_allocations WHERE owner = ?').run(owner);
  }
  /** Release the addresses `owner` holds in one network. */
  releaseAddress(networkId: string, owner: string): void {
    this.db.prepare('DELETE FROM ip_allocations WHERE network_id = ? AND owner = ?').run(networkId, owner);
  }
  listAllocations(): { networkId: string; address: string; owner: string }[] {
    return (this.db.prepare('SELECT network_id, address, owner FROM ip_allocations').all() as { network_id: string; address: string; owner: string }[])
      .map((r) => ({ networkId: r.network_id, address: r.address, owner: r.owner }));
  }

  /** SQLite's own integrity check plus referential checks; returns problems (empty when consistent). */
  // ---------- build cache: a step's key → the image it made; a step slot → what it last saw ----------

  getBuildCache(key: string): string | undefined {
    return (this.db.prepare('SELECT image_id FROM build_cache WHERE key = ?').get(key) as { image_id: string } | undefined)?.image_id;
  }
  putBuildCache(key: string, imageId: string): void {
    this.db.prepare('INSERT OR REPLACE INTO build_cache (key, image_id) VALUES (?, ?)').run(key, imageId);
  }
  /** Drop cache entries (all, or those of images no longer present); returns the keys that went. */
  pruneBuildCache(all: boolean): string[] {
    return this.tx(() => {
      const where = all ? '' : ' WHERE image_id NOT IN (SELECT id FROM images)';
      const keys = (this.db.prepare(`SELECT key FROM build_cache${where}`).all() as { key: string }[]).map((r) => r.key);
      this.db.prepare(`DELETE FROM build_cache${where}`).run();
      if (all) this.db.prepare('DELETE FROM build_slots').run();
      return keys;
    });
  }
  getBuildSlot(slot: string): unknown {
    const r = this.db.prepare('SELECT data FROM build_slots WHERE slot = ?').get(slot) as { data: string } | undefined;
    return r ? JSON.parse(r.data) : undefined;
  }
  putBuildSlot(slot: string, data: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO build_slots (slot, data) VALUES (?, ?)').run(slot, JSON.stringify(data));
  }

  check(): string[] {
    const problems: string[] = [];
    const ic = this.db.pragma('integrity_check', { simple: true });
    if (ic !== 'ok') problems.push(`sqlite integrity_check: ${String(ic)}`);
    for (const r of this.db.prepare('SELECT ref, image_id FROM tags WHERE image_id NOT IN (SELECT id FROM images)').all() as { ref: string; image_id: string }[])
      problems.push(`tag ${r.ref} points to missing image ${r.image_id}`);
    for (const r of this.db.prepare('SELECT chain_id, parent FROM layers WHERE parent IS NOT NULL AND parent NOT IN (SELECT chain_id FROM layers)').all() as { chain_id: string; parent: string }[])
      problems.push(`layer ${r.chain_id} has missing parent ${r.parent}`);
    return problems;
  }
}
