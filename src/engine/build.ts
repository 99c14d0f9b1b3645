// The engine's side of `docker build`: the builder's backend over the container and image services.
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newId, notFound, sha256, type Digest } from '../common/index.ts';
import { Builder, type BuildBackend, type BuildImage, type BuildMessage, type BuildOptions, type RanStep, type RunStep, type StepCommit } from '../build/index.ts';
import { MediaType, hostArch, parseReference, type ImageConfig } from '../oci/index.ts';
import type { Credentials } from '../registry/index.ts';
import { exportChanges, mountAll, unmount, type LayerStore } from '../storage/index.ts';
import type { ContentStore, MetadataStore } from '../store/index.ts';
import type { ContainerService } from './containers.ts';
import type { ImageService } from './images.ts';
import type { ContainerSpec } from './model.ts';

export interface BuildServiceDeps {
  containers: ContainerService;
  images: ImageService;
  layers: LayerStore;
  meta: MetadataStore;
  blobs: ContentStore;
  /** <data-root>/tmp: contexts, mounts and layer tars of builds in progress. */
  tmpDir: string;
}

/** A container spec with docker's defaults for a build step. */
function stepSpec(step: RunStep): ContainerSpec {
  const r = step.resources;
  return {
    image: step.image, cmd: step.argv, entrypoint: [], env: step.env, workingDir: step.workingDir, user: step.user,
    hostname: '', domainname: '', labels: {}, tty: false, openStdin: false, stdinOnce: false,
    attachStdin: false, attachStdout: true, attachStderr: true, exposedPorts: [], volumes: [], stopSignal: '', stopTimeout: null,
    // compat: a build step never runs the image's HEALTHCHECK (moby's withoutHealthcheck)
    healthcheck: { test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 },
    host: {
      binds: [], mounts: [], tmpfs: {}, volumesFrom: [], networkMode: step.networkMode || 'default', portBindings: {}, publishAllPorts: false,
      restartPolicy: { name: 'no', maximumRetryCount: 0 }, autoRemove: false, capAdd: [], capDrop: [], privileged: false, securityOpt: [],
      readonlyRootfs: false, init: false,
      resources: {
        memory: r.memory ?? 0, memorySwap: r.memorySwap ?? 0, memoryReservation: 0, nanoCpus: 0, cpuShares: r.cpuShares ?? 0,
        cpuQuota: r.cpuQuota ?? 0, cpuPeriod: r.cpuPeriod ?? 0, cpusetCpus: r.cpusetCpus ?? '', cpusetMems: '', pidsLimit: 0, blkioWeight: 0,
        oomKillDisable: false, ulimits: [],
      },
      shmSize: r.shmSize ?? 0, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: step.extraHosts, links: [], pidMode: '', ipcMode: '', utsMode: '',
      sysctls: {}, groupAdd: [], logConfig: { type: 'json-file', config: {} }, consoleSize: null,
    },
  };
}

export class BuildService implements BuildBackend {
  readonly #builder: Builder;
  constructor(private readonly d: BuildServiceDeps) {
    this.#builder = new Builder(this);
  }

  get tmpDir(): string {
    return this.d.tmpDir;
  }

  /** `POST /build`: the context tar in, JSON messages out; the final image id. */
  build(input: Readable, opts: BuildOptions, out: (m: BuildMessage) => void, signal: AbortSignal): Promise<string> {
    return this.#builder.build(input, opts, out, signal);
  }

  /** `POST /build/prune`: forget cached steps (all, or those whose images are gone). */
  prune(all: boolean): { cachesDeleted: string[]; spaceReclaimed: number } {
    return { cachesDeleted: this.d.meta.pruneBuildCache(all), spaceReclaimed: 0 };
  }

  // ---------- BuildBackend ----------

