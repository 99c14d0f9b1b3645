import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { join, normalize, isAbsolute } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import {
  BerthError, conflict, invalid, isDigest, notFound, nullSink, sha256, shortId, newId,
  type Digest, type Logger, type ProgressSink,
} from '../common/index.ts';
import {
  MediaType, familiarName, hostArch, normalizedName, parseReference, withDefaultTag, familiarRepository,
  type ImageConfig, type ImageManifest, type Descriptor, type ImageReference,
} from '../oci/index.ts';
import type { ContentStore, ImageRecord, MetadataStore } from '../store/index.ts';
import { applyLayer, type LayerStore } from '../storage/index.ts';
import type { EventBus } from './events.ts';

export interface ImageView {
  record: ImageRecord;
  config: ImageConfig;
  /** Familiar tags: `busybox:latest`. */
  repoTags: string[];
  repoDigests: string[];
}

export interface ImageDeleteItem {
  untagged?: string;
  deleted?: string;
}

export interface ImageServiceDeps {
  meta: MetadataStore;
  blobs: ContentStore;
  layers: LayerStore;
  events: EventBus;
  tmpDir: string;
  log: Logger;
  /** Ids of images that containers use, with whether any of those containers is running. */
  imagesInUse: () => Map<string, { running: boolean; containers: string[] }>;
}

