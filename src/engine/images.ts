import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, normalize, isAbsolute, posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import tar from 'tar-stream';
import {
  BerthError, conflict, invalid, isDigest, kindOf, messageOf, notFound, nullSink, sha256, shortId, newId,
  type Digest, type Logger, type ProgressEvent, type ProgressSink,
} from '../common/index.ts';
import {
  MediaType, familiarName, hostArch, normalizedName, parseReference, withDefaultTag, familiarRepository, repositoryName, referenceString,
  type ImageConfig, type ImageManifest, type Descriptor, type ImageReference,
} from '../oci/index.ts';
import type { ContentStore, ImageRecord, LayerRecord, MetadataStore, PartialBlob } from '../store/index.ts';
import {
  MAX_CONFIG, credentialKey, domainOfServerAddress, layerCompression, parsePlatform, platformString,
  type Credentials, type Platform, type PullSource, type RegistryClient, type SearchResult,
} from '../registry/index.ts';
import { applyLayer, zstdDecompress, type Compression, type LayerStore } from '../storage/index.ts';
import type { EventBus } from './events.ts';
import { ZERO_TIME } from './model.ts';

export interface ImageView {
  record: ImageRecord;
  config: ImageConfig;
  /** Familiar tags: `busybox:latest`. */
  repoTags: string[];
  repoDigests: string[];
  /** When a tag was last set on the image locally (`docker tag`, commit, import); Go's zero time if never (a loaded image). */
  lastTagTime: string;
  /** Ids of local images whose parent this one is (commit, build). */
  children: Digest[];
  /** Bytes of this image's layers that other images also use (`docker system df`). */
  sharedSize: number;
}

/** The image record as stored: ImageRecord plus what berth adds (kept in the same JSON row). */
type StoredImage = ImageRecord & { lastTagTime?: string };

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
  /** Image ids that containers use, with each user and whether it runs. */
  imagesInUse: () => Map<string, { id: string; running: boolean }[]>;
  /** The registry client for pull, push and login; without it those throw not-implemented. */
  registry?: RegistryClient;
  /** `--add-registry`: registries a short name is pulled from, in order, before docker.io. */
  searchRegistries?: string[];
}

/** A layer's status line: dockerd sends these with an empty progressDetail, which lets a terminal keep one line per layer. */
const layerStatus = (id: string, status: string): ProgressEvent => ({ id, status, progress: { current: 0 } });

/** Options of a pull or push. */
export interface RegistryOpOptions {
  auth?: Credentials;
  progress?: ProgressSink;
  signal?: AbortSignal;
}

/** `GET /distribution/{name}/json`: what a reference resolves to on its registry. */
export interface DistributionInfo {
  descriptor: { mediaType: string; digest: Digest; size: number };
  platforms: Platform[];
}