  async image(ref: string, opts: Parameters<BuildBackend['image']>[1]): Promise<BuildImage> {
    let id: string | undefined;
    if (!opts.pull) {
      try {
        id = this.d.images.resolve(ref);
      } catch {
        id = undefined;
      }
    }
    if (!id) {
      const registry = domainOf(ref);
      id = await this.d.images.pull(ref, { platform: opts.platform, auth: opts.auth?.(registry) as Credentials | undefined, progress: opts.progress, signal: opts.signal });
    }
    return { id, config: await this.d.images.config(id as Digest) };
  }

  async run(step: RunStep, out: (data: Buffer) => void, created: (id: string) => void, signal: AbortSignal): Promise<RanStep> {
    const c = this.d.containers;
    const { id } = await c.create(stepSpec(step));
    created(id);
    const remove = (): Promise<void> => c.remove(id, { force: true });
    try {
      const ac = new AbortController();
      const onAbort = (): void => ac.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const session = await c.attach(id, { stdin: false, stdout: true, stderr: true, stream: true, logs: false, signal: ac.signal });
      session.onFrame((f) => out(f.data));
      const exited = c.waitFor(id, 'next-exit');
      await c.start(id);
      const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('build cancelled')), { once: true }));
      const { statusCode } = await Promise.race([exited, aborted]);
      await Promise.race([session.done, new Promise((r) => setTimeout(r, 2000))]);
      session.close();
      signal.removeEventListener('abort', onAbort);
      return {
        containerId: id, exitCode: statusCode,
        commit: async (s: StepCommit, opts?: { keepContainer?: boolean }) => {
          const parent = step.image as Digest;
          const top = await this.d.images.topLayer(parent);
          const base = await this.d.images.config(parent);
          let diffId: Digest;
          if (opts?.keepContainer) {
            // the container keeps its rootfs: the layer gets a copy of the diff
            const tmp = await mkdtemp(join(this.d.tmpDir, 'commit-'));
            try {
              await pipeline(exportChanges(this.d.layers, c.get(id).snapshot), createWriteStream(join(tmp, 'layer.tar')));
              diffId = (await this.d.images.registerLayer(top, join(tmp, 'layer.tar'), {})).diffId;
            } finally {
              await rm(tmp, { recursive: true, force: true });
            }
          } else {
            // the step's container is removed next: its snapshot becomes the layer as it is
            diffId = await this.#adopt(top, c.get(id).snapshot);
          }
          return this.d.images.addImage(this.#next(base, s, diffId), [], { parent });
        },
        remove,
      };
    } catch (err) {
      await c.kill(id).catch(() => {});
      await remove().catch(() => {});
      throw err;
    }
  }

  async #config(parent: string | null): Promise<ImageConfig> {
    if (parent) return this.d.images.config(parent as Digest);
    return { architecture: hostArch(), os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, history: [] };
  }

  #next(base: ImageConfig, c: StepCommit, diffId?: Digest): ImageConfig {
    const now = new Date().toISOString();
    const cfg: ImageConfig = {
      ...base, created: now, config: c.runConfig,
      rootfs: { type: 'layers', diff_ids: diffId ? [...base.rootfs.diff_ids, diffId] : base.rootfs.diff_ids },
      history: [...(base.history ?? []), { created: now, ...c.history }],
    };
    if (c.author !== undefined) cfg.author = c.author;
    delete cfg.container_config;
    return cfg;
  }

  async commitConfig(parent: string | null, c: StepCommit): Promise<string> {
    return this.d.images.addImage(this.#next(await this.#config(parent), c), [], { parent: parent ?? '' });
  }

  async addLayer(parent: string | null, fill: (rootfs: string) => Promise<void>, c: StepCommit, opts: { emptyAsConfig?: boolean } = {}): Promise<string> {
    const base = await this.#config(parent);
    const top = parent ? await this.d.images.topLayer(parent as Digest) : null;
    const key = `build-${newId()}`;
    await mkdir(this.d.tmpDir, { recursive: true });
    const root = await mkdtemp(join(this.d.tmpDir, 'layer-'));
    await this.d.layers.prepare(key, top);
    let adopted = false;
    try {
      // volatile: the mount lives for one step and its upper dir is committed right after, so
      // overlay's sync at unmount (a flush of the whole upper filesystem) buys nothing here
      const mounts = (await this.d.layers.mounts(key)).map((m) => (m.type === 'overlay' ? { ...m, options: [...m.options, 'volatile'] } : m));
      await mountAll(mounts, root);
      try {
        await fill(root);
      } finally {
        await unmount(root, { lazy: true });
      }
      if (opts.emptyAsConfig && (await this.d.layers.changes(key)).length === 0) return await this.commitConfig(parent, { ...c, history: { ...c.history, empty_layer: true } });
      const diffId = await this.#adopt(top, key);
      adopted = true;
      return await this.d.images.addImage(this.#next(base, c, diffId), [], { parent: parent ?? '' });
    } finally {
      if (!adopted) await this.d.layers.remove(key).catch(() => {});
      await rm(root, { recursive: true, force: true });
    }
  }

  /**
   * Make snapshot `key` (on `top`) a committed layer without copying its files: its diff is
   * streamed once into the content store (that gives the diff id and the blob save and push
   * need), then the snapshot itself becomes the layer. A layer already present wins and `key`
   * is dropped. Re-extracting the diff instead cost a second write of every file.
   */
  async #adopt(top: Digest | null, key: string): Promise<Digest> {
    const { digest: diffId, size } = await this.d.blobs.ingest(exportChanges(this.d.layers, key));
    const chainId = top ? sha256(`${top} ${diffId}`) : diffId;
    if (this.d.meta.getLayer(chainId) && (await this.d.layers.exists(chainId))) {
      await this.d.layers.remove(key);
      return diffId;
    }
    if (await this.d.layers.exists(chainId)) await this.d.layers.remove(key);
    else await this.d.layers.commit(chainId, key);
    this.d.meta.putLayer({ chainId, diffId, parent: top, size, blob: diffId, blobMediaType: MediaType.OciLayer });
    return diffId;
  }

  async withRootfs<T>(image: string | null, use: (rootfs: string) => Promise<T>): Promise<T> {
    await mkdir(this.d.tmpDir, { recursive: true });
    const dir = await mkdtemp(join(this.d.tmpDir, 'view-'));
    try {
      const top = image ? await this.d.images.topLayer(image as Digest) : null;
      if (!top) return await use(dir);
      const key = `build-view-${newId()}`;
      const mounts = await this.d.layers.view(key, top);
      try {
        await mountAll(mounts, dir);
        try {
          return await use(dir);
        } finally {
          await unmount(dir, { lazy: true });
        }
      } finally {
        await this.d.layers.remove(key).catch(() => {});
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async tag(id: string, refs: string[]): Promise<void> {
    for (const r of refs) await this.d.images.tag(id, r);
  }

  cacheGet(key: string): string | undefined {
    const id = this.d.meta.getBuildCache(key);
    return id && this.d.meta.getImage(id) ? id : undefined;
  }

  cachePut(key: string, image: string): void {
    this.d.meta.putBuildCache(key, image);
  }

  slotGet(slot: string): unknown {
    return this.d.meta.getBuildSlot(slot);
  }

  slotPut(slot: string, data: unknown): void {
    this.d.meta.putBuildSlot(slot, data);
  }

  ancestors(ref: string): string[] {
    let id: string;
    try {
      id = this.d.images.resolve(ref);
    } catch {
      throw notFound('image', ref);
    }
    const out: string[] = [];
    for (let cur: string | undefined = id; cur && out.length < 1000; cur = this.d.meta.getImage(cur)?.parent || undefined) out.push(cur);
    return out;
  }
}

/** The registry host of a reference (`docker.io` for short names). */
function domainOf(ref: string): string {
  try {
    return parseReference(ref).domain;
  } catch {
    return 'docker.io';
  }
}