/** Chain id of a layer stack: chain(1) = diff(1); chain(n) = sha256(chain(n-1) + " " + diff(n)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}

const layerFormat = (driver: string): 'overlay' | 'vfs' => (driver === 'vfs' ? 'vfs' : 'overlay');

export class ImageService {
  constructor(private readonly d: ImageServiceDeps) {}

  /** Resolve a name, reference, full id or id prefix to an image id. not-found `No such image: x`. */
  resolve(nameOrId: string): Digest {
    const s = nameOrId.replace(/^sha256:/, '');
    if (nameOrId.startsWith('sha256:') && isDigest(nameOrId) && this.d.meta.getImage(nameOrId)) return nameOrId as Digest;
    let ref: ImageReference | undefined;
    try {
      ref = parseReference(nameOrId);
    } catch {
      ref = undefined;
    }
    if (ref) {
      if (ref.digest) {
        const byDigest = this.d.meta.listImages().find((i) => i.repoDigests.some((rd) => rd === `${ref!.domain}/${ref!.path}@${ref!.digest}`));
        if (byDigest) return byDigest.id;
      } else {
        const id = this.d.meta.getTag(normalizedName(withDefaultTag(ref)));
        if (id) return id as Digest;
      }
    }
    if (/^[a-f0-9]{1,64}$/.test(s)) {
      const m = this.d.meta.findImagesByPrefix(s);
      if (m.length === 1) return m[0] as Digest;
      if (m.length > 1) throw invalid(`multiple IDs found with provided prefix: ${s}`);
    }
    throw notFound('image', nameOrId);
  }

  async config(id: Digest): Promise<ImageConfig> {
    return JSON.parse((await this.d.blobs.get(id)).toString()) as ImageConfig;
  }

  async get(nameOrId: string): Promise<ImageView> {
    const id = this.resolve(nameOrId);
    return this.#view(id);
  }

  async #view(id: Digest): Promise<ImageView> {
    const record = this.d.meta.getImage(id);
    if (!record) throw notFound('image', id);
    const config = await this.config(id);
    const repoTags = this.d.meta.tagsOf(id).map((t) => familiarName(parseReference(t)));
    const repoDigests = record.repoDigests.map((rd) => {
      const r = parseReference(rd);
      return `${familiarRepository(r)}@${r.digest ?? ''}`;
    });
    return { record, config, repoTags, repoDigests };
  }

  async list(): Promise<ImageView[]> {
    return Promise.all(this.d.meta.listImages().map((r) => this.#view(r.id)));
  }

  /** The chain id of the image's top layer (null for an image without layers). */
  async topLayer(id: Digest): Promise<Digest | null> {
    const cfg = await this.config(id);
    const chain = chainIds(cfg.rootfs.diff_ids);
    return chain[chain.length - 1] ?? null;
  }

  /**
   * Apply one layer (tar or gzip tar) on top of `parent`, unless a layer with the same chain id
   * exists. The layer blob is kept in the content store so the image can be saved or pushed again.
   */
  async registerLayer(parent: Digest | null, blobPath: string, opts: { expectDiffId?: Digest; mediaType?: string; signal?: AbortSignal }): Promise<{ chainId: Digest; diffId: Digest; size: number }> {
    const { digest: blob } = await this.d.blobs.ingest(createReadStream(blobPath));
    if (opts.expectDiffId) {
      const chainId = parent ? sha256(`${parent} ${opts.expectDiffId}`) : opts.expectDiffId;
      const have = this.d.meta.getLayer(chainId);
      if (have && (await this.d.layers.exists(chainId))) return { chainId, diffId: have.diffId, size: have.size };
    }
    const key = `extract-${newId()}`;
    await this.d.layers.prepare(key, parent);
    let res: { diffId: Digest; size: number };
    try {
      const dir = await this.d.layers.upperDir(key);
      res = await applyLayer(dir, createReadStream(blobPath), { format: layerFormat(this.d.layers.driver), signal: opts.signal });
      if (opts.expectDiffId && res.diffId !== opts.expectDiffId) {
        throw invalid(`layer digest mismatch: the image config says ${opts.expectDiffId}, the layer is ${res.diffId}`);
      }
    } catch (err) {
      await this.d.layers.remove(key).catch(() => {});
      throw err;
    }
    const chainId = parent ? sha256(`${parent} ${res.diffId}`) : res.diffId;
    if (await this.d.layers.exists(chainId)) {
      await this.d.layers.remove(key);
    } else {
      await this.d.layers.commit(chainId, key);
    }
    const gz = (await readHead(blobPath, 2)).equals(Buffer.from([0x1f, 0x8b]));
    this.d.meta.putLayer({ chainId, diffId: res.diffId, parent, size: res.size, blob, blobMediaType: gz ? MediaType.OciLayerGzip : MediaType.OciLayer });
    return { chainId, diffId: res.diffId, size: res.size };
  }

  /** Store a config and record the image, tagging it with each (normalised) reference. */
  async addImage(config: ImageConfig | Buffer, tags: string[], extra: { parent?: string; repoDigests?: string[] } = {}): Promise<Digest> {
    // The image id is the digest of the config bytes as shipped: keep raw bytes when we have them.
    const raw = Buffer.isBuffer(config) ? config : Buffer.from(JSON.stringify(config));
    if (Buffer.isBuffer(config)) config = parseImageConfig(config);
    const { digest: id } = await this.d.blobs.put(raw);
    const layerSizes = chainIds(config.rootfs.diff_ids).map((c) => this.d.meta.getLayer(c)?.size ?? 0);
    const existing = this.d.meta.getImage(id);
    this.d.meta.tx(() => {
      this.d.meta.putImage({
        id, created: config.created ?? new Date().toISOString(), size: layerSizes.reduce((a, b) => a + b, 0),
        parent: extra.parent ?? existing?.parent ?? '',
        repoDigests: [...new Set([...(existing?.repoDigests ?? []), ...(extra.repoDigests ?? [])])],
        loadedAt: existing?.loadedAt ?? new Date().toISOString(),
      });
      for (const t of tags) {
        const prev = this.d.meta.getTag(t);
        this.d.meta.setTag(t, id);
      }
    });
    for (const t of tags) this.d.events.emit('image', 'tag', id, { name: familiarName(parseReference(t)) });
    return id;
  }

  /** `docker load`: a docker-save archive or an OCI image layout archive. Returns the loaded names/ids. */
  async load(input: Readable, opts: { progress?: ProgressSink; signal?: AbortSignal } = {}): Promise<string[]> {
    const progress = opts.progress ?? nullSink;
    await mkdir(this.d.tmpDir, { recursive: true });
    const dir = await mkdtemp(join(this.d.tmpDir, 'load-'));
    try {
      await extractArchive(input, dir, opts.signal);
      const entries = await readManifests(dir);
      const loaded: string[] = [];
      for (const e of entries) {
        const cfgRaw = await readFile(join(dir, e.config));
        const config = parseImageConfig(cfgRaw);
        if (config.rootfs.diff_ids.length !== e.layers.length) throw invalid(`invalid archive: ${e.layers.length} layers for ${config.rootfs.diff_ids.length} diff_ids`);
        let parent: Digest | null = null;
        for (let i = 0; i < e.layers.length; i++) {
          const diffId = config.rootfs.diff_ids[i]!;
          progress({ id: shortId(diffId), status: 'Loading layer' });
          const r = await this.registerLayer(parent, join(dir, e.layers[i]!), { expectDiffId: diffId, signal: opts.signal });
          parent = r.chainId;
        }
        const tags = e.repoTags.map((t) => normalizedName(withDefaultTag(parseReference(t))));
        const id = await this.addImage(cfgRaw, tags);
        this.d.events.emit('image', 'load', id, {});
        if (e.repoTags.length === 0) {
          loaded.push(`Loaded image ID: ${id}`);
        } else for (const t of e.repoTags) loaded.push(`Loaded image: ${familiarName(parseReference(t))}`);
      }
      for (const l of loaded) progress({ status: l, stream: `${l}\n` });
      return loaded;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `docker save`: a docker-save archive (with an OCI layout inside, as Docker 25+ writes). */
  async save(names: string[]): Promise<Readable> {
    const images: { id: Digest; tags: string[] }[] = [];
    for (const n of names) {
      const id = this.resolve(n);
      let tags: string[] = [];
      try {
        const r = parseReference(n);
        if (!r.digest && !/^[a-f0-9]+$/.test(n.replace(/^sha256:/, ''))) tags = [familiarName(withDefaultTag(r))];
        else if (!r.digest) tags = [];
      } catch {
        tags = [];
      }
      const existing = images.find((i) => i.id === id);
      if (existing) existing.tags.push(...tags);
      else images.push({ id, tags });
    }
    const pack = tar.pack();
    const out = new PassThrough();
    pack.pipe(out);
    const written = new Set<string>();
    const add = async (name: string, data: Buffer): Promise<void> => {
      if (written.has(name)) return;
      written.add(name);
      await new Promise<void>((res, rej) => pack.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data, (e) => (e ? rej(e) : res())));
    };
    const addFile = async (name: string, size: number, stream: Readable): Promise<void> => {
      if (written.has(name)) return;
      written.add(name);
      await new Promise<void>((res, rej) => {
        const w = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) }, (e) => (e ? rej(e) : res()));
        stream.pipe(w);
        stream.on('error', rej);
      });
    };
    const work = async (): Promise<void> => {
      const manifestJson: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
      const index: { schemaVersion: 2; mediaType: string; manifests: Descriptor[] } = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
      for (const img of images) {
        const cfgRaw = await this.d.blobs.get(img.id);
        const config = JSON.parse(cfgRaw.toString()) as ImageConfig;
        await add(`blobs/sha256/${img.id.slice(7)}`, cfgRaw);
        const layers: Descriptor[] = [];
        const chain = chainIds(config.rootfs.diff_ids);
        for (const c of chain) {
          const l = this.d.meta.getLayer(c);
          if (!l) throw internalMissing(c);
          const tarData = await this.#uncompressedLayer(l.blob, l.blobMediaType);
          await addFile(`blobs/sha256/${l.diffId.slice(7)}`, l.size, tarData);
          layers.push({ mediaType: MediaType.OciLayer, digest: l.diffId, size: l.size });
        }
        const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: img.id, size: cfgRaw.length }, layers };
        const mRaw = Buffer.from(JSON.stringify(manifest));
        const mDigest = sha256(mRaw);
        await add(`blobs/sha256/${mDigest.slice(7)}`, mRaw);
        const tags = [...new Set(img.tags)];
        for (const t of tags.length ? tags : [undefined]) {
          const annotations: Record<string, string> = {};
          if (t) {
            const r = parseReference(t);
            annotations['io.containerd.image.name'] = normalizedName(r);
            annotations['org.opencontainers.image.ref.name'] = r.tag ?? 'latest';
          }
          index.manifests.push({ mediaType: MediaType.OciManifest, digest: mDigest, size: mRaw.length, ...(t ? { annotations } : {}) });
        }
        manifestJson.push({ Config: `blobs/sha256/${img.id.slice(7)}`, RepoTags: tags, Layers: layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) });
      }
      await add('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
      await add('index.json', Buffer.from(JSON.stringify(index)));
      await add('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
      pack.finalize();
    };
    work().catch((err: unknown) => out.destroy(err as Error));
    return out;
  }

  async #uncompressedLayer(blob: Digest, mediaType: string): Promise<Readable> {
    const s = this.d.blobs.open(blob);
    if (mediaType.endsWith('gzip')) return s.pipe(createGunzip());
    return s;
  }

  /** `docker import`: a filesystem tarball becomes a one-layer image. */
  async importTarball(input: Readable, opts: { ref?: string; message?: string; changes?: Partial<ImageConfig['config']>; platform?: string; signal?: AbortSignal }): Promise<Digest> {
    await mkdir(this.d.tmpDir, { recursive: true });
    const dir = await mkdtemp(join(this.d.tmpDir, 'import-'));
    try {
      const f = join(dir, 'layer');
      await pipeline(input, createWriteStream(f), { signal: opts.signal });
      const layer = await this.registerLayer(null, f, { signal: opts.signal });
      const now = new Date().toISOString();
      const config: ImageConfig = {
        architecture: hostArch(), os: 'linux', created: now,
        config: { ...(opts.changes ?? {}) },
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
        history: [{ created: now, created_by: '', comment: opts.message || 'Imported from -' }],
      };
      if (opts.message) config.comment = opts.message;
      const tags = opts.ref ? [normalizedName(withDefaultTag(parseReference(opts.ref)))] : [];
      const id = await this.addImage(config, tags);
      this.d.events.emit('image', 'import', id, {});
      return id;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `docker tag`. */
  async tag(source: string, target: string): Promise<void> {
    const id = this.resolve(source);
    const ref = parseReference(target);
    if (ref.digest) throw invalid('refusing to create a tag with a digest reference');
    const name = normalizedName(withDefaultTag(ref));
    this.d.meta.setTag(name, id);
    this.d.events.emit('image', 'tag', id, { name: familiarName(withDefaultTag(ref)) });
  }

  /**
   * `docker rmi`: untag `nameOrId`; delete the image when no tag is left (or when given by id).
   * conflict when a container uses it (a running one even with force).
   */
  async remove(nameOrId: string, opts: { force?: boolean; noPrune?: boolean } = {}): Promise<ImageDeleteItem[]> {
    const id = this.resolve(nameOrId);
    const tags = this.d.meta.tagsOf(id);
    const use = this.d.imagesInUse().get(id);
    let byName: string | undefined;
    try {
      const r = parseReference(nameOrId);
      const n = normalizedName(withDefaultTag(r));
      if (!r.digest && tags.includes(n)) byName = n;
    } catch {
      /* an id */
    }
    const out: ImageDeleteItem[] = [];
    if (byName && (tags.length > 1 || (use && !opts.force))) {
      // compat: with more than one tag, removing by name only untags
      if (tags.length === 1 && use) {
        throw conflict(`conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${shortId(use.containers[0]!)} is using its referenced image ${shortId(id)}`);
      }
      this.d.meta.deleteTag(byName);
      this.d.events.emit('image', 'untag', id, { name: familiarName(parseReference(byName)) });
      return [{ untagged: familiarName(parseReference(byName)) }];
    }
    if (use) {
      if (use.running || !opts.force) {
        const how = use.running ? 'cannot delete' : 'unable to delete';
        throw conflict(`conflict: ${how} ${shortId(id)} (${use.running ? 'cannot be forced' : 'must be forced'}) - image is being used by ${use.running ? 'running' : 'stopped'} container ${shortId(use.containers[0]!)}`);
      }
    }
    if (!byName && tags.length > 1 && !opts.force) {
      throw conflict(`conflict: unable to delete ${shortId(id)} (must be forced) - image is referenced in multiple repositories`);
    }
    for (const t of tags) out.push({ untagged: familiarName(parseReference(t)) });
    const rec = this.d.meta.getImage(id);
    for (const rd of rec?.repoDigests ?? []) out.push({ untagged: rd.replace(/^docker\.io\/(library\/)?/, '') });
    for (const t of tags) this.d.events.emit('image', 'untag', id, { name: familiarName(parseReference(t)) });
    this.d.meta.deleteImage(id);
    out.push({ deleted: id });
    this.d.events.emit('image', 'delete', id, {});
    await this.gcLayers();
    return out;
  }

  /** Remove layers (and their blobs) no image or container uses. */
  async gcLayers(): Promise<void> {
    const used = new Set<string>();
    for (const img of this.d.meta.listImages()) {
      const cfg = await this.config(img.id).catch(() => undefined);
      if (cfg) for (const c of chainIds(cfg.rootfs.diff_ids)) used.add(c);
    }
    const layers = this.d.meta.listLayers();
    // children before parents
    const byDepth = layers.map((l) => ({ l, depth: depthOf(l.chainId, layers) })).sort((a, b) => b.depth - a.depth);
    for (const { l } of byDepth) {
      if (used.has(l.chainId)) continue;
      try {
        await this.d.layers.remove(l.chainId);
      } catch (err) {
        if (err instanceof BerthError && err.kind === 'conflict') continue; // a container's snapshot still sits on it
        if (!(err instanceof BerthError && err.kind === 'not-found')) throw err;
      }
      this.d.meta.deleteLayer(l.chainId);
      if (!layers.some((o) => o !== l && o.blob === l.blob && used.has(o.chainId))) await this.d.blobs.delete(l.blob);
    }
  }

  async history(nameOrId: string): Promise<{ id: string; created: number; createdBy: string; tags: string[]; size: number; comment: string }[]> {
    const v = await this.get(nameOrId);
    const chain = chainIds(v.config.rootfs.diff_ids);
    const hist = v.config.history?.length ? v.config.history : chain.map(() => ({ created: v.config.created, created_by: '' }));
    let layerIdx = 0;
    const rows = hist.map((h) => {
      const empty = 'empty_layer' in h && h.empty_layer === true;
      const size = empty ? 0 : (this.d.meta.getLayer(chain[layerIdx++] ?? '')?.size ?? 0);
      return { id: '<missing>', created: Math.floor(Date.parse(h.created ?? v.config.created ?? '') / 1000) || 0, createdBy: h.created_by ?? '', tags: [] as string[], size, comment: ('comment' in h ? h.comment : '') ?? '' };
    });
    rows.reverse();
    if (rows[0]) {
      rows[0].id = v.record.id;
      rows[0].tags = v.repoTags;
    }
    return rows;
  }

  /** `docker image prune`: dangling images (or, with `all`, every image no container uses). */
  async prune(opts: { all?: boolean; match?: (v: ImageView) => boolean } = {}): Promise<{ deleted: ImageDeleteItem[]; spaceReclaimed: number }> {
    const inUse = this.d.imagesInUse();
    const deleted: ImageDeleteItem[] = [];
    let space = 0;
    for (const v of await this.list()) {
      if (inUse.has(v.record.id)) continue;
      if (!opts.all && v.repoTags.length > 0) continue;
      if (opts.match && !opts.match(v)) continue;
      for (const t of this.d.meta.tagsOf(v.record.id)) {
        this.d.meta.deleteTag(t);
        deleted.push({ untagged: familiarName(parseReference(t)) });
      }
      this.d.meta.deleteImage(v.record.id);
      deleted.push({ deleted: v.record.id });
      space += v.record.size;
      this.d.events.emit('image', 'delete', v.record.id, {});
    }
    await this.gcLayers();
    if (deleted.length) this.d.events.emit('image', 'prune', '', { reclaimed: String(space) });
    return { deleted, spaceReclaimed: space };
  }
}

function depthOf(chainId: string, layers: { chainId: string; parent: string | null }[]): number {
  let d = 0;
  let cur = layers.find((l) => l.chainId === chainId);
  while (cur?.parent && d < 1000) {
    d++;
    const p = cur.parent;
    cur = layers.find((l) => l.chainId === p);
  }
  return d;
}

const internalMissing = (c: string): BerthError => new BerthError('internal', `layer ${c} is missing from the store`);

async function readHead(path: string, n: number): Promise<Buffer> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(n);
    const { bytesRead } = await fh.read(b, 0, n, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Validate a config blob where it enters. */
export function parseImageConfig(raw: Buffer): ImageConfig {
  let j: unknown;
  try {
    j = JSON.parse(raw.toString());
  } catch {
    throw invalid('invalid image config: not JSON');
  }
  const c = j as Partial<ImageConfig>;
  if (typeof c !== 'object' || c === null || !c.rootfs || !Array.isArray(c.rootfs.diff_ids) || !c.rootfs.diff_ids.every((d) => isDigest(d))) {
    throw invalid('invalid image config: rootfs.diff_ids missing or malformed');
  }
  return { architecture: c.architecture ?? hostArch(), os: c.os ?? 'linux', ...c } as ImageConfig;
}

/** Unpack an image archive's regular files into `dir`, refusing names that escape it. */
async function extractArchive(input: Readable, dir: string, signal?: AbortSignal): Promise<void> {
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const name = normalize(h.name);
      if (isAbsolute(h.name) || name.startsWith('..')) {
        reject(invalid(`invalid archive: path escapes the archive: ${h.name}`));
        stream.resume();
        return;
      }
      if (h.type === 'file') {
        const target = join(dir, name);
        mkdir(join(target, '..'), { recursive: true })
          .then(() => pipeline(stream, createWriteStream(target, { flags: 'wx' })))
          .then(() => next(), reject);
      } else {
        stream.on('end', () => next());
        stream.resume();
      }
    });
    ex.on('finish', resolve);
    ex.on('error', (e: Error) => reject(invalid(`invalid archive: ${e.message}`)));
  });
  input.on('error', (e) => ex.destroy(e));
  if (signal) signal.addEventListener('abort', () => ex.destroy(new Error('aborted')), { once: true });
  input.pipe(ex);
  await done;
}

