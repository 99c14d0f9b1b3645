import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type {
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerInspectResponse,
  ContainerPruneResponse,
  ContainerStats,
  ContainerSummary,
  ContainerTopResponse,
  ContainerUpdateRequest,
  ContainerUpdateResponse,
  ContainerWaitResponse,
  EventMessage,
  ExecConfig,
  ExecInspect,
  ExecStartConfig,
  Filters,
  FilesystemChange,
  HistoryResponseItem,
  IdResponse,
  ImageDeleteResponseItem,
  ImageInspect,
  ImagePruneResponse,
  ImageSummary,
  Network,
  NetworkConnectRequest,
  NetworkCreateRequest,
  NetworkCreateResponse,
  NetworkDisconnectRequest,
  NetworkPruneResponse,
  BuildPruneResponse,
  ProgressMessage,
  AuthConfig,
  AuthResponse,
  ImageSearchResult,
  SystemDataUsageResponse,
  SystemInfo,
  SystemVersion,
  Volume,
  VolumeCreateOptions,
  VolumeListResponse,
  VolumePruneResponse,
  WaitCondition,
} from '../api/index.ts';
import { ClientError } from './errors.ts';
import { jsonStream } from './streams.ts';
import { type Hijacked, Transport, resolveHost } from './transport.ts';

export const API_VERSION = '1.45';

export interface EngineClientOptions {
  /** Path of the daemon's unix socket. */
  socketPath?: string;
  /** `unix:///path` (as `-H`, `BERTH_HOST`, `DOCKER_HOST`); used when socketPath is not given. */
  host?: string;
  /** API version prefix; defaults to 1.45, lowered automatically for older daemons. */
  version?: string;
}

export interface PingResult {
  apiVersion?: string;
  osType?: string;
  experimental: boolean;
  builderVersion?: string;
}

export interface LogsOptions {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  since?: string;
  until?: string;
  timestamps?: boolean;
  tail?: string;
  details?: boolean;
  signal?: AbortSignal;
}

export interface AttachOptions {
  stream?: boolean;
  logs?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  detachKeys?: string;
}

/** The multiplexed media type (API 1.42+); older daemons only send raw-stream. */
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';
export const RAW_STREAM = 'application/vnd.docker.raw-stream';

/**
 * A typed Docker Engine API client over a unix socket. Method names follow the Go client
 * (`containerList`, `imageInspect`, …). Every method rejects with ClientError for a daemon error
 * status (its `message` is the daemon's) and with ConnectionError when the socket is unreachable.
 * Streaming methods return async iterables or raw responses that the caller must consume.
 */
export class EngineClient {
  readonly transport: Transport;

  constructor(opts: EngineClientOptions = {}) {
    const { host, socketPath } = opts.socketPath
      ? { host: `unix://${opts.socketPath}`, socketPath: opts.socketPath }
      : resolveHost(opts.host);
    this.transport = new Transport({ host, socketPath, version: opts.version ?? API_VERSION });
  }

  /** `unix:///path` of the daemon, as the CLI names it in errors. */
  get host(): string {
    return this.transport.host;
  }

  /** Closes idle connections so the process can exit. */
  close(): void {
    this.transport.close();
  }

  // ------------------------------------------------------------------------- system

