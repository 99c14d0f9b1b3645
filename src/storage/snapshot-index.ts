// Snapshot records shared by the layer stores: one small JSON file per key under <root>/meta.
// Keys are arbitrary strings, so files are named by sha256(key). A record names the directory id
// holding the data, so commit is a record rename and never copies data.
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, conflict, fsyncDir, isErrno, KeyedLock, notFound } from '../common/index.ts';

export type SnapshotKind = 'active' | 'committed' | 'view';

export interface SnapshotRecord {
  key: string;
  /** Directory id of the data (stable across commit). */
  id: string;
  parent: string | null;
  kind: SnapshotKind;
  created: string;
}

const KINDS: readonly string[] = ['active', 'committed', 'view'];

function parseRecord(data: unknown, file: string): SnapshotRecord {
  const r = data as Partial<SnapshotRecord> | null;
  if (
    typeof r !== 'object' || r === null || typeof r.key !== 'string' || typeof r.id !== 'string' || !/^[a-f0-9]+$/.test(r.id) ||
    !(r.parent === null || typeof r.parent === 'string') || typeof r.kind !== 'string' || !KINDS.includes(r.kind) || typeof r.created !== 'string'
  ) {
    throw new BerthError('internal', `corrupt snapshot record ${file}`);
  }
  return { key: r.key, id: r.id, parent: r.parent, kind: r.kind, created: r.created };
}

export const newSnapshotId = (): string => randomBytes(8).toString('hex');

export class SnapshotIndex {
  readonly #dir: string;
  /** Every record, loaded once: one daemon owns a store, and every change goes through this class. */
  #cache?: Promise<Map<string, SnapshotRecord>>;
  /** Serialises structural changes (create, commit, remove) so parent/child checks hold. */
  readonly #lock = new KeyedLock();

  constructor(dir: string) {
    this.#dir = dir;
  }

  #file(key: string): string {
    return join(this.#dir, `${createHash('sha256').update(key).digest('hex')}.json`);
  }

  /** Run `fn` holding the index lock. */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.#lock.with('index', fn);
  }

  async get(key: string): Promise<SnapshotRecord | undefined> {
    return (await this.#records()).get(key);
  }

  #records(): Promise<Map<string, SnapshotRecord>> {
    this.#cache ??= this.#load().catch((err: unknown) => {
      this.#cache = undefined;
      throw err;
    });
    return this.#cache;
  }

  /** The record of `key`; not-found (`No such layer: <key>`) if unknown. */
  async mustGet(key: string): Promise<SnapshotRecord> {
    const rec = await this.get(key);
    if (!rec) throw notFound('layer', key);
    return rec;
  }

  async all(): Promise<SnapshotRecord[]> {
    return [...(await this.#records()).values()];
  }

  async #load(): Promise<Map<string, SnapshotRecord>> {
    await mkdir(this.#dir, { recursive: true });
    const out: SnapshotRecord[] = [];
    for (const name of await readdir(this.#dir)) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      try {
        out.push(parseRecord(JSON.parse(await readFile(join(this.#dir, name), 'utf8')) as unknown, name));
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    return new Map(out.map((r) => [r.key, r]));
  }

  /** All records, each after its parent (so removing in reverse order removes children first). */
  async ordered(): Promise<SnapshotRecord[]> {
    const all = (await this.all()).sort((a, b) => a.created.localeCompare(b.created));
    const byKey = new Map(all.map((r) => [r.key, r]));
    const out: SnapshotRecord[] = [];
    const seen = new Set<string>();
    const visit = (r: SnapshotRecord, depth: number): void => {
      if (seen.has(r.key) || depth > 4096) return;
      seen.add(r.key);
      const parent = r.parent === null ? undefined : byKey.get(r.parent);
      if (parent) visit(parent, depth + 1);
      out.push(r);
    };
    for (const r of all) visit(r, 0);
    return out;
  }

  /** The chain of records from `key` down to its base layer, `key` first. */
  async chain(key: string | null): Promise<SnapshotRecord[]> {
    const out: SnapshotRecord[] = [];
    for (let k = key; k !== null; ) {
      const rec = await this.mustGet(k);
      out.push(rec);
      k = rec.parent;
      if (out.length > 4096) throw new BerthError('internal', `snapshot chain of ${key ?? ''} loops`);
    }
    return out;
  }

  /** Check `parent` exists and is committed; not-found or invalid-argument otherwise. */
  async checkParent(parent: string | null): Promise<void> {
    if (parent === null) return;
    const rec = await this.get(parent);
    if (!rec) throw notFound('layer', parent);
    if (rec.kind !== 'committed') throw new BerthError('invalid-argument', `parent ${parent} is not a committed layer`);
  }

  /**
   * Publish a record atomically and exclusively: conflict if the key exists. Committed layers are
   * fsynced (image data must survive a power loss); a container's active layer only needs to survive
   * a kill -9 of berthd, and start-up GC removes what a power loss leaves half-made.
   */
  async create(rec: SnapshotRecord): Promise<void> {
    const records = await this.#records();
    if (records.has(rec.key)) throw conflict(`layer ${rec.key} already exists`);
    const durable = rec.kind === 'committed';
    const target = this.#file(rec.key);
    const tmp = join(this.#dir, `.tmp-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(JSON.stringify(rec));
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await link(tmp, target); // unlike rename, fails when the target exists
    } catch (err) {
      if (isErrno(err, 'EEXIST')) throw conflict(`layer ${rec.key} already exists`);
      throw err;
    } finally {
      await unlink(tmp).catch(() => {});
    }
    records.set(rec.key, rec);
    if (durable) await fsyncDir(this.#dir);
  }

  async delete(key: string): Promise<void> {
    const records = await this.#records();
    await unlink(this.#file(key));
    records.delete(key);
  }

  /**
   * Make active `key` committed as `name`: publish the new record first, then drop the old one. A
   * crash in between leaves both naming one id; `orphanRecords` finds the stale active one.
   */
  async commit(name: string, key: string): Promise<SnapshotRecord> {
    const rec = await this.mustGet(key);
    if (rec.kind !== 'active') throw new BerthError('invalid-argument', `cannot commit ${key}: it is a ${rec.kind} layer`);
    const committed: SnapshotRecord = { ...rec, key: name, kind: 'committed', created: new Date().toISOString() };
    await this.create(committed);
    await this.delete(key);
    return committed;
  }

  /** Unlink the record of `key` after checking it has no children. Returns whether its id is still in use. */
  async remove(key: string): Promise<{ rec: SnapshotRecord; idInUse: boolean }> {
    const rec = await this.mustGet(key);
    const all = await this.all();
    const child = all.find((r) => r.parent === key);
    if (child) throw conflict(`cannot remove layer ${key}: layer ${child.key} depends on it`);
    await this.delete(key);
    return { rec, idInUse: all.some((r) => r.key !== key && r.id === rec.id) };
  }

  /** Ids referenced by any record (for removing orphaned directories at start-up). */
  async ids(): Promise<Set<string>> {
    const all = await this.all();
    const committed = new Set(all.filter((r) => r.kind === 'committed').map((r) => r.id));
    for (const r of all) {
      // An active record sharing its id with a committed one is a commit interrupted by a crash.
      if (r.kind === 'active' && committed.has(r.id)) await this.delete(r.key);
    }
    return new Set(all.map((r) => r.id));
  }
}