interface ArchiveImage {
  config: string;
  layers: string[];
  repoTags: string[];
}

async function readManifests(dir: string): Promise<ArchiveImage[]> {
  const safe = (p: unknown): string => {
    if (typeof p !== 'string') throw invalid('invalid archive: manifest.json malformed');
    const n = normalize(p);
    if (isAbsolute(n) || n.startsWith('..')) throw invalid(`invalid archive: path escapes the archive: ${p}`);
    return n;
  };
  try {
    const raw = await readFile(join(dir, 'manifest.json'), 'utf8');
    const list = JSON.parse(raw) as unknown;
    if (!Array.isArray(list)) throw invalid('invalid archive: manifest.json is not a list');
    return list.map((e: { Config?: unknown; Layers?: unknown; RepoTags?: unknown }) => ({
      config: safe(e.Config),
      layers: Array.isArray(e.Layers) ? e.Layers.map(safe) : [],
      repoTags: Array.isArray(e.RepoTags) ? e.RepoTags.filter((t): t is string => typeof t === 'string') : [],
    }));
  } catch (err) {
    if (!(err as { code?: string }).code) throw err;
  }
  // OCI image layout
  let index: { manifests?: Descriptor[] };
  try {
    index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
  } catch {
    throw invalid('invalid archive: neither manifest.json nor index.json found');
  }
  const out: ArchiveImage[] = [];
  const blob = (d: string): string => {
    if (!isDigest(d)) throw invalid(`invalid archive: bad digest ${d}`);
    return join('blobs', 'sha256', d.slice(7));
  };
  const visit = async (desc: Descriptor, name: string | undefined, depth: number): Promise<void> => {
    if (depth > 4) throw invalid('invalid archive: index nesting too deep');
    const raw = await readFile(join(dir, blob(desc.digest)));
    if (sha256(raw) !== desc.digest) throw invalid(`invalid archive: digest mismatch for ${desc.digest}`);
    const j = JSON.parse(raw.toString()) as { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    if (j.manifests) {
      const pick = j.manifests.find((m) => !m.platform || (m.platform.os === 'linux' && m.platform.architecture === hostArch())) ?? j.manifests[0];
      if (pick) await visit(pick, name, depth + 1);
      return;
    }
    if (!j.config || !j.layers) throw invalid('invalid archive: manifest without config or layers');
    out.push({ config: blob(j.config.digest), layers: j.layers.map((l) => blob(l.digest)), repoTags: name ? [name] : [] });
  };
  for (const m of index.manifests ?? []) {
    const full = m.annotations?.['io.containerd.image.name'];
    const tag = m.annotations?.['org.opencontainers.image.ref.name'];
    const name = full ?? (tag && /[:/]/.test(tag) ? tag : undefined);
    await visit(m, name, 0);
  }
  return out;
}

export async function fileSize(p: string): Promise<number> {
  return (await stat(p)).size;
}