/** Layers fetched or pushed at once (dockerd's max-concurrent-downloads is 3). */
const LAYER_CONCURRENCY = 3;
/** Progress events of one layer are at most this often (ms). */
const PROGRESS_EVERY = 100;

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
        // compat: with --add-registry a Docker Hub name means the first of those registries holding it
        const extra = this.d.searchRegistries?.length ? this.#candidates(nameOrId) : [ref];
        for (const c of extra) {
          const id = this.d.meta.getTag(normalizedName(withDefaultTag(c)));
          if (id) return id as Digest;
        }
      }
    }
    if (/^[a-f0-9]{1,64}$/.test(s)) {
      const m = this.d.meta.findImagesByPrefix(s);
      if (m.length === 1) return m[0] as Digest;
      if (m.length > 1) throw invalid(`multiple IDs found with provided prefix: ${s}`);
    }
    // compat: dockerd names the reference with its default tag (`No such image: nope:latest`)
    throw notFound('image', ref && !nameOrId.startsWith('sha256:') ? familiarName(ref) : nameOrId);
  }

  async config(id: Digest): Promise<ImageConfig> {
    return JSON.parse((await this.d.blobs.get(id)).toString()) as ImageConfig;
  }

  async get(nameOrId: string): Promise<ImageView> {
    const id = this.resolve(nameOrId);
    return (await this.#views([id]))[0]!;
  }

  async list(): Promise<ImageView[]> {
    return this.#views(this.d.meta.listImages().map((r) => r.id));
  }

  /** Views of `ids`, with the facts that need every image (children, shared layer bytes). */
  async #views(ids: Digest[]): Promise<ImageView[]> {
    const all = this.d.meta.listImages() as StoredImage[];
    const chains = new Map<string, Digest[]>();
    const layerUsers = new Map<string, number>();
    for (const img of all) {
      const cfg = await this.config(img.id).catch(() => undefined);
      const chain = cfg ? chainIds(cfg.rootfs.diff_ids) : [];
      chains.set(img.id, chain);
      for (const c of new Set(chain)) layerUsers.set(c, (layerUsers.get(c) ?? 0) + 1);
    }
    return Promise.all(ids.map(async (id) => {
      const record = all.find((r) => r.id === id);
      if (!record) throw notFound('image', id);
      const config = await this.config(id);
      const repoTags = this.d.meta.tagsOf(id).map((t) => familiarName(parseReference(t))).sort();
      const repoDigests = record.repoDigests.map((rd) => {
        const r = parseReference(rd);
        return `${familiarRepository(r)}@${r.digest ?? ''}`;
      }).sort();
      const sharedSize = [...new Set(chains.get(id) ?? [])].filter((c) => (layerUsers.get(c) ?? 0) > 1).reduce((a, c) => a + (this.d.meta.getLayer(c)?.size ?? 0), 0);
      const children = all.filter((r) => r.parent === id).map((r) => r.id);
      return { record, config, repoTags, repoDigests, lastTagTime: record.lastTagTime ?? ZERO_TIME, children, sharedSize };
    }));
  }

  /** The chain id of the image's top layer (null for an image without layers). */
  async topLayer(id: Digest): Promise<Digest | null> {
    const cfg = await this.config(id);
    const chain = chainIds(cfg.rootfs.diff_ids);
    return chain[chain.length - 1] ?? null;
  }

  /**
   * Apply one layer (tar or gzip tar) on top of `parent`, unless a layer with the same chain id
   * exists. The layer blob is kept in the content store so the image can be saved or pushed again;
   * it is stored only once the layer applied cleanly (and, with `expectDiffId`, matched it), so a
   * refused layer leaves neither a snapshot nor a blob behind. `created` tells whether this call
   * added the layer (a caller that fails later rolls back what it created).
   * invalid-argument for a hostile or malformed layer, or a digest mismatch.
   */
  async registerLayer(parent: Digest | null, blobPath: string, opts: {
    expectDiffId?: Digest; mediaType?: string; signal?: AbortSignal;
    /** The file is this (verified) content-store blob: record it rather than store a copy. */
    blob?: Digest;
    /** Bytes of the blob read so far, as extraction goes. */
    onRead?: (bytes: number) => void;
    /** Read the blob from here rather than from `blobPath` (a download still being written). */
    input?: () => AsyncIterable<Buffer>;
    /** Settles once the blob is committed to the store: the layer is recorded only after it. */
    blobReady?: Promise<unknown>;
  }): Promise<{ chainId: Digest; diffId: Digest; size: number; created: boolean }> {
    if (opts.expectDiffId) {
      const chainId = parent ? sha256(`${parent} ${opts.expectDiffId}`) : opts.expectDiffId;
      const have = this.d.meta.getLayer(chainId);
      if (have && (await this.d.layers.exists(chainId))) return { chainId, diffId: have.diffId, size: have.size, created: false };
    }
    const key = `extract-${newId()}`;
    await this.d.layers.prepare(key, parent);
    let res: { diffId: Digest; size: number; compressedDigest: Digest; compression: Compression };
    try {
      const dir = await this.d.layers.upperDir(key);
      const onRead = opts.onRead;
      const source = opts.input ? opts.input() : createReadStream(blobPath);
      const input = onRead ? Readable.from((async function* () {
        let n = 0;
        for await (const c of source) {
          onRead((n += (c as Buffer).length));
          yield c as Buffer;
        }
      })()) : source instanceof Readable ? source : Readable.from(source);
      // a content-store blob was verified by size and digest as it came in, and a download being
      // followed is verified before blobReady settles: hashing its bytes again here cost ~35 ms
      // of the main thread per 50 MB
      res = await applyLayer(dir, input, { format: layerFormat(this.d.layers.driver), signal: opts.signal, hashCompressed: !opts.blob });
      if (opts.expectDiffId && res.diffId !== opts.expectDiffId) {
        throw invalid(`invalid layer: digest mismatch: the image config says ${opts.expectDiffId}, the layer is ${res.diffId}`);
      }
      await opts.blobReady;
    } catch (err) {
      await this.d.layers.remove(key).catch(() => {});
      throw err;
    }
    const chainId = parent ? sha256(`${parent} ${res.diffId}`) : res.diffId;
    let created = false;
    if (await this.d.layers.exists(chainId)) {
      await this.d.layers.remove(key);
    } else {
      await this.d.layers.commit(chainId, key);
      created = true;
    }
    const have = this.d.meta.getLayer(chainId);
    if (have) return { chainId, diffId: have.diffId, size: have.size, created };
    const blob = opts.blob ?? (await this.d.blobs.ingest(createReadStream(blobPath))).digest;
    this.d.meta.putLayer({ chainId, diffId: res.diffId, parent, size: res.size, blob, blobMediaType: LAYER_MEDIA_TYPE[res.compression] });
    return { chainId, diffId: res.diffId, size: res.size, created: true };
  }

  /**
   * Store a config and record the image, tagging it with each (normalised) reference. A tag set
   * here counts as a local tag (LastTagTime) unless `loaded` (docker load keeps Go's zero time).
   */
  async addImage(config: ImageConfig | Buffer, tags: string[], extra: { parent?: string; repoDigests?: string[]; loaded?: boolean } = {}): Promise<Digest> {
    // The image id is the digest of the config bytes as shipped: keep raw bytes when we have them.
    const raw = Buffer.isBuffer(config) ? config : Buffer.from(JSON.stringify(config));
    if (Buffer.isBuffer(config)) config = parseImageConfig(config);
    const { digest: id } = await this.d.blobs.put(raw);
    const layerSizes = chainIds(config.rootfs.diff_ids).map((c) => this.d.meta.getLayer(c)?.size ?? 0);
    const existing = this.d.meta.getImage(id) as StoredImage | undefined;
    const now = new Date().toISOString();
    const rec: StoredImage = {
      id, created: config.created ?? now, size: layerSizes.reduce((a, b) => a + b, 0),
      parent: extra.parent ?? existing?.parent ?? '',
      repoDigests: [...new Set([...(existing?.repoDigests ?? []), ...(extra.repoDigests ?? [])])],
      loadedAt: existing?.loadedAt ?? now,
      ...(tags.length && !extra.loaded ? { lastTagTime: now } : existing?.lastTagTime ? { lastTagTime: existing.lastTagTime } : {}),
    };
    this.d.meta.tx(() => {
      this.d.meta.putImage(rec);
      for (const t of tags) this.d.meta.setTag(t, id);
    });
    for (const t of tags) this.d.events.emit('image', 'tag', id, { name: familiarName(parseReference(t)) });
    return id;
  }

  /**
   * `docker load`: a docker-save archive (legacy `<id>/layer.tar` layout or Docker 25+'s OCI one)
   * or a bare OCI image layout. Returns the lines docker prints (`Loaded image: x`). Each image is
   * loaded whole or not at all: a refused layer rolls back the layers this load created.
   * invalid-argument (`invalid archive: …`, `invalid layer: …`) for malformed or hostile input.
   */
  async load(input: Readable, opts: { progress?: ProgressSink; signal?: AbortSignal } = {}): Promise<string[]> {
    const progress = opts.progress ?? nullSink;
    await mkdir(this.d.tmpDir, { recursive: true });
    const dir = await mkdtemp(join(this.d.tmpDir, 'load-'));
    const created: Digest[] = [];
    try {
      await extractArchive(input, dir, opts.signal);
      const entries = await readManifests(dir);
      const loaded: string[] = [];
      for (const e of entries) {
        const cfgRaw = await readArchiveFile(dir, e.config);
        const config = parseImageConfig(cfgRaw);
        if (config.rootfs.diff_ids.length !== e.layers.length) throw invalid(`invalid archive: ${e.layers.length} layers for ${config.rootfs.diff_ids.length} diff_ids`);
        const tags = e.repoTags.map((t) => {
          try {
            return normalizedName(withDefaultTag(parseReference(t)));
          } catch (err) {
            throw invalid(`invalid archive: invalid tag ${JSON.stringify(t)}: ${(err as Error).message}`);
          }
        });
        let parent: Digest | null = null;
        for (let i = 0; i < e.layers.length; i++) {
          const diffId = config.rootfs.diff_ids[i]!;
          const path = join(dir, e.layers[i]!);
          if (!(await isRegularFile(path))) throw invalid(`invalid archive: layer ${e.layers[i]!} is missing`);
          progress({ id: shortId(diffId), status: 'Loading layer' });
          const r = await this.registerLayer(parent, path, { expectDiffId: diffId, signal: opts.signal });
          if (r.created) created.push(r.chainId);
          parent = r.chainId;
        }
        const id = sha256(cfgRaw);
        for (const t of tags) {
          const prev = this.d.meta.getTag(t);
          if (prev && prev !== id) loaded.push(`The image ${familiarName(parseReference(t))} already exists, renaming the old one with ID ${prev} to empty string`);
        }
        await this.addImage(cfgRaw, tags, { loaded: true });
        this.d.events.emit('image', 'load', id, {});
        if (e.repoTags.length === 0) {
          loaded.push(`Loaded image ID: ${id}`);
        } else for (const t of tags) loaded.push(`Loaded image: ${familiarName(parseReference(t))}`);
      }
      for (const l of loaded) progress({ status: l, stream: `${l}\n` });
      return loaded;
    } catch (err) {
      await this.#rollbackLayers(created).catch((e: unknown) => this.d.log.warn({ err: e }, 'load: rolling back layers failed'));
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Remove the layers in `chainIds` (created by a failed operation) that no image uses; children first. */
  async #rollbackLayers(chain: Digest[]): Promise<void> {
    const used = await this.#usedLayers();
    for (const c of [...chain].reverse()) {
      if (used.has(c)) continue;
      await this.#dropLayer(c);
    }
  }

  async #usedLayers(except?: Digest): Promise<Set<string>> {
    const used = new Set<string>();
    for (const img of this.d.meta.listImages()) {
      if (img.id === except) continue;
      const cfg = await this.config(img.id).catch(() => undefined);
      if (cfg) for (const c of chainIds(cfg.rootfs.diff_ids)) used.add(c);
    }
    return used;
  }

  /** Remove one layer: snapshot, record, and its blob unless another layer shares it. Throws conflict when a snapshot sits on it. */
  async #dropLayer(chainId: Digest): Promise<LayerRecord | undefined> {
    try {
      await this.d.layers.remove(chainId);
    } catch (err) {
      if (!(err instanceof BerthError && err.kind === 'not-found')) throw err;
    }
    const l = this.d.meta.getLayer(chainId);
    if (!l) return undefined;
    this.d.meta.deleteLayer(chainId);
    if (!this.d.meta.listLayers().some((o) => o.blob === l.blob)) await this.d.blobs.delete(l.blob).catch(() => {});
    return l;
  }

  /**
   * `docker save`: a docker-save archive with an OCI layout inside, as Docker 25+ writes. A name
   * without tag saves every tag of that repository; an id saves the image without tags.
   */
  async save(names: string[]): Promise<Readable> {
    const images: { id: Digest; tags: string[] }[] = [];
    const addImg = (id: Digest, tags: string[]): void => {
      const existing = images.find((i) => i.id === id);
      if (existing) existing.tags.push(...tags);
      else images.push({ id, tags: [...tags] });
    };
    for (const n of names) {
      let ref: ImageReference | undefined;
      try {
        ref = parseReference(n);
      } catch {
        ref = undefined;
      }
      const id = this.resolve(n);
      if (!ref || isIdPrefix(id, n) || ref.digest) {
        addImg(id, []);
      } else if (ref.tag === undefined) {
        // compat: `docker save busybox` saves every tag of the repository
        const repo = repositoryName(ref);
        const all = this.d.meta.listTags().filter((t) => t.ref.startsWith(`${repo}:`));
        if (all.length === 0) addImg(id, [familiarName(withDefaultTag(ref))]);
        for (const t of all) addImg(t.imageId as Digest, [familiarName(parseReference(t.ref))]);
      } else {
        addImg(id, [familiarName(ref)]);
      }
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
    const addDir = async (name: string): Promise<void> => {
      if (written.has(name)) return;
      written.add(name);
      await new Promise<void>((res, rej) => pack.entry({ name, type: 'directory', mode: 0o755, mtime: new Date(0) }, (e) => (e ? rej(e) : res())));
    };
    const addFile = async (name: string, size: number, stream: Readable): Promise<void> => {
      if (written.has(name)) {
        stream.destroy();
        return;
      }
      written.add(name);
      await new Promise<void>((res, rej) => {
        const w = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) }, (e) => (e ? rej(e) : res()));
        stream.pipe(w);
        stream.on('error', rej);
      });
    };
    const work = async (): Promise<void> => {
      const manifestJson: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
      const index: { schemaVersion: 2; mediaType: string; manifests: Descriptor[] } = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
      await addDir('blobs/');
      await addDir('blobs/sha256/');
      for (const img of images) {
        const cfgRaw = await this.d.blobs.get(img.id);
        const config = JSON.parse(cfgRaw.toString()) as ImageConfig;
        await add(`blobs/sha256/${img.id.slice(7)}`, cfgRaw);
        const layers: Descriptor[] = [];
        const chain = chainIds(config.rootfs.diff_ids);
        for (const c of chain) {
          const l = this.d.meta.getLayer(c);
          if (!l) throw internalMissing(c);
          const name = `blobs/sha256/${l.diffId.slice(7)}`;
          if (!written.has(name)) await addFile(name, l.size, await this.#uncompressedLayer(l.blob, l.blobMediaType));
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
        // compat: docker writes `"RepoTags": null` for an image saved by id
        manifestJson.push({ Config: `blobs/sha256/${img.id.slice(7)}`, RepoTags: tags.length ? tags : null, Layers: layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) });
      }
      await add('index.json', Buffer.from(JSON.stringify(index)));
      await add('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
      await add('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
      pack.finalize();
    };
    work().catch((err: unknown) => out.destroy(err as Error));
    return out;
  }

  async #uncompressedLayer(blob: Digest, mediaType: string): Promise<Readable> {
    const s = this.d.blobs.open(blob);
    if (mediaType.endsWith('gzip')) return s.pipe(createGunzip());
    if (mediaType.endsWith('zstd')) return Readable.from(zstdDecompress(s));
    return s;
  }

  /**
   * `docker import`: a filesystem tarball (plain or gzip) becomes a one-layer image. `message` is
   * the image comment and its one history entry's (the route defaults it to `Imported from -`).
   */
  async importTarball(input: Readable, opts: { ref?: string; message?: string; changes?: Partial<ImageConfig['config']>; platform?: string; signal?: AbortSignal }): Promise<Digest> {
    const tags = opts.ref ? [normalizedName(withDefaultTag(parseReference(opts.ref)))] : [];
    await mkdir(this.d.tmpDir, { recursive: true });
    const dir = await mkdtemp(join(this.d.tmpDir, 'import-'));
    let layer: { chainId: Digest; diffId: Digest; created: boolean } | undefined;
    try {
      const f = join(dir, 'layer');
      await pipeline(input, createWriteStream(f), { signal: opts.signal });
      layer = await this.registerLayer(null, f, { signal: opts.signal });
      const now = new Date().toISOString();
      const config: ImageConfig = {
        architecture: hostArch(), os: 'linux', created: now,
        ...(opts.message ? { comment: opts.message } : {}),
        config: { ...(opts.changes ?? {}) },
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
        history: [{ created: now, ...(opts.message ? { comment: opts.message } : {}) }],
      };
      const id = await this.addImage(config, tags);
      this.d.events.emit('image', 'import', id, {});
      return id;
    } catch (err) {
      if (layer?.created) await this.#rollbackLayers([layer.chainId]).catch(() => {});
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `docker tag`: point `target` at the image; sets LastTagTime. not-found for an unknown source, invalid-argument for a bad target. */
  async tag(source: string, target: string): Promise<void> {
    const id = this.resolve(source);
    const ref = parseReference(target);
    if (ref.digest) throw invalid('refusing to create a tag with a digest reference');
    const name = normalizedName(withDefaultTag(ref));
    const rec = this.d.meta.getImage(id) as StoredImage | undefined;
    this.d.meta.tx(() => {
      this.d.meta.setTag(name, id);
      if (rec) this.d.meta.putImage({ ...rec, lastTagTime: new Date().toISOString() } as StoredImage);
    });
    this.d.events.emit('image', 'tag', id, { name: familiarName(withDefaultTag(ref)) });
  }

  /** Tag and digest references of an image, fully qualified (`docker.io/library/busybox:latest`, `…@sha256:…`). */
  #refs(id: Digest): { ref: string; repo: string; canonical: boolean }[] {
    const tags = this.d.meta.tagsOf(id).map((t) => ({ ref: t, repo: repositoryName(parseReference(t)), canonical: false }));
    const digests = (this.d.meta.getImage(id)?.repoDigests ?? []).map((d) => ({ ref: d, repo: repositoryName(parseReference(d)), canonical: true }));
    return [...tags, ...digests].sort((a, b) => familiarName(parseReference(a.ref)).localeCompare(familiarName(parseReference(b.ref))));
  }

  #removeRef(id: Digest, ref: string): void {
    if (ref.includes('@')) {
      const rec = this.d.meta.getImage(id);
      if (rec) this.d.meta.putImage({ ...rec, repoDigests: rec.repoDigests.filter((d) => d !== ref) });
    } else if (this.d.meta.getTag(ref) === id) {
      this.d.meta.deleteTag(ref);
    }
    this.d.events.emit('image', 'untag', id, { name: familiarName(parseReference(ref)) });
  }

  /**
   * `docker rmi`, following dockerd (daemon/images/image_delete.go): a reference is untagged first,
   * and the image is deleted once no reference is left; an id deletes the image. Deleted layers
   * are reported by chain id. conflict, with dockerd's texts, for a container using the image
   * (a running one even with force), child images, or other references without force.
   */
  async remove(nameOrId: string, opts: { force?: boolean; noPrune?: boolean } = {}): Promise<ImageDeleteItem[]> {
    const id = this.resolve(nameOrId);
    const force = !!opts.force;
    const records: ImageDeleteItem[] = [];
    let quiet = false;
    if (!isIdPrefix(id, nameOrId)) {
      if (!force && isSingleReference(this.#refs(id))) {
        const use = this.d.imagesInUse().get(id);
        if (use?.length) {
          // compat: removing the last reference would leave the container's image dangling
          throw conflict(`conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${shortId(use[0]!.id)} is using its referenced image ${shortId(id)}`);
        }
      }
      const parsed = parseReference(nameOrId);
      const ref = parsed.digest ? referenceString(parsed) : normalizedName(withDefaultTag(parsed));
      this.#removeRef(id, ref);
      records.push({ untagged: familiarName(parseReference(ref)) });
      if (!parsed.digest) {
        // a repository left with digest references only loses those too
        const repo = repositoryName(parsed);
        const refs = this.#refs(id);
        if (!refs.some((r) => !r.canonical && r.repo === repo)) {
          for (const r of refs.filter((x) => x.canonical && x.repo === repo)) {
            this.#removeRef(id, r.ref);
            records.push({ untagged: familiarName(parseReference(r.ref)) });
          }
        }
      }
      if (this.#refs(id).length > 0) return records;
      quiet = true;
    } else if (isSingleReference(this.#refs(id))) {
      const c = this.#conflict(id, { hard: true, stopped: !force, references: false });
      if (c) throw conflict(c.message);
      for (const r of this.#refs(id)) {
        this.#removeRef(id, r.ref);
        records.push({ untagged: familiarName(parseReference(r.ref)) });
      }
    }
    await this.#deleteHelper(id, records, force, !opts.noPrune, quiet);
    return records;
  }

  /** dockerd's checkImageDeleteConflict: child images, running containers, references, stopped containers (in that order). */
  #conflict(id: Digest, mask: { hard: boolean; stopped: boolean; references: boolean }): { message: string; used: boolean } | undefined {
    const text = (hard: boolean, why: string): string => `conflict: unable to delete ${shortId(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${why}`;
    const use = this.d.imagesInUse().get(id);
    if (mask.hard && this.d.meta.listImages().some((r) => r.parent === id)) return { message: text(true, 'image has dependent child images'), used: false };
    const running = use?.find((c) => c.running);
    if (mask.hard && running) return { message: text(true, `image is being used by running container ${shortId(running.id)}`), used: true };
    if (mask.references && this.#refs(id).length > 0) return { message: text(false, 'image is referenced in multiple repositories'), used: false };
    const stopped = use?.find((c) => !c.running);
    if (mask.stopped && !running && stopped) return { message: text(false, `image is being used by stopped container ${shortId(stopped.id)}`), used: true };
    return undefined;
  }

  /** dockerd's imageDeleteHelper: delete the image and its now unused layers, then (prune) its untagged parents, quietly. */
  async #deleteHelper(id: Digest, records: ImageDeleteItem[], force: boolean, prune: boolean, quiet: boolean): Promise<void> {
    const c = this.#conflict(id, { hard: true, stopped: !force, references: !force });
    if (c) {
      const dangling = this.#refs(id).length === 0 && !this.d.meta.listImages().some((r) => r.parent === id);
      if (quiet && (!dangling || c.used)) return;
      throw conflict(c.message);
    }
    const parent = (this.d.meta.getImage(id)?.parent ?? '') as Digest | '';
    for (const r of this.#refs(id)) {
      this.#removeRef(id, r.ref);
      records.push({ untagged: familiarName(parseReference(r.ref)) });
    }
    const cfg = await this.config(id).catch(() => undefined);
    this.d.meta.deleteImage(id);
    this.d.events.emit('image', 'delete', id, {});
    records.push({ deleted: id });
    for (const layer of await this.#releaseLayers(cfg ? chainIds(cfg.rootfs.diff_ids) : [])) records.push({ deleted: layer });
    if (!this.d.imagesInUse().has(id)) await this.d.blobs.delete(id).catch(() => {}); // a stopped container may still start from it
    if (!prune || !parent || !this.d.meta.getImage(parent)) return;
    await this.#deleteHelper(parent, records, false, true, true);
  }

  /** Remove the layers of `chain`, top first, until one is still used by an image or a container. Returns the removed chain ids. */
  async #releaseLayers(chain: Digest[]): Promise<Digest[]> {
    const used = await this.#usedLayers();
    const removed: Digest[] = [];
    for (const c of [...chain].reverse()) {
      if (used.has(c)) break;
      try {
        if (await this.#dropLayer(c)) removed.push(c);
      } catch (err) {
        if (err instanceof BerthError && err.kind === 'conflict') break; // a container's snapshot sits on it
        throw err;
      }
    }
    return removed;
  }

  #registry(): RegistryClient {
    if (!this.d.registry) throw new BerthError('not-implemented', 'this daemon has no registry client');
    return this.d.registry;
  }

  /**
   * The references a pull of `reference` tries, in order: for a Docker Hub name (`busybox`,
   * `user/app`, `docker.io/library/busybox`) each `--add-registry` registry first, then docker.io;
   * otherwise the reference alone. compat: the docker CLI sends `docker run`'s pulls fully
   * qualified (`fromImage=docker.io/library/busybox`), so a short name cannot be told from an
   * explicit docker.io one: both take the search order.
   */
  #candidates(reference: string): ImageReference[] {
    const ref = parseReference(reference);
    const extra = this.d.searchRegistries ?? [];
    if (!extra.length || ref.domain !== 'docker.io') return [ref];
    const rest = ref.path.replace(/^library\//, '') + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
    const out: ImageReference[] = [];
    for (const r of extra) {
      try {
        out.push(parseReference(`${r}/${rest}`));
      } catch {
        // a registry whose names this reference cannot take: skip it
      }
    }
    const seen = new Set<string>();
    return [...out, ref].filter((c) => !seen.has(referenceString(c)) && !!seen.add(referenceString(c)));
  }

  /**
   * `docker pull`: resolve `reference` (a tag, default `latest`, or a digest) on its registry for
   * `platform` (default the host's), fetch the config and the missing layers (three at once, each
   * verified by size and digest as it streams into the content store, and extracted as it arrives
   * when it is next in line), apply them in order, then tag the image and record its RepoDigest.
   * The registry's mirrors are tried first; a short name goes through the `--add-registry`
   * registries before docker.io. With `allTags` and a reference without tag or digest, every tag
   * of the repository is pulled (`docker pull -a`). Downloads resume: bytes an interrupted pull
   * kept are not fetched again. Progress events follow dockerd's (`Pulling fs layer`,
   * `Downloading`, `Download complete`, `Extracting`, `Pull complete`, `Digest: …`, `Status: …`).
   * Returns the image id (the last tag's with allTags). not-found for an unknown repository, tag or
   * platform; unauthorized or forbidden when the registry refuses; invalid-argument for a malformed
   * or mismatching manifest, config or blob (nothing is kept then: the layers this pull created and
   * the blobs it fetched are removed); unavailable when the registry cannot be reached.
   */
  async pull(reference: string, opts: RegistryOpOptions & { platform?: string; allTags?: boolean } = {}): Promise<Digest> {
    const progress = opts.progress ?? nullSink;
    const candidates = this.#candidates(reference);
    let last: unknown;
    for (const ref of candidates) {
      if (candidates.length > 1) progress({ status: `Trying to pull repository ${repositoryName(ref)} ... ` });
      try {
        if (opts.allTags && !ref.tag && !ref.digest) return await this.#pullAllTags(ref, opts, progress);
        return (await this.#pullOne(withDefaultTag(ref), opts, progress, true)).id;
      } catch (err) {
        const k = kindOf(err);
        if (candidates.length === 1 || (k !== 'not-found' && k !== 'unavailable') || opts.signal?.aborted) throw err;
        last = err;
      }
    }
    throw last;
  }

  async #pullAllTags(ref: ImageReference, opts: RegistryOpOptions & { platform?: string }, progress: ProgressSink): Promise<Digest> {
    const src = await this.#source(ref, opts.auth);
    const tags = (await src.tags(opts.signal)).sort();
    if (tags.length === 0) throw new BerthError('not-found', `no tags found for ${familiarRepository(ref)}`);
    let id: Digest | undefined;
    let updated = false;
    for (const tag of tags) {
      const r = await this.#pullOne({ ...ref, tag }, opts, progress, false);
      id = r.id;
      updated ||= r.updated;
    }
    // compat: dockerd ends `pull -a` with one status line naming the repository
    progress({ status: `Status: ${updated ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarRepository(ref)}` });
    return id!;
  }

  async #source(ref: ImageReference, auth?: Credentials): Promise<PullSource> {
    return this.#registry().pullSource(ref.domain, ref.path, auth, (from, err) => this.d.log.info({ mirror: from.source, repository: repositoryName(ref), err: messageOf(err) }, 'pull: mirror failed, trying the next source'));
  }

  /** Pull one tag or digest; `status` adds dockerd's closing `Status:` line. */
  async #pullOne(ref: ImageReference, opts: RegistryOpOptions & { platform?: string }, progress: ProgressSink, status: boolean): Promise<{ id: Digest; updated: boolean }> {
    const platform = parsePlatform(opts.platform);
    const tagOrDigest = ref.digest ?? ref.tag!;
    const src = await this.#source(ref, opts.auth);
    const resolved = await src.resolve(tagOrDigest, platform, opts.signal);
    progress({ id: tagOrDigest, status: `Pulling from ${ref.path}` });
    const m = resolved.manifest.parsed;
    for (const l of m.layers) layerCompression(l); // refuses media types that are not layers
    const cfgRaw = (await this.d.blobs.has(m.config.digest)) ? await this.d.blobs.get(m.config.digest) : await src.blobBytes(m.config, MAX_CONFIG, opts.signal);
    if (sha256(cfgRaw) !== m.config.digest) throw invalid(`image config ${m.config.digest}: digest mismatch`);
    const config = parseImageConfig(cfgRaw);
    if (opts.platform && (config.os !== platform.os || config.architecture !== platform.architecture)) {
      // compat: dockerd refuses an image of another platform only when --platform was given
      throw new BerthError('not-found', `image with reference ${familiarName(ref)} was found but its platform (${platformString(config)}) does not match the specified platform (${platformString(platform)})`);
    }
    if (config.rootfs.diff_ids.length !== m.layers.length) throw invalid(`invalid manifest: ${m.layers.length} layers for ${config.rootfs.diff_ids.length} diff_ids in the image config`);
    const chain = chainIds(config.rootfs.diff_ids);
    const present: boolean[] = [];
    for (const c of chain) present.push(!!this.d.meta.getLayer(c) && (await this.d.layers.exists(c)));
    const name = ref.digest ? undefined : normalizedName(ref);
    const hadImage = !!this.d.meta.getImage(m.config.digest);
    const before = name ? this.d.meta.getTag(name) : hadImage ? m.config.digest : undefined;

    // compat: dockerd skips the layers entirely when it holds the image already
    if (!(hadImage && present.every(Boolean))) await this.#pullLayers(src, m.layers, config.rootfs.diff_ids, present, progress, opts.signal);

    const repoDigest = `${repositoryName(ref)}@${resolved.digest}`;
    const id = await this.addImage(cfgRaw, name ? [name] : [], { repoDigests: [repoDigest] });
    this.d.events.emit('image', 'pull', familiarName(ref), { name: familiarName(ref) });
    progress({ status: `Digest: ${resolved.digest}` });
    const updated = before !== id;
    if (status) progress({ status: `Status: ${updated ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarName(ref)}` });
    return { id, updated };
  }

  /**
   * Fetch the layers not `present` (three at once) and apply them in order; on failure undo what
   * this call added. A layer whose turn to be applied comes while it downloads is extracted from
   * the bytes as they arrive (PartialBlob.follow), and recorded once its blob is committed.
   */
  async #pullLayers(src: PullSource, layers: Descriptor[], diffIds: Digest[], present: boolean[], progress: ProgressSink, signal?: AbortSignal): Promise<void> {
    const ac = new AbortController();
    const abort = (): void => ac.abort(signal?.reason);
    signal?.addEventListener('abort', abort, { once: true });
    const fetched: Digest[] = [];
    const created: Digest[] = [];
    const downloads = new Map<number, Promise<void>>();
    const starts = new Map<number, Promise<PartialBlob | undefined>>();
    const downloaded = new Set<number>();
    const limit = limiter(LAYER_CONCURRENCY);
    try {
      let queued = 0;
      layers.forEach((l, i) => {
        const id = shortId(l.digest);
        if (present[i]) {
          progress(layerStatus(id, 'Already exists'));
          return;
        }
        progress(layerStatus(id, 'Pulling fs layer'));
        if (queued++ >= LAYER_CONCURRENCY) progress(layerStatus(id, 'Waiting'));
        let started!: (p: PartialBlob | undefined) => void;
        starts.set(i, new Promise((r) => (started = r)));
        const p = limit(async () => {
          try {
            if (await this.d.blobs.holds(l)) {
              progress(layerStatus(id, 'Download complete'));
              return;
            }
            const tick = throttle((current: number, total: number) => progress({ id, status: 'Downloading', progress: { current, total } }));
            const r = await src.fetchBlob(l, this.d.blobs, { signal: ac.signal, progress: tick, onStart: started });
            if (r === 'fetched') fetched.push(l.digest);
            progress(layerStatus(id, 'Verifying Checksum'));
            progress(layerStatus(id, 'Download complete'));
          } finally {
            downloaded.add(i);
            started(undefined);
          }
        });
        p.catch(() => {}); // awaited in order below
        downloads.set(i, p);
      });
      let parent: Digest | null = null;
      for (let i = 0; i < layers.length; i++) {
        const l = layers[i]!;
        const diffId = diffIds[i]!;
        if (present[i]) {
          parent = parent ? sha256(`${parent} ${diffId}`) : diffId;
          continue;
        }
        const download = downloads.get(i)!;
        const partial = await Promise.race([starts.get(i)!, download.then(() => undefined)]);
        if (!partial) await download;
        const id = shortId(l.digest);
        const tick = throttle((current: number) => {
          if (downloaded.has(i)) progress({ id, status: 'Extracting', progress: { current, total: l.size } });
        });
        const apply = (streaming: boolean): ReturnType<ImageService['registerLayer']> => this.registerLayer(parent, this.d.blobs.path(l.digest), {
          expectDiffId: diffId, blob: l.digest, signal: ac.signal, onRead: (n) => tick(n, l.size),
          ...(streaming && partial ? { input: () => partial.follow(ac.signal), blobReady: download } : {}),
        });
        let r: Awaited<ReturnType<ImageService['registerLayer']>>;
        try {
          r = await apply(true);
        } catch (err) {
          if (!partial || ac.signal.aborted) throw err;
          // the bytes followed broke off (a mirror failed and another source took over, say): once
          // the download itself succeeds, the committed blob is what counts
          await download;
          r = await apply(false);
        }
        if (r.created) created.push(r.chainId);
        parent = r.chainId;
        progress(layerStatus(id, 'Pull complete'));
      }
    } catch (err) {
      ac.abort(err);
      await Promise.allSettled(downloads.values());
      await this.#rollbackLayers(created).catch((e: unknown) => this.d.log.warn({ err: e }, 'pull: rolling back layers failed'));
      const kept = new Set(this.d.meta.listLayers().map((x) => x.blob));
      const hostile = kindOf(err) === 'invalid-argument';
      for (const b of fetched) {
        if (kept.has(b)) continue;
        // nothing stays committed; bytes that are fine stay as a partial download for the next pull
        if (hostile) await this.d.blobs.delete(b).catch(() => {});
        else await this.d.blobs.uncommit(b).catch(() => {});
      }
      throw err;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  /** Repositories on `domain` that hold blob `digest`, by what this engine pulled and pushed (RepoDigests): mount sources. */
  async #mountCandidates(digest: Digest, domain: string): Promise<string[]> {
    const withBlob = new Set(this.d.meta.listLayers().filter((l) => l.blob === digest).map((l) => l.chainId as string));
    const out: string[] = [];
    if (!withBlob.size) return out;
    for (const img of this.d.meta.listImages()) {
      const repos = img.repoDigests.map((rd) => parseReference(rd)).filter((r) => r.domain === domain).map((r) => r.path);
      if (!repos.length) continue;
      const cfg = await this.config(img.id).catch(() => undefined);
      if (!cfg || !chainIds(cfg.rootfs.diff_ids).some((c) => withBlob.has(c))) continue;
      for (const r of repos) if (!out.includes(r)) out.push(r);
    }
    return out;
  }

  /**
   * `docker push`: upload the image tagged `name:tag` (every tag of the repository when `tag` is
   * empty and `name` has none: `push -a`). Blobs the registry holds are skipped (HEAD); a blob this
   * engine knows in another repository of the same registry is mounted from there
   * (`?mount=&from=`); others go up in one PUT, or in PATCH chunks when large, three at once.
   * Layers stored uncompressed are gzipped once (the gzip blob replaces the stored one). The
   * manifest is Docker schema2, or OCI when a layer is zstd (schema2 has no zstd). Records the
   * pushed manifest's RepoDigest. not-found (dockerd's texts) when the tag is not local;
   * unauthorized or forbidden when the registry refuses.
   */
  async push(name: string, tag: string | undefined, opts: RegistryOpOptions = {}): Promise<void> {
    const registry = this.#registry();
    const progress = opts.progress ?? nullSink;
    const ref = parseReference(name);
    if (ref.digest) throw invalid('cannot push a digest reference');
    const repoName = repositoryName(ref);
    const familiar = familiarRepository(ref);
    const wanted = tag || ref.tag;
    const tags = wanted
      ? [wanted]
      : this.d.meta.listTags().filter((t) => t.ref.startsWith(`${repoName}:`)).map((t) => t.ref.slice(repoName.length + 1)).sort();
    if (tags.length === 0) throw new BerthError('not-found', `An image does not exist locally with the tag: ${familiar}`);
    for (const t of tags) if (!this.d.meta.getTag(`${repoName}:${t}`)) throw new BerthError('not-found', `tag does not exist: ${familiar}:${t}`);
    progress({ status: `The push refers to repository [${repoName}]` });
    const repo = registry.repository(ref.domain, ref.path, opts.auth);
    for (const t of tags) {
      const id = this.d.meta.getTag(`${repoName}:${t}`) as Digest;
      const cfgRaw = await this.d.blobs.get(id);
      const config = parseImageConfig(cfgRaw);
      const chain = chainIds(config.rootfs.diff_ids);
      const records = chain.map((c) => {
        const l = this.d.meta.getLayer(c);
        if (!l) throw internalMissing(c);
        return l;
      });
      // compat: dockerd lists the layers top first
      for (const l of [...records].reverse()) progress(layerStatus(shortId(l.diffId), 'Preparing'));
      const limit = limiter(LAYER_CONCURRENCY);
      let queued = 0;
      const descriptors = await Promise.all(records.map((l) => {
        const pid = shortId(l.diffId);
        if (queued++ >= LAYER_CONCURRENCY) progress(layerStatus(pid, 'Waiting'));
        return limit(async () => {
          const blob = await this.#compressedBlob(l);
          if (await repo.hasBlob(blob.digest, opts.signal)) {
            progress(layerStatus(pid, 'Layer already exists'));
          } else {
            const tick = throttle((current: number, total: number) => progress({ id: pid, status: 'Pushing', progress: { current, total } }));
            const mountFrom = await this.#mountCandidates(blob.digest, ref.domain);
            const r = await repo.pushBlob(blob, (start, end) => this.d.blobs.open(blob.digest, { start, end }), { signal: opts.signal, progress: tick, mountFrom });
            progress(layerStatus(pid, r.mounted ? `Mounted from ${r.mounted}` : 'Pushed'));
          }
          return blob;
        });
      }));
      if (!(await repo.hasBlob(id, opts.signal))) await repo.pushBlob({ digest: id, size: cfgRaw.length }, () => Readable.from([cfgRaw]), { signal: opts.signal });
      const oci = descriptors.some((b) => b.compression === 'zstd');
      const manifest: ImageManifest = oci
        ? {
          schemaVersion: 2, mediaType: MediaType.OciManifest,
          config: { mediaType: MediaType.OciConfig, size: cfgRaw.length, digest: id },
          layers: descriptors.map((b) => ({ mediaType: b.compression === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayerGzip, size: b.size, digest: b.digest })),
        }
        : {
          schemaVersion: 2, mediaType: MediaType.DockerManifest,
          config: { mediaType: MediaType.DockerConfig, size: cfgRaw.length, digest: id },
          layers: descriptors.map((b) => ({ mediaType: MediaType.DockerLayer, size: b.size, digest: b.digest })),
        };
      // compat: Docker writes schema2 manifests indented by three spaces
      const raw = Buffer.from(JSON.stringify(manifest, null, 3));
      const digest = await repo.putManifest(t, raw, manifest.mediaType!, opts.signal);
      const rec = this.d.meta.getImage(id);
      if (rec) this.d.meta.putImage({ ...rec, repoDigests: [...new Set([...rec.repoDigests, `${repoName}@${digest}`])] });
      this.d.events.emit('image', 'push', `${familiar}:${t}`, { name: `${familiar}:${t}` });
      progress({ status: `${t}: digest: ${digest} size: ${raw.length}` });
      progress({ status: '', aux: { Tag: t, Digest: digest, Size: raw.length } });
    }
  }

  /** The layer's blob compressed: as stored when it is (gzip or zstd), else gzipped once and stored in its place. */
  async #compressedBlob(l: LayerRecord): Promise<{ digest: Digest; size: number; compression: 'gzip' | 'zstd' }> {
    if (l.blobMediaType.endsWith('gzip') || l.blobMediaType.endsWith('zstd')) {
      return { digest: l.blob, size: await this.d.blobs.size(l.blob), compression: l.blobMediaType.endsWith('zstd') ? 'zstd' : 'gzip' };
    }
    const gz = await this.d.blobs.ingest(this.d.blobs.open(l.blob).pipe(createGzip()));
    const now = this.d.meta.getLayer(l.chainId);
    if (now && !now.blobMediaType.endsWith('gzip')) {
      this.d.meta.putLayer({ ...now, blob: gz.digest, blobMediaType: MediaType.OciLayerGzip });
      if (!this.d.meta.listLayers().some((o) => o.blob === now.blob)) await this.d.blobs.delete(now.blob).catch(() => {});
    }
    return { ...gz, compression: 'gzip' };
  }

  /**
   * `docker search`, as dockerd: `term` names the registry when its first component looks like
   * one (`127.0.0.1:5000/busy`), else Docker Hub; `limit` 1–100 (default 25); filters `is-official`,
   * `is-automated` (deprecated: `true` finds nothing) and `stars`. invalid-argument for a bad
   * limit or filter; not-implemented when the registry has no search.
   */
  async search(term: string, opts: { limit?: number; filters?: Map<string, string[]>; auth?: Credentials; signal?: AbortSignal } = {}): Promise<SearchResult[]> {
    const f = opts.filters ?? new Map<string, string[]>();
    for (const k of f.keys()) if (!['is-automated', 'is-official', 'stars'].includes(k)) throw invalid(`invalid filter '${k}'`);
    const bool = (k: string): boolean | undefined => {
      const v = f.get(k);
      if (!v?.length) return undefined;
      const x = v[v.length - 1]!.toLowerCase();
      if (!['true', 'false', '1', '0'].includes(x)) throw invalid(`invalid filter '${k}=${v[v.length - 1]!}'`);
      return x === 'true' || x === '1';
    };
    const automated = bool('is-automated');
    const official = bool('is-official');
    let stars = 0;
    for (const v of f.get('stars') ?? []) {
      if (!/^-?\d+$/.test(v)) throw invalid(`invalid filter 'stars=${v}'`);
      stars = Math.max(stars, Number(v));
    }
    const limit = opts.limit ?? 25;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid(`limit ${limit} is outside the range of [1, 100]`);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(term)) throw invalid(`invalid repository name: repository name (${term}) should not have a scheme`);
    // compat: dockerd's splitReposSearchTerm
    const parts = term.split('/');
    const first = parts[0]!;
    const hub = parts.length === 1 || (!first.includes('.') && !first.includes(':') && first !== 'localhost');
    const domain = hub ? 'docker.io' : domainOfServerAddress(first);
    let remote = hub ? term : parts.slice(1).join('/');
    if (domain === 'docker.io') remote = remote.replace(/^library\//, '');
    // compat: an `is-automated=true` filter finds nothing since the field was deprecated
    if (automated === true) return [];
    const results = await this.#registry().search(domain, remote, limit, opts.auth, opts.signal);
    return results.filter((r) => (automated === undefined || r.is_automated === automated)
      && (official === undefined || r.is_official === official)
      && (!f.has('stars') || r.star_count >= stars)).map((r) => ({ ...r, is_automated: false }));
  }

  /**
   * `docker login`: check credentials against the registry `serverAddress` names (Docker Hub when
   * empty). unauthorized when refused, unavailable when unreachable.
   */
  async login(creds: Credentials, signal?: AbortSignal): Promise<{ status: string; identityToken?: string }> {
    return this.#registry().login(creds.serverAddress ?? credentialKey('docker.io'), creds, signal);
  }

  /** `docker buildx imagetools`-style inspection: the descriptor a reference resolves to and its platforms. */
  async distribution(reference: string, opts: { auth?: Credentials; signal?: AbortSignal } = {}): Promise<DistributionInfo> {
    const ref = withDefaultTag(parseReference(reference));
    const repo = this.#registry().repository(ref.domain, ref.path, opts.auth);
    const top = await repo.manifest(ref.digest ?? ref.tag!, { signal: opts.signal });
    const descriptor = { mediaType: top.parsed.mediaType, digest: top.digest, size: top.raw.length };
    if (top.parsed.kind === 'index') {
      const platforms = top.parsed.manifests.flatMap((d) => (d.platform && d.platform.os !== 'unknown' ? [d.platform] : []));
      return { descriptor, platforms };
    }
    const cfg = parseImageConfig(await repo.blobBytes(top.parsed.config, MAX_CONFIG, opts.signal));
    return { descriptor, platforms: [{ architecture: cfg.architecture, os: cfg.os, ...(cfg.variant ? { variant: cfg.variant } : {}) }] };
  }

  /** Remove layers (and their blobs) no image or container uses. */
  /**
   * A container of deleted image `id` (`rmi -f`) is gone: drop the image's config blob and the
   * layers nothing uses any more. No-op while the image record exists.
   */
  async releaseDeleted(id: Digest): Promise<void> {
    if (this.d.meta.getImage(id) || this.d.imagesInUse().has(id)) return;
    await this.gcLayers();
    await this.d.blobs.delete(id).catch(() => {});
  }

  /** Bytes of every stored layer, each counted once (shared layers too). */
  layersSize(): number {
    return this.d.meta.listLayers().reduce((a, l) => a + l.size, 0);
  }

  async gcLayers(): Promise<void> {
    const used = await this.#usedLayers();
    const layers = this.d.meta.listLayers();
    // children before parents
    const byDepth = layers.map((l) => ({ l, depth: depthOf(l.chainId, layers) })).sort((a, b) => b.depth - a.depth);
    for (const { l } of byDepth) {
      if (used.has(l.chainId)) continue;
      try {
        await this.#dropLayer(l.chainId);
      } catch (err) {
        if (err instanceof BerthError && err.kind === 'conflict') continue; // a container's snapshot still sits on it
        throw err;
      }
    }
  }

  /**
   * `docker history`: newest first. As dockerd does, the rows take the ids (and tags) of the image
   * and then of its local parents, one per row; the rest are `<missing>`.
   */
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
    let cur: ImageRecord | undefined = v.record;
    for (const row of rows) {
      if (!cur) break;
      row.id = cur.id;
      row.tags = this.d.meta.tagsOf(cur.id).map((t) => familiarName(parseReference(t))).sort();
      cur = cur.parent ? this.d.meta.getImage(cur.parent) : undefined;
    }
    return rows;
  }

  /**
   * `docker image prune`, as dockerd: dangling images (untagged, without children), or with `all`
   * every image; each goes through rmi without force, so images containers use are kept.
   * spaceReclaimed counts the layers actually removed.
   */
  async prune(opts: { all?: boolean; match?: (v: ImageView) => boolean } = {}): Promise<{ deleted: ImageDeleteItem[]; spaceReclaimed: number }> {
    const sizes = new Map(this.d.meta.listLayers().map((l) => [l.chainId as string, l.size]));
    const deleted: ImageDeleteItem[] = [];
    for (const v of await this.list()) {
      if (!this.d.meta.getImage(v.record.id)) continue; // pruned with a child already
      const refs = this.#refs(v.record.id);
      if (!opts.all && v.children.length > 0) continue;
      if (refs.length === 0 && v.children.length > 0) continue;
      if (opts.match && !opts.match(v)) continue;
      const attempt = async (ref: string): Promise<void> => {
        try {
          deleted.push(...(await this.remove(ref)));
        } catch (err) {
          if (!(err instanceof BerthError && (err.kind === 'conflict' || err.kind === 'not-found'))) this.d.log.warn({ err, ref }, 'image prune: could not remove image');
        }
      };
      if (refs.length > 0) {
        if (!opts.all && refs.some((r) => !r.canonical)) continue;
        for (const r of refs) await attempt(familiarName(parseReference(r.ref)));
      } else {
        await attempt(v.record.id.slice(7));
      }
    }
    const space = deleted.reduce((a, d) => a + (d.deleted ? (sizes.get(d.deleted) ?? 0) : 0), 0);
    this.d.events.emit('image', 'prune', '', { reclaimed: String(space) });
    return { deleted, spaceReclaimed: space };
  }
}

