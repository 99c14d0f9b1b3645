// What the builder needs from the engine, declared here so `build` depends only on this seam.
import type { ProgressSink } from '../common/index.ts';
import type { HistoryEntry, ImageConfig, ImageRunConfig } from '../oci/index.ts';

/** A local image: its id (`sha256:…`) and config. The empty id stands for `scratch`. */
export interface BuildImage { id: string; config: ImageConfig }

/** How a step's image differs from its parent's: the run config and one history entry. */
export interface StepCommit { runConfig: ImageRunConfig; history: HistoryEntry; author?: string }

/** A RUN step: a container of `image` running `argv`. */
export interface RunStep {
  image: string;
  argv: string[];
  env: string[];
  user: string;
  workingDir: string;
  networkMode: string;
  extraHosts: string[];
  resources: { memory?: number; memorySwap?: number; cpuShares?: number; cpusetCpus?: string; cpuPeriod?: number; cpuQuota?: number; shmSize?: number };
}

/** A RUN step's finished container: commit it as a new image, then remove it. */
export interface RanStep {
  containerId: string;
  exitCode: number;
  /** `keepContainer`: the container stays (--rm=false), so its files are copied, not taken over. */
  commit(c: StepCommit, opts?: { keepContainer?: boolean }): Promise<string>;
  remove(): Promise<void>;
}

/**
 * The engine side of a build. Every method that makes an image returns its id; images made here
 * are untagged until `tag`, and record their parent so `images` hides them as intermediates.
 */
export interface BuildBackend {
  /** Where the builder may keep per-build files (context, downloads); removed by the builder. */
  readonly tmpDir: string;
  /** A local image, pulled when absent (or always with `pull`). not-found when it cannot be had. */
  image(ref: string, opts: { pull: boolean; platform?: string; auth?: (registry: string) => unknown; progress: ProgressSink; signal: AbortSignal }): Promise<BuildImage>;
  /** Run a step as a real container through the engine's runtime path; output goes to `out`. */
  run(step: RunStep, out: (data: Buffer) => void, created: (containerId: string) => void, signal: AbortSignal): Promise<RanStep>;
  /**
   * A new image on `parent` (null: scratch) whose one new layer holds what `fill` changes in
   * the mounted rootfs. An empty change still makes a layer, as docker's COPY does, unless
   * `emptyAsConfig` (WORKDIR of a directory that exists) makes it a config-only image.
   */
  addLayer(parent: string | null, fill: (rootfs: string) => Promise<void>, c: StepCommit, opts?: { emptyAsConfig?: boolean }): Promise<string>;
  /** A new image on `parent` with a changed config only (ENV, LABEL, CMD, …). */
  commitConfig(parent: string | null, c: StepCommit): Promise<string>;
  /** Read-only access to an image's rootfs for the duration of `use` (COPY --from). */
  withRootfs<T>(image: string | null, use: (rootfs: string) => Promise<T>): Promise<T>;
  /** Tag `id` as each normalised reference. */
  tag(id: string, refs: string[]): Promise<void>;
  /** The build cache: a step key to the image it made; misses when that image is gone. */
  cacheGet(key: string): string | undefined;
  cachePut(key: string, image: string): void;
  /** What a step slot saw last time (for --explain-cache). */
  slotGet(slot: string): unknown;
  slotPut(slot: string, data: unknown): void;
  /** Images whose parent chain holds `id` (for --cache-from): the ancestors of each given image. */
  ancestors(id: string): string[];
}