  /** `GET /_ping`; reads the API-Version, OSType and other headers. */
  async ping(): Promise<PingResult> {
    const res = await this.transport.request({ method: 'GET', path: '/_ping', unversioned: true });
    res.resume();
    const h = res.headers;
    const str = (v: string | string[] | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
    return {
      apiVersion: str(h['api-version']),
      osType: str(h['ostype']),
      experimental: h['docker-experimental'] === 'true',
      builderVersion: str(h['builder-version']),
    };
  }

  version(): Promise<SystemVersion> {
    return this.transport.json({ method: 'GET', path: '/version' });
  }

  info(): Promise<SystemInfo> {
    return this.transport.json({ method: 'GET', path: '/info' });
  }

  systemDataUsage(opts: { type?: string[] } = {}): Promise<SystemDataUsageResponse> {
    return this.transport.json({ method: 'GET', path: '/system/df', query: { type: opts.type?.join(',') || undefined } });
  }

  /**
   * `GET /events` as a stream of messages. Without `until` it never ends: abort `signal` to stop.
   * Resolves once the daemon has sent its headers (so events after this call are not missed).
   */
  async events(opts: { since?: string; until?: string; filters?: Filters; signal?: AbortSignal } = {}): Promise<AsyncGenerator<EventMessage>> {
    const res = await this.transport.request({
      method: 'GET',
      path: '/events',
      query: { since: opts.since, until: opts.until, filters: nonEmpty(opts.filters) },
      signal: opts.signal,
    });
    return withExactTime(jsonStream<EventMessage>(res, quoteTimeNano));
  }

  // ------------------------------------------------------------------------- containers

  containerList(opts: { all?: boolean; limit?: number; size?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    return this.transport.json({
      method: 'GET',
      path: '/containers/json',
      query: {
        all: opts.all || undefined,
        limit: opts.limit !== undefined && opts.limit > 0 ? opts.limit : undefined,
        size: opts.size || undefined,
        filters: nonEmpty(opts.filters),
      },
    });
  }

  containerCreate(body: ContainerCreateRequest, opts: { name?: string; platform?: string } = {}): Promise<ContainerCreateResponse> {
    return this.transport.json({
      method: 'POST',
      path: '/containers/create',
      query: { name: opts.name || undefined, platform: opts.platform || undefined },
      body,
    });
  }

  containerInspect(id: string, opts: { size?: boolean } = {}): Promise<ContainerInspectResponse> {
    return this.transport.json({ method: 'GET', path: `/containers/${enc(id)}/json`, query: { size: opts.size || undefined } });
  }

  containerTop(id: string, psArgs?: string): Promise<ContainerTopResponse> {
    return this.transport.json({ method: 'GET', path: `/containers/${enc(id)}/top`, query: { ps_args: psArgs || undefined } });
  }

  /**
   * `GET /containers/{id}/logs`: the raw response. Its body is multiplexed for non-TTY containers
   * and raw for TTY ones (see `copyOutput`).
   */
  containerLogs(id: string, opts: LogsOptions = {}): Promise<IncomingMessage> {
    return this.transport.request({
      method: 'GET',
      path: `/containers/${enc(id)}/logs`,
      query: {
        stdout: opts.stdout ?? true,
        stderr: opts.stderr ?? true,
        follow: opts.follow || undefined,
        since: opts.since || undefined,
        until: opts.until || undefined,
        timestamps: opts.timestamps || undefined,
        tail: opts.tail,
        details: opts.details || undefined,
      },
      signal: opts.signal,
    });
  }

  async containerChanges(id: string): Promise<FilesystemChange[]> {
    return (await this.transport.json<FilesystemChange[] | null>({ method: 'GET', path: `/containers/${enc(id)}/changes` })) ?? [];
  }

  /** `GET /containers/{id}/export`: a tar stream of the root filesystem. */
  containerExport(id: string): Promise<IncomingMessage> {
    return this.transport.request({ method: 'GET', path: `/containers/${enc(id)}/export` });
  }

  /** `HEAD /containers/{id}/archive`: the path's stat (X-Docker-Container-Path-Stat), as docker cp needs it. */
  async containerStatPath(id: string, path: string): Promise<ContainerPathStat> {
    const res = await this.transport.request({ method: 'HEAD', path: `/containers/${enc(id)}/archive`, query: { path } });
    res.resume();
    return decodePathStat(res.headers['x-docker-container-path-stat']);
  }

  /** `GET /containers/{id}/archive`: a tar of the path, and its stat. */
  async containerGetArchive(id: string, path: string): Promise<{ stat: ContainerPathStat; body: IncomingMessage }> {
    const res = await this.transport.request({ method: 'GET', path: `/containers/${enc(id)}/archive`, query: { path } });
    return { stat: decodePathStat(res.headers['x-docker-container-path-stat']), body: res };
  }

  /** `PUT /containers/{id}/archive`: unpack a tar into the directory `path`. */
  containerPutArchive(id: string, path: string, body: Readable, opts: { copyUIDGID?: boolean } = {}): Promise<void> {
    return this.transport.empty({
      method: 'PUT', path: `/containers/${enc(id)}/archive`, query: { path, noOverwriteDirNonDir: true, copyUIDGID: opts.copyUIDGID || undefined },
      body, headers: { 'Content-Type': 'application/x-tar' },
    });
  }

  /** One stats sample (`stream=0`; `one-shot` skips the second sample that fills `precpu_stats`). */
  containerStatsOnce(id: string, opts: { oneShot?: boolean } = {}): Promise<ContainerStats> {
    return this.transport.json({
      method: 'GET',
      path: `/containers/${enc(id)}/stats`,
      query: { stream: false, 'one-shot': opts.oneShot || undefined },
    });
  }

  /** A stream of stats samples, one per second, until the container is gone or `signal` aborts. */
  async containerStats(id: string, opts: { signal?: AbortSignal } = {}): Promise<AsyncGenerator<ContainerStats>> {
    const res = await this.transport.request({
      method: 'GET',
      path: `/containers/${enc(id)}/stats`,
      query: { stream: true },
      signal: opts.signal,
    });
    return jsonStream<ContainerStats>(res);
  }

  containerResize(id: string, height: number, width: number): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/containers/${enc(id)}/resize`, query: { h: height, w: width } });
  }

  /** Starts a container. An already running container is not an error (the daemon sends 304). */
  containerStart(id: string, opts: { detachKeys?: string } = {}): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/containers/${enc(id)}/start`, query: { detachKeys: opts.detachKeys || undefined } });
  }

  /** `t` in seconds (`-1` waits forever); undefined leaves the container's own StopTimeout. */
  containerStop(id: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/containers/${enc(id)}/stop`, query: { signal: opts.signal || undefined, t: opts.timeout } });
  }

  containerRestart(id: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/containers/${enc(id)}/restart`, query: { signal: opts.signal || undefined, t: opts.timeout } });
  }

  containerKill(id: string, signal?: string): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/containers/${enc(id)}/kill`, query: { signal: signal || undefined } });
  }

  containerUpdate(id: string, body: ContainerUpdateRequest): Promise<ContainerUpdateResponse> {
    return this.transport.json({ method: 'POST', path: `/containers/${enc(id)}/update`, body });
  }

  containerRename(id: string, name: string): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/containers/${enc(id)}/rename`, query: { name } });
  }

  containerPause(id: string): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/containers/${enc(id)}/pause` });
  }

  containerUnpause(id: string): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/containers/${enc(id)}/unpause` });
  }

  /**
   * Hijacks `POST /containers/{id}/attach`. The socket carries multiplexed frames unless the
   * container has a TTY (check `contentType` or the container's Config.Tty).
   */
  containerAttach(id: string, opts: AttachOptions): Promise<Hijacked> {
    return this.transport.hijack({
      method: 'POST',
      path: `/containers/${enc(id)}/attach`,
      query: {
        stream: opts.stream || undefined,
        logs: opts.logs || undefined,
        stdin: opts.stdin || undefined,
        stdout: opts.stdout || undefined,
        stderr: opts.stderr || undefined,
        detachKeys: opts.detachKeys || undefined,
      },
    });
  }

  /**
   * `POST /containers/{id}/wait`, in two steps: the outer promise resolves once the daemon has
   * sent its headers (the wait is registered, so a start after it cannot race past the exit);
   * the inner one with the exit status. A wait error in the body (`Error.Message`) is returned,
   * not thrown.
   */
  async containerWaitBegin(id: string, condition: WaitCondition = 'not-running'): Promise<{ result: Promise<ContainerWaitResponse> }> {
    const res = await this.transport.request({ method: 'POST', path: `/containers/${enc(id)}/wait`, query: { condition } });
    const result = (async () => {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) throw new ClientError(500, 'wait: the daemon closed the connection without a status');
      return JSON.parse(text) as ContainerWaitResponse;
    })();
    // The caller may not await `result` before failing elsewhere; avoid an unhandled rejection.
    result.catch(() => undefined);
    return { result };
  }

  /** Waits for the container to reach `condition` and returns its exit status. */
  async containerWait(id: string, condition: WaitCondition = 'not-running'): Promise<ContainerWaitResponse> {
    return (await this.containerWaitBegin(id, condition)).result;
  }

  containerRemove(id: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}): Promise<void> {
    return this.transport.empty({
      method: 'DELETE',
      path: `/containers/${enc(id)}`,
      query: { force: opts.force || undefined, v: opts.volumes || undefined, link: opts.link || undefined },
    });
  }

  containerPrune(filters?: Filters): Promise<ContainerPruneResponse> {
    return this.transport.json({ method: 'POST', path: '/containers/prune', query: { filters: nonEmpty(filters) } });
  }

  /** `POST /commit`: creates an image from a container; returns its ID. */
  containerCommit(
    id: string,
    opts: { repo?: string; tag?: string; comment?: string; author?: string; pause?: boolean; changes?: string[]; config?: unknown } = {},
  ): Promise<IdResponse> {
    return this.transport.json({
      method: 'POST',
      path: '/commit',
      query: {
        container: id,
        repo: opts.repo || undefined,
        tag: opts.tag || undefined,
        comment: opts.comment || undefined,
        author: opts.author || undefined,
        pause: opts.pause ?? true,
        changes: opts.changes?.length ? opts.changes : undefined,
      },
      body: opts.config ?? {},
    });
  }

  // ------------------------------------------------------------------------- exec

  execCreate(id: string, config: ExecConfig): Promise<IdResponse> {
    return this.transport.json({ method: 'POST', path: `/containers/${enc(id)}/exec`, body: config });
  }

  /** Hijacks `POST /exec/{id}/start` (not detached). */
  execStartAttached(execId: string, config: ExecStartConfig = {}): Promise<Hijacked> {
    return this.transport.hijack({ method: 'POST', path: `/exec/${enc(execId)}/start`, body: { Detach: false, ...config } });
  }

  execStartDetached(execId: string, config: ExecStartConfig = {}): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/exec/${enc(execId)}/start`, body: { ...config, Detach: true } });
  }

  execInspect(execId: string): Promise<ExecInspect> {
    return this.transport.json({ method: 'GET', path: `/exec/${enc(execId)}/json` });
  }

  execResize(execId: string, height: number, width: number): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/exec/${enc(execId)}/resize`, query: { h: height, w: width } });
  }

  // ------------------------------------------------------------------------- images

  imageList(opts: { all?: boolean; filters?: Filters; digests?: boolean; sharedSize?: boolean } = {}): Promise<ImageSummary[]> {
    return this.transport.json({
      method: 'GET',
      path: '/images/json',
      query: {
        all: opts.all || undefined,
        filters: nonEmpty(opts.filters),
        digests: opts.digests || undefined,
        'shared-size': opts.sharedSize || undefined,
      },
    });
  }

  imageInspect(name: string): Promise<ImageInspect> {
    return this.transport.json({ method: 'GET', path: `/images/${encName(name)}/json` });
  }

  imageHistory(name: string): Promise<HistoryResponseItem[]> {
    return this.transport.json({ method: 'GET', path: `/images/${encName(name)}/history` });
  }

  /** `POST /images/{name}/tag`: `repo` may carry a registry and path; `tag` defaults to latest. */
  imageTag(name: string, repo: string, tag?: string): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/images/${encName(name)}/tag`, query: { repo, tag: tag || undefined } });
  }

  async imageRemove(name: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<ImageDeleteResponseItem[]> {
    return (
      (await this.transport.json<ImageDeleteResponseItem[] | null>({
        method: 'DELETE',
        path: `/images/${encName(name)}`,
        query: { force: opts.force || undefined, noprune: opts.noprune || undefined },
      })) ?? []
    );
  }

  imagePrune(filters?: Filters): Promise<ImagePruneResponse> {
    return this.transport.json({ method: 'POST', path: '/images/prune', query: { filters: nonEmpty(filters) } });
  }

  /**
   * `POST /images/create?fromImage=…`: pulls an image. Yields the progress stream; a message
   * with `error` or `errorDetail` means the pull failed after it had started.
   */
  async imagePull(ref: { fromImage: string; tag?: string; platform?: string; auth?: string }): Promise<AsyncGenerator<ProgressMessage>> {
    const res = await this.transport.request({
      method: 'POST',
      path: '/images/create',
      query: { fromImage: ref.fromImage, tag: ref.tag || undefined, platform: ref.platform || undefined },
      // compat: anonymous X-Registry-Auth is base64url `{}`.
      headers: { 'X-Registry-Auth': ref.auth ?? 'e30=' },
    });
    return jsonStream<ProgressMessage>(res);
  }

  /**
   * `POST /images/{name}/push`: pushes `name` (`tag` set: that tag; unset: every tag of the
   * repository). Yields the progress stream; `auth` is the X-Registry-Auth value.
   */
  async imagePush(name: string, opts: { tag?: string; auth?: string } = {}): Promise<AsyncGenerator<ProgressMessage>> {
    const res = await this.transport.request({
      method: 'POST',
      path: `/images/${encName(name)}/push`,
      query: { tag: opts.tag || undefined },
      headers: { 'X-Registry-Auth': opts.auth ?? 'e30=' },
    });
    return jsonStream<ProgressMessage>(res);
  }

  /** `GET /images/search`: the registry's answer, filtered by the daemon. */
  imageSearch(term: string, opts: { limit?: number; filters?: Filters; auth?: string } = {}): Promise<ImageSearchResult[]> {
    return this.transport.json({
      method: 'GET',
      path: '/images/search',
      query: { term, limit: opts.limit ? String(opts.limit) : undefined, filters: nonEmpty(opts.filters) },
      headers: { 'X-Registry-Auth': opts.auth ?? 'e30=' },
    });
  }

  /** `POST /auth`: checks credentials against a registry. */
  registryLogin(auth: AuthConfig): Promise<AuthResponse> {
    return this.transport.json({ method: 'POST', path: '/auth', body: auth });
  }

  /** `POST /images/create?fromSrc=-`: imports a root filesystem tarball from `body`. */
  async imageImport(
    body: Readable | Buffer,
    opts: { repo?: string; tag?: string; message?: string; changes?: string[]; platform?: string; fromSrc?: string } = {},
  ): Promise<AsyncGenerator<ProgressMessage>> {
    const fromSrc = opts.fromSrc ?? '-';
    const res = await this.transport.request({
      method: 'POST',
      path: '/images/create',
      query: {
        fromSrc,
        repo: opts.repo || undefined,
        tag: opts.tag || undefined,
        message: opts.message || undefined,
        changes: opts.changes?.length ? opts.changes : undefined,
        platform: opts.platform || undefined,
      },
      body: fromSrc === '-' ? body : undefined,
    });
    return jsonStream<ProgressMessage>(res);
  }

  /** `POST /images/load`: the body is a `docker save` tarball; yields the progress stream. */
  async imageLoad(body: Readable | Buffer, opts: { quiet?: boolean } = {}): Promise<AsyncGenerator<ProgressMessage>> {
    const res = await this.transport.request({
      method: 'POST',
      path: '/images/load',
      query: { quiet: opts.quiet || undefined },
      body,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    return jsonStream<ProgressMessage>(res);
  }

  /** `POST /build`: a context tar in, the builder's JSON messages out. */
  async build(body: Readable, query: Record<string, string | string[] | boolean | number | undefined>): Promise<AsyncGenerator<ProgressMessage>> {
    const res = await this.transport.request({ method: 'POST', path: '/build', query, body, headers: { 'Content-Type': 'application/x-tar' } });
    return jsonStream<ProgressMessage>(res);
  }

  /** `GET /images/get?names=…`: a `docker save` tarball of the named images. */
  imageSave(names: string[]): Promise<IncomingMessage> {
    return this.transport.request({ method: 'GET', path: '/images/get', query: { names } });
  }

  // ------------------------------------------------------------------------- volumes

  volumeList(opts: { filters?: Filters } = {}): Promise<VolumeListResponse> {
    return this.transport.json({ method: 'GET', path: '/volumes', query: { filters: nonEmpty(opts.filters) } });
  }

  volumeCreate(body: VolumeCreateOptions): Promise<Volume> {
    return this.transport.json({ method: 'POST', path: '/volumes/create', body });
  }

  volumeInspect(name: string): Promise<Volume> {
    return this.transport.json({ method: 'GET', path: `/volumes/${enc(name)}` });
  }

  volumeRemove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.transport.empty({ method: 'DELETE', path: `/volumes/${enc(name)}`, query: { force: opts.force || undefined } });
  }

  volumePrune(filters?: Filters): Promise<VolumePruneResponse> {
    return this.transport.json({ method: 'POST', path: '/volumes/prune', query: { filters: nonEmpty(filters) } });
  }

  // ------------------------------------------------------------------------- networks

  networkList(opts: { filters?: Filters } = {}): Promise<Network[]> {
    return this.transport.json({ method: 'GET', path: '/networks', query: { filters: nonEmpty(opts.filters) } });
  }

  networkInspect(id: string): Promise<Network> {
    return this.transport.json({ method: 'GET', path: `/networks/${enc(id)}` });
  }

  networkCreate(body: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    return this.transport.json({ method: 'POST', path: '/networks/create', body });
  }

  networkRemove(id: string): Promise<void> {
    return this.transport.empty({ method: 'DELETE', path: `/networks/${enc(id)}` });
  }

  networkConnect(id: string, body: NetworkConnectRequest): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/networks/${enc(id)}/connect`, body });
  }

  networkDisconnect(id: string, body: NetworkDisconnectRequest): Promise<void> {
    return this.transport.empty({ method: 'POST', path: `/networks/${enc(id)}/disconnect`, body });
  }

  networkPrune(filters?: Filters): Promise<NetworkPruneResponse> {
    return this.transport.json({ method: 'POST', path: '/networks/prune', query: { filters: nonEmpty(filters) } });
  }

  buildPrune(opts: { all?: boolean; filters?: Filters } = {}): Promise<BuildPruneResponse> {
    return this.transport.json({ method: 'POST', path: '/build/prune', query: { all: opts.all || undefined, filters: nonEmpty(opts.filters) } });
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** Image names keep their slashes in the path, as the Go client sends them. */
function encName(s: string): string {
  return s.split('/').map(encodeURIComponent).join('/');
}

function nonEmpty(filters: Filters | undefined): Filters | undefined {
  return filters && Object.keys(filters).length ? filters : undefined;
}

const EXACT = Symbol('timeNanoExact');

// timeNano (~1.7e18) is past 2^53: keep the daemon's digits before JSON.parse rounds them.
function quoteTimeNano(text: string): string {
  return text.replace(/"timeNano":\s*(\d+)/g, '"timeNano":"$1"');
}

async function* withExactTime(events: AsyncGenerator<EventMessage>): AsyncGenerator<EventMessage> {
  for await (const e of events) {
    const raw = e.timeNano as unknown;
    if (typeof raw === 'string') {
      e.timeNano = Number(raw);
      Object.defineProperty(e, EXACT, { value: BigInt(raw), enumerable: false });
    }
    yield e;
  }
}

/** An event's `timeNano` with all its digits (the number field is rounded to float precision). */
export function exactTimeNano(e: EventMessage): bigint | undefined {
  const exact = (e as { [EXACT]?: bigint })[EXACT];
  if (exact !== undefined) return exact;
  return e.timeNano ? BigInt(Math.round(e.timeNano)) : undefined;
}

/** A container path's stat as `docker cp` reads it; `mode` holds Go's FileMode bits. */
export interface ContainerPathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

function decodePathStat(h: string | string[] | undefined): ContainerPathStat {
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) return { name: '', size: 0, mode: 0, mtime: '', linkTarget: '' };
  return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as ContainerPathStat;
}