/** Run at most `n` tasks at once, in the order given. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => queue.push(r)); // the slot is handed over
    else active++;
    try {
      return await task();
    } finally {
      const next = queue.shift();
      if (next) next();
      else active--;
    }
  };
}

/** A byte-progress callback that passes at most one call per PROGRESS_EVERY ms, and always the last one. */
function throttle(f: (current: number, total: number) => void): (current: number, total: number) => void {
  let last = 0;
  return (current, total) => {
    const now = Date.now();
    if (current !== 0 && current < total && now - last < PROGRESS_EVERY) return;
    last = now;
    f(current, total);
  };
}

/** dockerd's isImageIDPrefix: `ref` names the image by (a prefix of) its id. */
function isIdPrefix(id: Digest, ref: string): boolean {
  return id.startsWith(ref) || id.slice(7).startsWith(ref);
}

/** dockerd's isSingleReference: at most one tag, and digests only from that tag's repository. */
function isSingleReference(refs: { repo: string; canonical: boolean }[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  const tags = refs.filter((r) => !r.canonical);
  if (tags.length > 1) return false;
  const canonicalRepos = new Set(refs.filter((r) => r.canonical).map((r) => r.repo));
  const single = tags[0] ?? refs[0]!;
  return canonicalRepos.size === 1 && canonicalRepos.has(single.repo);
}

async function isRegularFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function readArchiveFile(dir: string, rel: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, rel));
  } catch {
    throw invalid(`invalid archive: ${rel} is missing`);
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

/** How a layer blob is recorded, by its compression. */
const LAYER_MEDIA_TYPE: Record<Compression, string> = { gzip: MediaType.OciLayerGzip, zstd: MediaType.OciLayerZstd, none: MediaType.OciLayer };

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

/**
 * Unpack an image archive's regular files into `dir`, refusing names that escape it. Symlinks
 * between the archive's own files (the legacy docker-save layout links a layer shared by two
 * images: `<id>/layer.tar -> ../<other>/layer.tar`) become hard links once everything is out;
 * a link leaving the archive, or to something it does not hold, is refused.
 */
async function extractArchive(input: Readable, dir: string, signal?: AbortSignal): Promise<void> {
  const ex = tar.extract();
  const links = new Map<string, string>();
  let entries = 0;
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      entries++;
      const name = normalize(h.name).replace(/\/+$/, '');
      if (isAbsolute(h.name) || name === '..' || name.startsWith('../')) {
        stream.resume();
        reject(invalid(`invalid archive: path escapes the archive: ${h.name}`));
        return;
      }
      if (h.type === 'file' || h.type === 'contiguous-file') {
        const target = join(dir, name);
        mkdir(dirname(target), { recursive: true })
          .then(() => pipeline(stream, createWriteStream(target, { flags: 'wx' })))
          .then(() => next(), (err: unknown) => reject((err as { code?: string }).code === 'EEXIST' ? invalid(`invalid archive: duplicate entry ${h.name}`) : err));
        return;
      }
      if (h.type === 'symlink' || h.type === 'link') {
        const linkname = h.linkname ?? '';
        const resolved = h.type === 'symlink' ? posix.normalize(posix.join(posix.dirname(name), linkname)) : normalize(linkname);
        if (isAbsolute(linkname) || resolved === '..' || resolved.startsWith('../')) {
          stream.resume();
          reject(invalid(`invalid archive: link escapes the archive: ${h.name} -> ${linkname}`));
          return;
        }
        links.set(name, resolved);
      }
      stream.on('end', () => next());
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', (e: Error) => reject(invalid(`invalid archive: ${e.message}`)));
  });
  input.on('error', (e) => ex.destroy(e));
  if (signal) signal.addEventListener('abort', () => ex.destroy(new Error('aborted')), { once: true });
  input.pipe(ex);
  try {
    await done;
  } finally {
    input.unpipe(ex);
    input.resume(); // drain what is left so the client sees our reply, not a reset
  }
  if (entries === 0) throw invalid('invalid archive: not a tar archive, or an empty one');
  for (const [name, target] of links) {
    let t = target;
    for (let hops = 0; links.has(t) && hops < 16; hops++) t = links.get(t)!;
    if (!(await isRegularFile(join(dir, t)))) continue; // dangling: refused when a manifest names it
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await link(join(dir, t), join(dir, name)).catch(() => {});
  }
}

interface ArchiveImage {
  config: string;
  layers: string[];
  repoTags: string[];
}

/** The images of an extracted archive: from manifest.json, else from an OCI layout's index.json. invalid-argument when malformed. */
async function readManifests(dir: string): Promise<ArchiveImage[]> {
  const safe = (p: unknown): string => {
    if (typeof p !== 'string' || p === '') throw invalid('invalid archive: manifest.json malformed: a path is not a string');
    const n = normalize(p);
    if (isAbsolute(n) || n === '..' || n.startsWith('../')) throw invalid(`invalid archive: path escapes the archive: ${p}`);
    return n;
  };
  let raw: string | undefined;
  try {
    raw = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch {
    raw = undefined;
  }
  if (raw !== undefined) {
    let list: unknown;
    try {
      list = JSON.parse(raw);
    } catch (err) {
      throw invalid(`invalid archive: manifest.json malformed: ${(err as Error).message}`);
    }
    if (!Array.isArray(list)) throw invalid('invalid archive: manifest.json malformed: not a list');
    return list.map((e: unknown) => {
      if (typeof e !== 'object' || e === null) throw invalid('invalid archive: manifest.json malformed: an entry is not an object');
      const o = e as { Config?: unknown; Layers?: unknown; RepoTags?: unknown };
      if (o.Layers !== undefined && o.Layers !== null && !Array.isArray(o.Layers)) throw invalid('invalid archive: manifest.json malformed: Layers is not a list');
      if (o.RepoTags !== undefined && o.RepoTags !== null && !(Array.isArray(o.RepoTags) && o.RepoTags.every((t) => typeof t === 'string'))) {
        throw invalid('invalid archive: manifest.json malformed: RepoTags is not a list of strings');
      }
      return { config: safe(o.Config), layers: Array.isArray(o.Layers) ? o.Layers.map(safe) : [], repoTags: (o.RepoTags as string[] | null | undefined) ?? [] };
    });
  }
  // OCI image layout
  let index: { manifests?: Descriptor[] };
  try {
    index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
  } catch {
    throw invalid('invalid archive: neither manifest.json nor index.json found');
  }
  if (typeof index !== 'object' || index === null || !Array.isArray(index.manifests)) throw invalid('invalid archive: index.json malformed');
  const out: ArchiveImage[] = [];
  const blob = (d: unknown): string => {
    if (typeof d !== 'string' || !isDigest(d)) throw invalid(`invalid archive: bad digest ${String(d)}`);
    return join('blobs', 'sha256', d.slice(7));
  };
  const visit = async (desc: Descriptor, name: string | undefined, depth: number): Promise<void> => {
    if (depth > 4) throw invalid('invalid archive: index nesting too deep');
    const raw = await readArchiveFile(dir, blob(desc.digest));
    if (sha256(raw) !== desc.digest) throw invalid(`invalid archive: digest mismatch for ${desc.digest}`);
    let j: { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    try {
      j = JSON.parse(raw.toString()) as typeof j;
    } catch {
      throw invalid(`invalid archive: ${desc.digest} is not JSON`);
    }
    if (Array.isArray(j.manifests)) {
      const pick = j.manifests.find((m) => !m.platform || (m.platform.os === 'linux' && m.platform.architecture === hostArch())) ?? j.manifests[0];
      if (pick) await visit(pick, name, depth + 1);
      return;
    }
    if (!j.config || !Array.isArray(j.layers)) throw invalid('invalid archive: manifest without config or layers');
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
