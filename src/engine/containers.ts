import { mkdir, rm, writeFile, readFile, readdir, lstat, cp, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  BerthError, KeyedLock, conflict, invalid, isErrno, newId, notFound, randomName, shortId, run, discard, sweepTrash,
  type Digest, type Logger,
} from '../common/index.ts';
import type { ImageRunConfig } from '../oci/index.ts';
import type { MetadataStore } from '../store/index.ts';
import { mountAll, unmount, exportChanges, exportTree, type Change, type LayerStore } from '../storage/index.ts';
import {
  AttachConnection, checkRootfs, readCgroupStats, removeCgroup, cgroupOomKilled, wasOomKilled,
  type CgroupStats, type Monitor, type OciRuntime, type OutputFrame,
} from '../runtime/index.ts';
import type { EventBus } from './events.ts';
import type { ImageService } from './images.ts';
import type { VolumeService } from './volumes.ts';
import { endpointRequests, linkEnv, networkNameOf, planEndpoints, resolvConfFor, validateEndpointConfig, type LinkTarget, type NetworkService } from './networks.ts';
import { canPause, canRemove, canStart, canUnpause, isRunning } from './lifecycle.ts';
import { ZERO_TIME, attachmentsOf, type ContainerRecord, type ContainerSpec, type EndpointConfig, type MountPoint, type Resources } from './model.ts';
import { resolveUser } from '../runtime/index.ts';
import { LogRotator, logSettings, readLog, readLogBatches, rotateLog, type LogBatch } from './logs.ts';
import { buildRuntimeSpec, seccompOf, type HostLimits } from './spec-input.ts';
import {
  HealthMonitor, healthFromImage, healthToWire, mergeHealthcheck, probeCommand, validateHealthcheck,
  type HealthProber, type HealthState,
} from './health.ts';

export interface ContainerServiceDeps {
  meta: MetadataStore;
  layers: LayerStore;
  runtime: OciRuntime;
  monitor: Monitor;
  images: ImageService;
  volumes: VolumeService;
  /** Endpoints and published ports; without it every container gets a namespace with only lo. */
  networks?: NetworkService;
  events: EventBus;
  log: Logger;
  /** <data-root>/containers: logs and per-container files that persist. */
  containersDir: string;
  /** <exec-root>: bundles (config.json, rootfs mount point, conmon's sockets). */
  execRoot: string;
  cgroupParent: string;
  cgroupVersion: 'v1' | 'v2';
  limits: HostLimits;
  /** Path of a static init (tini) for `--init`, when installed. */
  initPath?: string;
  /** berthd's bounding capability set. */
  hostCaps?: ReadonlySet<string>;
}

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  stream: boolean;
  logs: boolean;
  signal: AbortSignal;
}

/** A live attach: output frames, stdin writes. `done` settles when the output ends. */
export interface AttachSession {
  tty: boolean;
  onFrame(fn: (f: OutputFrame) => void): void;
  writeStdin(data: Buffer): void;
  closeStdin(): void;
  done: Promise<void>;
  close(): void;
}

type WaitCondition = 'not-running' | 'next-exit' | 'removed';
interface Waiter {
  condition: WaitCondition;
  resolve: (r: { statusCode: number; error?: string }) => void;
}

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const nowIso = (): string => new Date().toISOString();
const DEFAULT_STOP_TIMEOUT = 10;

export class ContainerService {
  readonly #locks = new KeyedLock();
  readonly #waiters = new Map<string, Waiter[]>();
  /** Attach requests made before start: connected between `create` and `start` so no output is lost. */
  readonly #pendingAttach = new Map<string, ((socket: string) => Promise<void>)[]>();
  readonly #restartTimers = new Map<string, NodeJS.Timeout>();
  readonly #logRotator = new LogRotator();
  readonly #pendingCleanup = new Map<string, Promise<void>>();
  readonly #health: HealthMonitor;
  #stopWatch?: () => void;
  #poll?: NodeJS.Timeout;

  constructor(private readonly d: ContainerServiceDeps) {
    this.#health = new HealthMonitor({
      commit: (id, health) => this.#commitHealth(id, health),
      changed: (id, status) => {
        const r = this.d.meta.getContainer<ContainerRecord>(id);
        if (r) this.d.events.emit('container', `health_status: ${status}`, id, { image: r.imageRef, name: r.name, ...r.labels });
      },
      log: d.log,
    });
  }

  // ---------- lookup ----------

  /** Full id of a container given by id, id prefix or name. not-found `No such container: x`. */
  resolve(idOrName: string): string {
    const name = idOrName.replace(/^\//, '');
    if (/^[a-f0-9]{64}$/.test(name) && this.d.meta.getContainer(name)) return name;
    const byName = this.d.meta.containerIdByName(name);
    if (byName) return byName;
    if (/^[a-f0-9]+$/.test(name)) {
      const m = this.d.meta.findContainersByPrefix(name);
      if (m.length === 1) return m[0]!;
      if (m.length > 1) throw invalid(`multiple IDs found with provided prefix: ${name}`);
    }
    throw notFound('container', idOrName);
  }

  get(idOrName: string): ContainerRecord {
    const id = this.resolve(idOrName);
    const r = this.d.meta.getContainer<ContainerRecord>(id);
    if (!r) throw notFound('container', idOrName);
    return r;
  }

  list(): ContainerRecord[] {
    return this.d.meta.listContainers<ContainerRecord>().sort((a, b) => b.created.localeCompare(a.created));
  }

  #save(r: ContainerRecord): void {
    // the health monitor's live copy wins over whatever copy of the record the caller held
    const live = this.#health.current(r.id);
    if (live) r.state.health = live;
    this.d.meta.putContainer(r.id, r.name, r);
  }

  /** The health monitor's write: only the health of the stored record changes (synchronously, so nothing interleaves). */
  #commitHealth(id: string, health: HealthState): void {
    const r = this.d.meta.getContainer<ContainerRecord>(id);
    if (!r) return;
    r.state.health = health;
    this.d.meta.putContainer(r.id, r.name, r);
  }

  /** Probes run through `prober` (the exec service) from now on. Call once at daemon start. */
  useHealthProber(prober: HealthProber): void {
    this.#health.setProber(prober);
  }

  /**
   * Start probing a running container: `fresh` (a start) resets the health to `starting` with no
   * failures, keeping the log, as dockerd does; otherwise (unpause, berthd restart) the recorded
   * health carries on. Containers whose healthcheck runs nothing get no State.Health.
   */
  #watchHealth(rec: ContainerRecord, fresh: boolean): void {
    if (!rec.healthcheck || !probeCommand(rec.healthcheck)) return;
    const prev = rec.state.health;
    const health: HealthState = fresh || !prev ? { status: 'starting', failingStreak: 0, log: prev?.log ?? [] } : prev;
    this.#health.watch(rec.id, rec.healthcheck, rec.state.startedAt, health);
  }

  bundleDir(id: string): string {
    return join(this.d.execRoot, id);
  }
  #dir(id: string): string {
    return join(this.d.containersDir, id);
  }

  // ---------- create ----------

  async create(spec: ContainerSpec, name?: string): Promise<{ id: string; warnings: string[] }> {
    if (name !== undefined && name !== '') {
      if (!NAME_RE.test(name)) throw invalid(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      name = name.replace(/^\//, '');
      const other = this.d.meta.containerIdByName(name);
      if (other) {
        throw conflict(`Conflict. The container name "/${name}" is already in use by container "${other}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
    } else {
      do name = randomName();
      while (this.d.meta.containerIdByName(name));
    }
    const imageId = this.d.images.resolve(spec.image);
    const img = await this.d.images.config(imageId);
    const ic: ImageRunConfig = img.config ?? {};
    const entrypoint = spec.entrypoint ?? ic.Entrypoint ?? [];
    // compat: an explicit entrypoint drops the image's Cmd
    const cmd = spec.cmd ?? (spec.entrypoint !== null ? [] : (ic.Cmd ?? []));
    const argv = [...entrypoint, ...cmd];
    if (argv.length === 0) throw invalid('no command specified');
    validateResources(spec.host.resources);
    seccompOf(spec.host.securityOpt); // a malformed profile fails the create, as docker's does
    const policy = spec.host.restartPolicy;
    if (spec.host.autoRemove && policy.name !== '' && policy.name !== 'no') {
      throw invalid('can\'t create \'AutoRemove\' container with restart policy');
    }
    if (policy.name === 'on-failure' && policy.maximumRetryCount < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
    if (policy.name !== 'on-failure' && policy.maximumRetryCount > 0 && policy.name !== '') throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    validateHealthcheck(spec.healthcheck ?? null);
    const netConfig = planEndpoints(spec);
    const healthcheck = mergeHealthcheck(spec.healthcheck ?? null, healthFromImage(ic.Healthcheck));

    const id = newId();
    const env = mergeEnv(ic.Env ?? [], spec.env);
    logSettings(spec.host.logConfig, { labels: { ...(ic.Labels ?? {}), ...spec.labels }, env }); // compat: docker rejects bad --log-opt at create
    const dir = this.#dir(id);
    await mkdir(dir, { recursive: true, mode: 0o710 });
    const top = await this.d.images.topLayer(imageId);
    await this.d.layers.prepare(id, top);
    let mountPoints: MountPoint[];
    try {
      mountPoints = await this.#planMounts(spec, ic);
    } catch (err) {
      await this.d.layers.remove(id).catch(() => {});
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const rec: ContainerRecord = {
      id, name, created: nowIso(), imageId, imageRef: spec.image,
      path: argv[0]!, args: argv.slice(1), spec, entrypoint, cmd,
      exposedPorts: [...new Set([...Object.keys(ic.ExposedPorts ?? {}), ...spec.exposedPorts])],
      volumes: [...new Set([...Object.keys(ic.Volumes ?? {}), ...spec.volumes])],
      env, workingDir: spec.workingDir || ic.WorkingDir || '/', user: spec.user || ic.User || '',
      hostname: spec.hostname || id.slice(0, 12),
      labels: { ...(ic.Labels ?? {}), ...spec.labels },
      stopSignal: spec.stopSignal || ic.StopSignal || 'SIGTERM',
      ...(healthcheck ? { healthcheck } : {}),
      state: { status: 'created', pid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, manuallyStopped: false },
      restartCount: 0, mountPoints, snapshot: id,
      logPath: join(dir, `${id}-json.log`),
      hostsPath: join(dir, 'hosts'), resolvConfPath: join(dir, 'resolv.conf'), hostnamePath: join(dir, 'hostname'),
      cgroupsPath: `${this.d.cgroupParent}/${id}`,
      netConfig,
    };
    this.#save(rec);
    this.d.events.emit('container', 'create', id, { image: spec.image, name, ...rec.labels });
    return { id, warnings: [] };
  }

  /** Mount points from binds, --mount, --tmpfs, anonymous volumes and the image's VOLUMEs. */
  async #planMounts(spec: ContainerSpec, ic: ImageRunConfig): Promise<MountPoint[]> {
    const out = new Map<string, MountPoint>();
    const addVolume = async (name: string, dest: string, ro: boolean, mode: string): Promise<void> => {
      const anonymous = name === '';
      const v = await this.d.volumes.create({ name: anonymous ? undefined : name, anonymous });
      out.set(dest, { type: 'volume', name: v.name, source: v.mountpoint, destination: dest, readOnly: ro, mode, propagation: '', anonymous });
    };
    for (const from of spec.host.volumesFrom) {
      const [ref = '', mode = ''] = from.split(':');
      const other = this.get(ref);
      for (const m of other.mountPoints) {
        if (m.type === 'tmpfs') continue;
        out.set(m.destination, { ...m, readOnly: mode === 'ro' ? true : mode === 'rw' ? false : m.readOnly });
      }
    }
    for (const dest of [...Object.keys(ic.Volumes ?? {}), ...spec.volumes]) {
      if (!out.has(dest)) await addVolume('', dest, false, '');
    }
    for (const b of spec.host.binds) {
      const parts = b.split(':');
      if (parts.length < 2 || parts.length > 3) throw invalid(`invalid volume specification: '${b}'`);
      const [src = '', dest = '', mode = ''] = parts;
      if (!dest.startsWith('/')) throw invalid(`invalid volume specification: '${b}': invalid mount config for type "bind": invalid mount path: '${dest}' mount path must be absolute`);
      const ro = mode.split(',').includes('ro');
      if (src.startsWith('/')) {
        try {
          await stat(src);
        } catch {
          // compat: docker creates a missing bind source directory for -v (not for --mount)
          await mkdir(src, { recursive: true });
        }
        out.set(dest, { type: 'bind', name: '', source: src, destination: dest, readOnly: ro, mode, propagation: 'rprivate', anonymous: false });
      } else {
        await addVolume(src, dest, ro, mode);
      }
    }
    for (const m of spec.host.mounts) {
      if (!m.target.startsWith('/')) throw invalid(`invalid mount config for type "${m.type}": invalid mount path: '${m.target}' mount path must be absolute`);
      if (m.type === 'bind') {
        try {
          await stat(m.source);
        } catch {
          throw invalid(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
        }
        out.set(m.target, { type: 'bind', name: '', source: m.source, destination: m.target, readOnly: m.readOnly, mode: '', propagation: 'rprivate', anonymous: false });
      } else if (m.type === 'volume') {
        await addVolume(m.source, m.target, m.readOnly, 'z');
        const mp = out.get(m.target)!;
        mp.mode = '';
      } else {
        out.set(m.target, { type: 'tmpfs', name: '', source: '', destination: m.target, readOnly: m.readOnly, mode: m.options.join(','), propagation: '', anonymous: false });
      }
    }
    for (const [dest, opts] of Object.entries(spec.host.tmpfs)) {
      out.set(dest, { type: 'tmpfs', name: '', source: '', destination: dest, readOnly: false, mode: opts, propagation: '', anonymous: false });
    }
    return [...out.values()];
  }

  // ---------- start ----------

  async start(idOrName: string): Promise<void> {
    const id = this.resolve(idOrName);
    let autoRemove = false;
    try {
      await this.#locks.with(id, async () => {
        const rec = await this.#sync(id);
        if (rec.state.status === 'running' || rec.state.status === 'paused') throw new BerthError('not-modified', 'container already started');
        if (!canStart(rec.state.status) && rec.state.status !== 'restarting') throw conflict(`cannot start container ${id}: it is ${rec.state.status}`);
        this.#clearRestartTimer(id);
        autoRemove = rec.spec.host.autoRemove;
        await this.#startLocked(rec);
      });
    } catch (err) {
      // compat: docker removes an AutoRemove container whose start failed (the CLI waits for "removed")
      if (autoRemove) await this.remove(id, { force: true, volumes: true }).catch(() => {});
      throw err;
    }
  }

  async #startLocked(rec: ContainerRecord): Promise<void> {
    const id = rec.id;
    const bundle = this.bundleDir(id);
    const rootfs = join(bundle, 'rootfs');
    try {
      await this.settle(id);
      await mkdir(rootfs, { recursive: true, mode: 0o700 });
      await unmount(rootfs).catch(() => {});
      await mountAll(await this.d.layers.mounts(rec.snapshot), rootfs);
      await checkRootfs(rootfs, rec.mountPoints.map((m) => m.destination));
      await this.#populateVolumes(rec, rootfs);
      const netns = this.#netns(rec);
      // address and host ports first: a port in use fails the start before anything runs
      delete rec.network;
      rec.networks = (await this.d.networks?.attach(rec)) ?? [];
      const links = this.#links(rec);
      await this.#writeEtcFiles(rec, netns.kind === 'host', links);
      const user = await resolveUser(rootfs, rec.user, rec.spec.host.groupAdd);
      const spec = buildRuntimeSpec(links.length ? { ...rec, env: [...links.flatMap((l) => linkEnv(rec.name, l)), ...rec.env] } : rec, { rootfs, user, netns, limits: this.d.limits, initPath: this.d.initPath, pidPath: this.#nsPath(rec.spec.host.pidMode, 'pid'), ipcPath: this.#nsPath(rec.spec.host.ipcMode, 'ipc'), hostCaps: this.d.hostCaps });
      // the bundle is runtime state (exec root): no fsync needed
      await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
      if (await this.d.runtime.exists(id)) await this.d.runtime.delete(id, { force: true }).catch(() => {});
      await this.d.monitor.clearExit(id);
      await rm(join(bundle, 'oom'), { force: true });
      // compat: docker closes stdin after the first client only without a tty (StdinOnce && !Tty);
      // a tty keeps it open so a detached session can be attached again
      const log = logSettings(rec.spec.host.logConfig);
      // a log left full by the last run rotates before conmon appends to it; '' = no log (--log-driver none)
      if (log.driver !== 'none') await rotateLog({ path: rec.logPath, maxSize: log.maxSize, maxFile: log.maxFile }, { ifAtLeast: log.maxSize });
      const io = { tty: rec.spec.tty, stdin: rec.spec.openStdin, stdinOnce: rec.spec.stdinOnce && !rec.spec.tty, logPath: log.driver === 'none' ? '' : rec.logPath };
      const { pid } = await this.d.monitor.create(id, bundle, io);
      // the runtime made the namespace; the process has not started yet, so it first sees eth0 up
      if (rec.networks?.length) await this.d.networks?.connect(rec, rec.networks, pid);
      const pending = this.#pendingAttach.get(id) ?? [];
      this.#pendingAttach.delete(id);
      await Promise.all(pending.map((connect) => connect(this.d.monitor.attachSocket(bundle)).catch(() => {})));
      await this.d.runtime.start(id);
      this.#watchLog(rec);
      rec.state = { ...rec.state, status: 'running', pid, exitCode: 0, error: '', oomKilled: false, startedAt: nowIso(), finishedAt: rec.state.finishedAt, manuallyStopped: false };
      this.#health.unwatch(id);
      this.#watchHealth(rec, true);
      this.#save(rec);
      this.d.events.emit('container', 'start', id, { image: rec.imageRef, name: rec.name, ...rec.labels });
    } catch (err) {
      await this.d.runtime.delete(id, { force: true }).catch(() => {});
      await unmount(rootfs).catch(() => {});
      await removeCgroup(rec.cgroupsPath, this.d.cgroupVersion);
      await this.d.networks?.disconnect(rec).catch(() => {});
      delete rec.network;
      delete rec.networks;
      const msg = err instanceof Error ? err.message : String(err);
      rec.state = { ...rec.state, status: rec.state.status === 'restarting' ? 'exited' : rec.state.status, error: msg, exitCode: exitCodeForStartError(msg), pid: 0 };
      this.#save(rec);
      for (const fn of this.#pendingAttach.get(id) ?? []) void fn('').catch(() => {});
      this.#pendingAttach.delete(id);
      if (err instanceof BerthError && err.kind !== 'internal') throw err;
      // compat: docker reports runtime start failures with this prefix; the CLI maps "executable file not found" to 127
      throw new BerthError(/not found|no such file/i.test(msg) ? 'not-found' : 'invalid-argument', `failed to create task for container: ${msg}`, { cause: err });
    }
  }

  /** Log rotation hook: rotate the running container's log at max-size, keeping max-file files. */
  #watchLog(rec: ContainerRecord): void {
    const log = logSettings(rec.spec.host.logConfig);
    if (log.driver === 'none') return;
    this.#logRotator.watch({ path: rec.logPath, maxSize: log.maxSize, maxFile: log.maxFile, ctl: join(this.bundleDir(rec.id), 'ctl') });
  }

  #netns(rec: ContainerRecord): { kind: 'private' } | { kind: 'host' } | { kind: 'path'; path: string } {
    const mode = rec.spec.host.networkMode || 'default';
    if (mode === 'host') return { kind: 'host' };
    if (mode.startsWith('container:')) {
      const other = this.get(mode.slice('container:'.length));
      if (other.state.status !== 'running') throw conflict(`cannot join network namespace of a non running container: container ${other.id} is ${other.state.status}`);
      return { kind: 'path', path: `/proc/${other.state.pid}/ns/net` };
    }
    // none, bridge, user networks: the runtime makes a namespace with lo; NetworkService.connect adds eth0, eth1, …
    return { kind: 'private' };
  }

  #nsPath(mode: string, ns: string): string | 'host' | undefined {
    if (mode === 'host') return 'host';
    if (mode.startsWith('container:')) {
      const other = this.get(mode.slice('container:'.length));
      if (other.state.status !== 'running') throw conflict(`cannot join ${ns} namespace of a non running container: container ${other.id} is ${other.state.status}`);
      return `/proc/${other.state.pid}/ns/${ns}`;
    }
    return undefined;
  }

  /** `--link name:alias` targets: running containers with an address on the default bridge. */
  #links(rec: ContainerRecord): LinkTarget[] {
    // compat: legacy links exist on the default bridge only; elsewhere dockerd ignores HostConfig.Links
    if (rec.spec.host.links.length && !attachmentsOf(rec).some((a) => a.networkName === 'bridge')) return [];
    return rec.spec.host.links.map((l) => {
      const [ref = '', alias = ref] = l.replace(/^\//, '').split(':');
      const other = this.get(ref);
      const as = alias.replace(/^.*\//, '');
      if (!isRunning(other.state.status)) throw invalid(`Cannot link to a non running container: /${other.name} AS /${rec.name}/${as}`);
      const ep = attachmentsOf(other).find((a) => a.networkName === 'bridge');
      if (!ep) throw invalid(`Cannot link to /${other.name}, as it does not belong to the default network`);
      return { alias: as, name: other.name, id: other.id, ip: ep.endpoint.ip, exposedPorts: other.exposedPorts, env: other.env };
    });
  }

  async #writeEtcFiles(rec: ContainerRecord, hostNet: boolean, links: readonly LinkTarget[] = []): Promise<void> {
    const s = rec.spec.host;
    const hostname = rec.hostname + (rec.spec.domainname ? `.${rec.spec.domainname}` : '');
    await writeFile(rec.hostnamePath, `${hostNet ? (await readFile('/etc/hostname', 'utf8').catch(() => 'localhost\n')).trim() : rec.hostname}\n`);
    let hosts = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
    if (hostNet) hosts = await readFile('/etc/hosts', 'utf8').catch(() => hosts);
    for (const h of s.extraHosts) {
      const i = h.indexOf(':');
      if (i < 0) throw invalid(`invalid argument "${h}" for "--add-host" flag: bad format for add-host: "${h}"`);
      const addr = h.slice(i + 1);
      // compat: docker's special address for the host, as seen from the default bridge
      hosts += `${addr === 'host-gateway' ? (this.d.networks?.gateway || '127.0.0.1') : addr}\t${h.slice(0, i)}\n`;
    }
    for (const l of links) hosts += `${l.ip}\t${l.alias} ${l.id.slice(0, 12)} ${l.name}\n`;
    if (!hostNet) hosts += `${attachmentsOf(rec)[0]?.endpoint.ip ?? '127.0.1.1'}\t${hostname === rec.hostname ? rec.hostname : `${hostname} ${rec.hostname}`}\n`;
    await writeFile(rec.hostsPath, hosts);
    await this.#writeResolvConf(rec, hostNet);
  }

  /**
   * resolv.conf: the embedded DNS when one of the container's networks has it, else the host's.
   * Rewritten in place (the bind mount follows the inode) when networks change at runtime.
   */
  async #writeResolvConf(rec: ContainerRecord, hostNet: boolean): Promise<void> {
    const host = this.d.networks ? await this.d.networks.hostResolvConf() : await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    const embedded = hostNet ? undefined : this.d.networks?.dnsServerFor(attachmentsOf(rec));
    await writeFile(rec.resolvConfPath, resolvConfFor(host, rec.spec.host, { hostNet, embedded, hostPath: this.d.networks?.resolvConfPath }));
  }

  /** Copy the image's content at a volume's mount point into a new, empty volume (Docker's copy-up). */
  async #populateVolumes(rec: ContainerRecord, rootfs: string): Promise<void> {
    for (const m of rec.mountPoints) {
      if (m.type !== 'volume') continue;
      const v = this.d.volumes.get(m.name);
      if (v.options['berth.populated'] === 'true') continue;
      const src = join(rootfs, m.destination);
      const entries = await readdir(v.mountpoint).catch(() => ['x']);
      if (entries.length === 0) {
        try {
          const st = await lstat(src);
          if (st.isDirectory()) await cp(src, v.mountpoint, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw err;
        }
      }
      v.options['berth.populated'] = 'true';
      this.d.meta.putVolume(v.name, v);
    }
  }

  // ---------- exit handling ----------

  /** Watch conmon's exit files; call once at daemon start (after reconcile). */
  watch(): void {
    this.#stopWatch = this.d.monitor.watchExits((id) => void this.#onExit(id));
    // a safety net for missed inotify events
    this.#poll = setInterval(() => {
      for (const r of this.list()) if (r.state.status === 'running' || r.state.status === 'paused') void this.#onExit(r.id);
    }, 2000);
    this.#poll.unref();
  }

  close(): void {
    this.#stopWatch?.();
    if (this.#poll) clearInterval(this.#poll);
    for (const t of this.#restartTimers.values()) clearTimeout(t);
    this.#logRotator.close();
    this.#health.close();
  }

  async #onExit(id: string): Promise<void> {
    if (!this.d.meta.getContainer(id)) return;
    let after: (() => Promise<void>) | undefined;
    await this.#locks.with(id, async () => {
      const rec = this.d.meta.getContainer<ContainerRecord>(id);
      if (!rec || (rec.state.status !== 'running' && rec.state.status !== 'paused')) return;
      const exit = await this.d.monitor.exit(id);
      if (!exit) return;
      after = await this.#foldExit(rec, exit.code, exit.finishedAt);
    });
    if (after) await after();
  }

  /** Record an exit (one transaction), clean up the runtime side, then decide: remove, restart or rest. */
  async #foldExit(rec: ContainerRecord, code: number, finishedAt: Date): Promise<(() => Promise<void>) | undefined> {
    const live = this.#health.current(rec.id);
    if (live) rec.state.health = live;
    this.#health.unwatch(rec.id);
    const bundle = this.bundleDir(rec.id);
    const oom = (await wasOomKilled(bundle)) || (await cgroupOomKilled(rec.cgroupsPath, this.d.cgroupVersion));
    const ranMs = finishedAt.getTime() - Date.parse(rec.state.startedAt);
    rec.state = { ...rec.state, status: 'exited', pid: 0, exitCode: code, oomKilled: oom, finishedAt: finishedAt.toISOString() };
    this.#save(rec);
    this.#logRotator.unwatch(rec.logPath);
    await this.d.monitor.clearExit(rec.id);
    await this.#cleanupRuntime(rec);
    if (oom) this.d.events.emit('container', 'oom', rec.id, { image: rec.imageRef, name: rec.name });
    this.d.events.emit('container', 'die', rec.id, { exitCode: String(code), image: rec.imageRef, name: rec.name, ...rec.labels });
    this.#notify(rec.id, 'exit', code);
    if (rec.spec.host.autoRemove) return () => this.remove(rec.id, { force: true, volumes: true }).catch((err: unknown) => this.d.log.warn({ err, id: rec.id }, 'auto-remove failed'));
    if (this.#shouldRestart(rec)) this.#scheduleRestart(rec, ranMs);
    return undefined;
  }

  /**
   * After an exit: drop the cgroup and the network at once; unmount the rootfs and `runc delete`
   * (~20 ms, runtime state under the exec root) in the background, so waiters and `--rm` need not
   * wait: an overlay unmount syncs the whole upper filesystem, 0.3–0.5 s after a chatty
   * container filled the page cache with its log. Whatever needs the rootfs unmounted (a start,
   * a removal, a mount of the snapshot elsewhere) awaits `settle(id)`; reconcile sweeps any a
   * crash left behind.
   */
  async #cleanupRuntime(rec: ContainerRecord): Promise<void> {
    const id = rec.id;
    await removeCgroup(rec.cgroupsPath, this.d.cgroupVersion);
    if (this.d.networks) {
      await this.d.networks.disconnect(rec);
      if (rec.network || rec.networks) {
        delete rec.network;
        delete rec.networks;
        this.#save(rec);
      }
    }
    const rootfs = join(this.bundleDir(id), 'rootfs');
    const p = (this.#pendingCleanup.get(id) ?? Promise.resolve())
      .then(async () => {
        await unmount(rootfs).catch((err: unknown) => this.d.log.warn({ err, id }, 'rootfs unmount failed'));
        if (await this.d.runtime.exists(id)) await this.d.runtime.delete(id, { force: true }).catch((err: unknown) => this.d.log.warn({ err, id }, 'runtime delete failed'));
      })
      .finally(() => {
        if (this.#pendingCleanup.get(id) === p) this.#pendingCleanup.delete(id);
      });
    this.#pendingCleanup.set(id, p);
  }

  /** Wait for the background clean-up of one container's runtime side (or of all: shutdown, tests). */
  async settle(id?: string): Promise<void> {
    if (id !== undefined) await this.#pendingCleanup.get(id);
    else await Promise.all(this.#pendingCleanup.values());
  }

  #shouldRestart(rec: ContainerRecord): boolean {
    const p = rec.spec.host.restartPolicy;
    if (rec.state.manuallyStopped) return false;
    if (p.name === 'always' || p.name === 'unless-stopped') return true;
    if (p.name === 'on-failure') return rec.state.exitCode !== 0 && (p.maximumRetryCount === 0 || rec.restartCount < p.maximumRetryCount);
    return false;
  }

  /** Docker's backoff: 100 ms doubling per restart, capped at 1 min, reset after 10 s of running. */
  #scheduleRestart(rec: ContainerRecord, ranMs: number): void {
    const n = ranMs > 10_000 ? 0 : rec.restartCount;
    const delay = Math.min(100 * 2 ** n, 60_000);
    rec.state.status = 'restarting';
    this.#save(rec);
    const t = setTimeout(() => {
      this.#restartTimers.delete(rec.id);
      void this.#locks.with(rec.id, async () => {
        const cur = this.d.meta.getContainer<ContainerRecord>(rec.id);
        if (!cur || cur.state.status !== 'restarting') return;
        cur.restartCount = ranMs > 10_000 ? 1 : cur.restartCount + 1;
        this.d.events.emit('container', 'restart', cur.id, { name: cur.name, image: cur.imageRef });
        try {
          await this.#startLocked(cur);
        } catch (err) {
          this.d.log.warn({ err, id: cur.id }, 'restart failed');
        }
      });
    }, delay);
    t.unref();
    this.#restartTimers.set(rec.id, t);
  }

  #clearRestartTimer(id: string): void {
    const t = this.#restartTimers.get(id);
    if (t) clearTimeout(t);
    this.#restartTimers.delete(id);
  }

  /** Reload a record and fold in an exit that happened behind our back. */
  async #sync(id: string): Promise<ContainerRecord> {
    const rec = this.d.meta.getContainer<ContainerRecord>(id);
    if (!rec) throw notFound('container', id);
    if (rec.state.status === 'running' || rec.state.status === 'paused') {
      const exit = await this.d.monitor.exit(id);
      if (exit) {
        await this.#foldExit(rec, exit.code, exit.finishedAt);
        return this.d.meta.getContainer<ContainerRecord>(id) ?? rec;
      }
    }
    return rec;
  }

  /**
   * At daemon start, before listening: fold in exits that happened while berthd was down, remove
   * `--rm` containers that ended, finish interrupted removals, restart by policy.
   */
  async reconcile(): Promise<void> {
    await sweepTrash(this.d.containersDir);
    await sweepTrash(this.d.execRoot);
    const known = new Set(this.list().map((r) => r.id));
    for (const id of await this.d.runtime.list()) {
      if (!known.has(id)) await this.d.runtime.delete(id, { force: true }).catch(() => {});
    }
    for (const rec of this.list()) {
      try {
        if (rec.state.status === 'removing') {
          await this.remove(rec.id, { force: true, volumes: rec.spec.host.autoRemove });
          continue;
        }
        if (rec.state.status === 'running' || rec.state.status === 'paused') {
          const exit = await this.d.monitor.exit(rec.id);
          if (exit) {
            const after = await this.#foldExit(rec, exit.code, exit.finishedAt);
            if (after) await after();
            continue;
          }
          let alive = true;
          try {
            const st = await this.d.runtime.state(rec.id);
            alive = st.status === 'running' || st.status === 'paused';
            if (st.status !== rec.state.status && alive) {
              rec.state.status = st.status === 'paused' ? 'paused' : 'running';
              this.#save(rec);
            }
          } catch {
            alive = false;
          }
          if (alive) this.#watchLog(rec);
          // the container outlived berthd: its probes carry on from the recorded health
          if (alive && rec.state.status === 'running') this.#watchHealth(rec, false);
          if (!alive) {
            // the monitor is gone too (a reboot): no exit code is known
            const after = await this.#foldExit(rec, 255, new Date());
            if (after) await after();
          }
          continue;
        }
        if (rec.state.status === 'restarting') {
          rec.state.status = 'exited';
          this.#save(rec);
        }
        // a start interrupted between `runtime create` and the record's save leaves a created
        // runtime container (and its conmon) behind: clear it
        if (await this.d.runtime.exists(rec.id)) {
          await this.d.runtime.delete(rec.id, { force: true }).catch(() => {});
          await this.#cleanupRuntime(rec);
        }
        const p = rec.spec.host.restartPolicy.name;
        const started = rec.state.startedAt !== ZERO_TIME;
        if (started && rec.state.status === 'exited' && (p === 'always' || (p === 'unless-stopped' && !rec.state.manuallyStopped))) {
          await this.start(rec.id).catch((err: unknown) => this.d.log.warn({ err, id: rec.id }, 'restart on daemon start failed'));
        } else if (rec.state.status === 'exited' && rec.spec.host.autoRemove) {
          await this.remove(rec.id, { force: true, volumes: true });
        }
      } catch (err) {
        this.d.log.error({ err, id: rec.id }, 'reconcile failed');
      }
    }
    // last: addresses, ports, rules and veths follow the containers that still run
    await this.d.networks?.reconcile(this.list()).catch((err: unknown) => this.d.log.error({ err }, 'network reconcile failed'));
  }

  // ---------- stop, kill, restart, pause ----------

  async stop(idOrName: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const id = this.resolve(idOrName);
    const rec = await this.#locks.with(id, async () => {
      const r = await this.#sync(id);
      if (r.state.status === 'restarting') {
        this.#clearRestartTimer(id);
        r.state.status = 'exited';
        r.state.manuallyStopped = true;
        this.#save(r);
        return undefined;
      }
      if (!isRunning(r.state.status)) return undefined;
      r.state.manuallyStopped = true;
      this.#save(r);
      this.#health.unwatch(id);
      return r;
    });
    if (!rec) throw new BerthError('not-modified', 'Container already stopped');
    const timeout = opts.timeout ?? rec.spec.stopTimeout ?? DEFAULT_STOP_TIMEOUT;
    const exited = this.waitFor(id, 'not-running');
    if (rec.state.status === 'paused') await this.d.runtime.resume(id).catch(() => {});
    if (timeout !== 0) {
      await this.d.runtime.kill(id, opts.signal ?? rec.stopSignal).catch(() => {});
      if (timeout < 0 || (await raceTimeout(exited, timeout * 1000))) {
        await exited;
        return;
      }
    }
    await this.d.runtime.kill(id, 'SIGKILL', { all: true }).catch(() => {});
    await exited;
  }

  async kill(idOrName: string, signal = 'SIGKILL'): Promise<void> {
    const id = this.resolve(idOrName);
    const rec = await this.#sync(id);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
      throw conflict(`cannot kill container: ${idOrName}: container ${id} is not running`);
    }
    const sig = normalizeSignal(signal);
    if (sig === 'SIGKILL' || sig === 'SIGTERM') {
      // compat: docker counts a kill as a manual stop for unless-stopped
      rec.state.manuallyStopped = rec.spec.host.restartPolicy.name === 'unless-stopped';
      this.#save(rec);
    }
    await this.d.runtime.kill(id, sig);
    this.d.events.emit('container', 'kill', id, { signal: String(signalNumber(sig)), name: rec.name, image: rec.imageRef });
    if (sig === 'SIGKILL') await raceTimeout(this.waitFor(id, 'not-running'), 5000);
  }

  async restart(idOrName: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const id = this.resolve(idOrName);
    await this.stop(id, opts).catch((err: unknown) => {
      if (!(err instanceof BerthError && err.kind === 'not-modified')) throw err;
    });
    await this.start(id);
    this.d.events.emit('container', 'restart', id, { name: this.get(id).name });
  }

  async pause(idOrName: string): Promise<void> {
    const id = this.resolve(idOrName);
    await this.#locks.with(id, async () => {
      const r = await this.#sync(id);
      if (r.state.status === 'paused') throw conflict(`container ${id} is already paused`);
      if (!canPause(r.state.status)) throw conflict(`container ${id} is not running`);
      await this.d.runtime.pause(id);
      r.state.status = 'paused';
      // a paused container gets no probes
      this.#save(r);
      this.#health.unwatch(id);
      this.d.events.emit('container', 'pause', id, { name: r.name, image: r.imageRef });
    });
  }

  async unpause(idOrName: string): Promise<void> {
    const id = this.resolve(idOrName);
    await this.#locks.with(id, async () => {
      const r = await this.#sync(id);
      if (!canUnpause(r.state.status)) throw conflict(`container ${id} is not paused`);
      await this.d.runtime.resume(id);
      r.state.status = 'running';
      this.#save(r);
      this.#watchHealth(r, false);
      this.d.events.emit('container', 'unpause', id, { name: r.name, image: r.imageRef });
    });
  }

  // ---------- remove, rename, prune ----------

  async remove(idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const id = this.resolve(idOrName);
    let rec = await this.#locks.with(id, () => this.#sync(id));
    if (!canRemove(rec.state.status, !!opts.force)) {
      throw conflict(`cannot remove container "/${rec.name}": container is ${rec.state.status === 'paused' ? 'paused' : 'running'}: stop the container before removing or force remove`);
    }
    this.#clearRestartTimer(id);
    this.#health.unwatch(id);
    if (isRunning(rec.state.status) && rec.state.status !== 'restarting') {
      rec.state.manuallyStopped = true;
      this.#save(rec);
      const exited = this.waitFor(id, 'not-running');
      if (rec.state.status === 'paused') await this.d.runtime.resume(id).catch(() => {});
      await this.d.runtime.kill(id, 'SIGKILL', { all: true }).catch(() => {});
      if (!(await raceTimeout(exited, 10_000))) {
        await this.d.runtime.delete(id, { force: true }).catch(() => {});
      }
    }
    await this.#locks.with(id, async () => {
      const cur = this.d.meta.getContainer<ContainerRecord>(id);
      if (!cur) return;
      rec = cur;
      rec.state.status = 'removing';
      this.#save(rec);
      await this.#cleanupRuntime(rec);
      await this.settle(id);
      await this.d.layers.remove(rec.snapshot).catch((err: unknown) => {
        if (!(err instanceof BerthError && err.kind === 'not-found')) throw err;
      });
      await discard(this.bundleDir(id));
      await discard(this.#dir(id));
      await this.d.monitor.clearExit(id);
      this.d.meta.deleteContainer(id);
    });
    if (opts.volumes) {
      for (const m of rec.mountPoints) {
        if (m.type === 'volume' && m.anonymous) await this.d.volumes.remove(m.name).catch(() => {});
      }
    }
    this.d.events.emit('container', 'destroy', id, { name: rec.name, image: rec.imageRef });
    this.#notify(id, 'removed', rec.state.exitCode);
    await this.d.images.releaseDeleted(rec.imageId).catch((err: unknown) => this.d.log.warn({ err, id }, 'releasing a deleted image failed'));
  }

  async rename(idOrName: string, newName: string): Promise<void> {
    const id = this.resolve(idOrName);
    if (!NAME_RE.test(newName)) throw invalid(`Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    newName = newName.replace(/^\//, '');
    await this.#locks.with(id, async () => {
      const r = await this.#sync(id);
      if (r.name === newName) throw invalid('Renaming a container with the same name as its current name');
      const other = this.d.meta.containerIdByName(newName);
      if (other) throw conflict(`Conflict. The container name "/${newName}" is already in use by container "${other}". You have to remove (or rename) that container to be able to reuse that name.`);
      const old = r.name;
      r.name = newName;
      this.#save(r);
      this.d.networks?.renamed(r);
      this.d.events.emit('container', 'rename', id, { name: newName, oldName: `/${old}` });
    });
  }

  // ---------- networks ----------

  /**
   * `network connect`: a running container gets its interface now, any other one when it next
   * starts. forbidden when already connected, conflict for host, none and container: modes (dockerd's texts).
   */
  async connectNetwork(idOrName: string, network: string, config: EndpointConfig): Promise<void> {
    await this.#changeNetworks(idOrName, network, async (rec, n, nets, live) => {
      const mode = networkNameOf(rec.spec.host.networkMode);
      if (n.driver !== 'bridge' || mode === 'host') throw conflict('container cannot be disconnected from host network or connected to host network');
      if (mode.startsWith('container:')) throw conflict('container sharing network namespace with another container or host cannot be connected to any other network');
      if (mode === 'none') throw conflict('container cannot be connected to multiple networks with one of the networks in private (none) mode');
      validateEndpointConfig(n.name, config);
      const reqs = endpointRequests(rec);
      if (reqs.some((r) => r.network === n.name || r.network === n.id) || attachmentsOf(rec).some((a) => a.networkId === n.id)) {
        throw new BerthError('forbidden', `endpoint with name ${rec.name} already exists in network ${n.name}`);
      }
      if (live) {
        const att = await nets.connectRunning(rec, n.name, config, rec.state.pid);
        rec.networks = [...attachmentsOf(rec), att];
        delete rec.network;
      }
      rec.netConfig = [...reqs, { network: n.name, config }];
      return live;
    });
  }

  /**
   * `network disconnect`: the interface of a running container goes now; a stopped one leaves the
   * network's list. internal (dockerd's plain error) when the container is not connected.
   */
  async disconnectNetwork(idOrName: string, network: string, _opts: { force?: boolean } = {}): Promise<void> {
    await this.#changeNetworks(idOrName, network, async (rec, n, nets, live) => {
      if (n.driver !== 'bridge') throw conflict('container cannot be disconnected from host network or connected to host network');
      const reqs = endpointRequests(rec);
      const att = attachmentsOf(rec).find((a) => a.networkId === n.id);
      const kept = reqs.filter((r) => r.network !== n.name && r.network !== n.id);
      if (kept.length === reqs.length && !att) throw new BerthError('internal', `container ${rec.id} is not connected to network ${n.name}`);
      if (att && live) {
        await nets.disconnectRunning(rec, att, rec.state.pid);
        rec.networks = attachmentsOf(rec).filter((a) => a !== att);
        delete rec.network;
      }
      rec.netConfig = kept;
      return Boolean(att && live);
    });
  }

  /**
   * The frame of `network connect` and `disconnect`: `change` edits the container's record under
   * its lock, given the network and whether the container runs, and says whether it changed a
   * running container's interfaces; the record is then saved, and that container's resolv.conf
   * rewritten.
   */
  async #changeNetworks(
    idOrName: string, network: string,
    change: (rec: ContainerRecord, n: ReturnType<NetworkService['get']>, nets: NetworkService, live: boolean) => Promise<boolean>,
  ): Promise<void> {
    const nets = this.d.networks;
    if (!nets) throw new BerthError('not-implemented', 'networking is disabled');
    const id = this.resolve(idOrName);
    const n = nets.get(network);
    await this.#locks.with(id, async () => {
      const rec = await this.#sync(id);
      const live = (rec.state.status === 'running' || rec.state.status === 'paused') && rec.state.pid > 0;
      const touchedLive = await change(rec, n, nets, live);
      this.#save(rec);
      if (touchedLive) await this.#writeResolvConf(rec, false);
    });
  }

  async prune(match?: (r: ContainerRecord) => boolean): Promise<{ deleted: string[]; spaceReclaimed: number }> {
    const deleted: string[] = [];
    let space = 0;
    for (const r of this.list()) {
      if (r.state.status !== 'exited' && r.state.status !== 'created' && r.state.status !== 'dead') continue;
      if (match && !match(r)) continue;
      space += await this.sizeRw(r).catch(() => 0);
      await this.remove(r.id);
      deleted.push(r.id);
    }
    if (deleted.length) this.d.events.emit('container', 'prune', '', { reclaimed: String(space) });
    return { deleted, spaceReclaimed: space };
  }

  // ---------- wait ----------

  /** Resolves when the condition holds; `not-running` resolves at once for a stopped container. */
  waitFor(id: string, condition: WaitCondition): Promise<{ statusCode: number; error?: string }> {
    const rec = this.d.meta.getContainer<ContainerRecord>(id);
    if (!rec) return Promise.resolve({ statusCode: 0 });
    if (condition === 'not-running' && !isRunning(rec.state.status) && rec.state.status !== 'removing') {
      return Promise.resolve({ statusCode: rec.state.exitCode });
    }
    return new Promise((resolve) => {
      const list = this.#waiters.get(id) ?? [];
      list.push({ condition, resolve });
      this.#waiters.set(id, list);
    });
  }

  async wait(idOrName: string, condition: WaitCondition, signal: AbortSignal): Promise<{ statusCode: number; error?: string }> {
    const id = this.resolve(idOrName);
    await this.#sync(id);
    const p = this.waitFor(id, condition);
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(new BerthError('unavailable', 'client went away')), { once: true });
      p.then(resolve, reject);
    });
  }

  #notify(id: string, what: 'exit' | 'removed', code: number): void {
    const list = this.#waiters.get(id);
    if (!list) return;
    const keep: Waiter[] = [];
    for (const w of list) {
      if (what === 'exit' && (w.condition === 'not-running' || w.condition === 'next-exit')) w.resolve({ statusCode: code });
      else if (what === 'removed') w.resolve({ statusCode: code });
      else keep.push(w);
    }
    if (keep.length) this.#waiters.set(id, keep);
    else this.#waiters.delete(id);
  }

  // ---------- I/O ----------

  /**
   * Attach to a container's stdio. Before start, the connection is made between the monitor's
   * create and the runtime's start, so no output is lost. For a stopped container with
   * `stream`, ends at once (after replaying logs when asked).
   */
  async attach(idOrName: string, opts: AttachOptions): Promise<AttachSession> {
    const id = this.resolve(idOrName);
    const rec = await this.#sync(id);
    const handlers: ((f: OutputFrame) => void)[] = [];
    const emit = (f: OutputFrame): void => {
      if ((f.stream === 1 && !opts.stdout) || (f.stream === 2 && !opts.stderr)) return;
      for (const h of handlers) h(f);
    };
    let conn: AttachConnection | undefined;
    let stdinBuf: Buffer[] = [];
    let stdinClosed = false;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const connect = async (socket: string): Promise<void> => {
      if (!socket || opts.signal.aborted) {
        resolveDone();
        return;
      }
      conn = await AttachConnection.connect(socket);
      conn.on('frame', emit);
      conn.on('end', resolveDone);
      for (const b of stdinBuf) conn.write(b);
      stdinBuf = [];
      if (stdinClosed && rec.spec.stdinOnce) conn.closeWrite();
    };
    const session: AttachSession = {
      tty: rec.spec.tty,
      onFrame: (fn) => handlers.push(fn),
      writeStdin: (data) => {
        if (!opts.stdin) return;
        if (conn) conn.write(data);
        else stdinBuf.push(data);
      },
      closeStdin: () => {
        stdinClosed = true;
        if (conn && rec.spec.stdinOnce) conn.closeWrite();
      },
      done,
      close: () => {
        conn?.close();
        resolveDone();
      },
    };
    opts.signal.addEventListener('abort', () => session.close(), { once: true });
    this.d.events.emit('container', 'attach', id, { image: rec.imageRef, name: rec.name, ...rec.labels });
    const replay = async (): Promise<void> => {
      if (!opts.logs) return;
      for await (const r of readLog(rec.logPath, { follow: false, signal: opts.signal, isLive: () => false })) emit({ stream: r.stream, data: r.data });
    };
    if (!opts.stream) {
      queueMicrotask(() => void replay().finally(resolveDone));
      return session;
    }
    if (rec.state.status === 'running' || rec.state.status === 'paused') {
      await replay();
      await connect(this.d.monitor.attachSocket(this.bundleDir(id)));
    } else if (rec.state.status === 'created' || rec.state.status === 'exited' || rec.state.status === 'restarting') {
      // wait for the next start; a stopped container that is never started keeps the attach open, as docker does
      await replay();
      const list = this.#pendingAttach.get(id) ?? [];
      list.push(connect);
      this.#pendingAttach.set(id, list);
      opts.signal.addEventListener('abort', () => {
        const l = this.#pendingAttach.get(id);
        if (l) this.#pendingAttach.set(id, l.filter((f) => f !== connect));
      }, { once: true });
    } else {
      resolveDone();
    }
    return session;
  }

  /**
   * The container's log, oldest first across its rotated files, in batches of records (stdout
   * and/or stderr); with `follow`, live output until the container stops, `until` passes or the
   * signal aborts. Throws not-found, and not-implemented for `--log-driver none` (docker's text).
   */
  async *logs(idOrName: string, opts: { follow: boolean; since?: bigint; until?: bigint; tail?: number; stdout: boolean; stderr: boolean; signal: AbortSignal }): AsyncGenerator<LogBatch> {
    const id = this.resolve(idOrName);
    const rec = await this.#sync(id);
    if (rec.spec.host.logConfig.type === 'none') throw new BerthError('not-implemented', 'configured logging driver does not support reading');
    const isLive = (): boolean => {
      const r = this.d.meta.getContainer<ContainerRecord>(id);
      return !!r && (isRunning(r.state.status));
    };
    for await (const b of readLogBatches(rec.logPath, { ...opts, isLive })) {
      const out = opts.stdout && opts.stderr ? b : b.filter((x, i) => (x.stream(i) === 1 ? opts.stdout : opts.stderr));
      if (out.count) yield out;
    }
  }

  async resize(idOrName: string, rows: number, cols: number): Promise<void> {
    const rec = await this.#sync(this.resolve(idOrName));
    if (!isRunning(rec.state.status)) throw conflict(`Container ${rec.id} is not running`);
    if (!rec.spec.tty) return;
    await this.d.monitor.resize(this.bundleDir(rec.id), rows, cols);
  }

  // ---------- inspection ----------

  async top(idOrName: string, psArgs: string): Promise<{ titles: string[]; processes: string[][] }> {
    const rec = await this.#sync(this.resolve(idOrName));
    if (!isRunning(rec.state.status)) throw conflict(`container ${rec.id} is not running`);
    const pids = new Set(await this.d.runtime.pids(rec.id));
    const args = (psArgs || '-ef').split(/\s+/).filter(Boolean);
    const r = await run('ps', args, { kind: 'invalid-argument' });
    const lines = r.stdout.split('\n').filter(Boolean);
    const header = lines.shift() ?? '';
    const titles = header.trim().split(/\s+/);
    const pidCol = titles.indexOf('PID');
    if (pidCol < 0) throw invalid(`Couldn't find PID field in ps output`);
    const processes: string[][] = [];
    for (const l of lines) {
      const f = l.trim().split(/\s+/);
      if (!pids.has(Number(f[pidCol]))) continue;
      const row = f.slice(0, titles.length - 1);
      row.push(f.slice(titles.length - 1).join(' '));
      processes.push(row);
    }
    return { titles, processes };
  }

  async stats(idOrName: string): Promise<{ rec: ContainerRecord; stats: CgroupStats | undefined; systemNs: number; onlineCpus: number }> {
    const rec = await this.#sync(this.resolve(idOrName));
    const stats = isRunning(rec.state.status) ? await readCgroupStats(rec.cgroupsPath, this.d.cgroupVersion) : undefined;
    const [cpuLine = ''] = (await readFile('/proc/stat', 'utf8')).split('\n');
    const ticks = cpuLine.trim().split(/\s+/).slice(1, 8).map(Number).reduce((a, b) => a + b, 0);
    const { availableParallelism } = await import('node:os');
    return { rec, stats, systemNs: (ticks * 1e9) / 100, onlineCpus: availableParallelism() };
  }

  /** `docker diff`: changes of the container's layer, minus the files every container gets. */
  async changes(idOrName: string): Promise<Change[]> {
    const rec = this.get(idOrName);
    const hidden = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/dev', '/proc', '/sys', '/dev/pts', '/dev/shm', '/dev/console', '/etc/mtab', '/.dockerenv', ...rec.mountPoints.map((m) => m.destination)]);
    const all = await this.d.layers.changes(rec.snapshot);
    const kept = all.filter((c) => !hidden.has(c.path) && ![...hidden].some((h) => c.path.startsWith(`${h}/`) && (h === '/dev' || h === '/proc' || h === '/sys')));
    // a parent that is only "changed" because of a hidden child is not a change
    return kept.filter((c) => !(c.kind === 'C' && !kept.some((o) => o !== c && o.path.startsWith(`${c.path}/`)) && all.some((o) => hidden.has(o.path) && o.path.startsWith(`${c.path}/`))));
  }

  /** `docker export`: the container's whole filesystem as a tar stream. */
  async export(idOrName: string): Promise<Readable> {
    const rec = this.get(idOrName);
    const dir = join(this.d.execRoot, `export-${newId().slice(0, 12)}`);
    await this.settle(rec.id);
    await mkdir(dir, { recursive: true });
    await mountAll(await this.d.layers.mounts(rec.snapshot), dir);
    const s = exportTree(dir);
    const cleanup = (): void => void unmount(dir).then(() => rm(dir, { recursive: true, force: true })).catch(() => {});
    s.on('close', cleanup);
    s.on('end', cleanup);
    s.on('error', cleanup);
    this.d.events.emit('container', 'export', rec.id, { name: rec.name });
    return s;
  }

  /** `docker commit`. Returns the new image id. */
  async commit(idOrName: string, opts: { ref?: string; comment?: string; author?: string; pause: boolean; config?: Partial<ImageRunConfig> }): Promise<Digest> {
    const rec = this.get(idOrName);
    const paused = opts.pause && rec.state.status === 'running';
    if (paused) await this.pause(rec.id);
    try {
      const tmp = join(this.d.containersDir, rec.id, `commit-${newId().slice(0, 8)}.tar`);
      const { createWriteStream } = await import('node:fs');
      const { pipeline } = await import('node:stream/promises');
      await pipeline(exportChanges(this.d.layers, rec.snapshot), createWriteStream(tmp));
      const base = await this.d.images.config(rec.imageId);
      const parent = await this.d.images.topLayer(rec.imageId);
      const layer = await this.d.images.registerLayer(parent, tmp, {});
      await rm(tmp, { force: true });
      const now = new Date().toISOString();
      const cfg = {
        ...base.config,
        Env: rec.env, Cmd: rec.spec.cmd ?? base.config?.Cmd ?? null, Entrypoint: rec.spec.entrypoint ?? base.config?.Entrypoint ?? null,
        WorkingDir: rec.workingDir === '/' ? (base.config?.WorkingDir ?? '') : rec.workingDir, User: rec.user, Labels: rec.labels,
        ...(opts.config ?? {}),
      };
      // compat: as dockerd's commit, the container's healthcheck goes into the image, under a HEALTHCHECK change's fields
      const health = mergeHealthcheck(healthFromImage(opts.config?.Healthcheck) ?? null, rec.healthcheck);
      if (health) cfg.Healthcheck = healthToWire(health);
      const image = {
        ...base, created: now, author: opts.author ?? '', comment: opts.comment ?? '', config: cfg,
        rootfs: { type: 'layers' as const, diff_ids: [...base.rootfs.diff_ids, layer.diffId] },
        history: [...(base.history ?? []), { created: now, author: opts.author, comment: opts.comment, created_by: [rec.path, ...rec.args].join(' ') }],
      };
      delete (image as { container_config?: unknown }).container_config;
      const { normalizedName, parseReference, withDefaultTag } = await import('../oci/index.ts');
      const tags = opts.ref ? [normalizedName(withDefaultTag(parseReference(opts.ref)))] : [];
      const id = await this.d.images.addImage(image, tags, { parent: rec.imageId });
      this.d.events.emit('container', 'commit', rec.id, { name: rec.name, imageID: id });
      return id;
    } finally {
      if (paused) await this.unpause(rec.id).catch(() => {});
    }
  }

  /** `docker update`: new limits (applied at once when running) and restart policy. */
  async update(idOrName: string, res: Partial<Resources>, restartPolicy?: ContainerSpec['host']['restartPolicy']): Promise<string[]> {
    const id = this.resolve(idOrName);
    return this.#locks.with(id, async () => {
      const r = await this.#sync(id);
      const merged = { ...r.spec.host.resources, ...Object.fromEntries(Object.entries(res).filter(([, v]) => v !== undefined)) } as Resources;
      validateResources(merged);
      if (restartPolicy?.name) {
        if (r.spec.host.autoRemove && restartPolicy.name !== 'no') throw invalid('Restart policy cannot be updated because AutoRemove is enabled for the container');
        r.spec.host.restartPolicy = restartPolicy;
      }
      r.spec.host.resources = merged;
      if (isRunning(r.state.status)) {
        const { toLinuxResources } = await import('./spec-input.ts');
        await this.d.runtime.update(id, toLinuxResources(merged));
      }
      this.#save(r);
      this.d.events.emit('container', 'update', id, { name: r.name });
      return [];
    });
  }

  /** Size of the container's writable layer. */
  async sizeRw(r: ContainerRecord): Promise<number> {
    const { dirSize } = await import('./volumes.ts');
    return dirSize(await this.d.layers.upperDir(r.snapshot));
  }

  /** Image ids used by containers, for rmi's checks. */
  imagesInUse(): Map<string, { id: string; running: boolean }[]> {
    const m = new Map<string, { id: string; running: boolean }[]>();
    for (const r of this.list()) {
      const users = m.get(r.imageId) ?? [];
      users.push({ id: r.id, running: isRunning(r.state.status) });
      m.set(r.imageId, users);
    }
    return m;
  }


  volumeUsers(name: string): string[] {
    return this.list().filter((r) => r.mountPoints.some((m) => m.type === 'volume' && m.name === name)).map((r) => r.id);
  }
}

/** `KEY=value` lists merged by key, later entries winning (image env, then the request's). */
export function mergeEnv(base: string[], over: string[]): string[] {
  const m = new Map<string, string>();
  for (const e of [...base, ...over]) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), e);
  }
  return [...m.values()];
}

function validateResources(r: Resources): void {
  if (r.memory && r.memory < 6 * 1024 * 1024) throw invalid('Minimum memory limit allowed is 6MB');
  if (r.memorySwap > 0 && r.memory > 0 && r.memorySwap < r.memory) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (r.memorySwap > 0 && !r.memory) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (r.nanoCpus && (r.cpuQuota || r.cpuPeriod)) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (r.nanoCpus < 0) throw invalid('Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
  if (r.blkioWeight && (r.blkioWeight < 10 || r.blkioWeight > 1000)) throw invalid('Range of blkio weight is from 10 to 1000');
}

function exitCodeForStartError(msg: string): number {
  if (/executable file not found|no such file or directory/i.test(msg)) return 127;
  if (/permission denied/i.test(msg)) return 126;
  return 128;
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11,
  SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21,
  SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};

/** `9`, `KILL`, `sigkill`, `SIGRTMIN+3` → `SIGKILL`-style name. invalid-argument for unknown ones. */
export function normalizeSignal(s: string): string {
  const t = s.trim().toUpperCase();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    const name = Object.entries(SIGNALS).find(([, v]) => v === n)?.[0];
    if (name) return name;
    if (n >= 34 && n <= 64) return String(n);
    throw invalid(`Invalid signal: ${s}`);
  }
  const name = t.startsWith('SIG') ? t : `SIG${t}`;
  if (SIGNALS[name] !== undefined) return name;
  throw invalid(`Invalid signal: ${s}`);
}
export const signalNumber = (name: string): number => SIGNALS[name] ?? Number(name);

/** True when `p` settled within `ms`. */
async function raceTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (t = setTimeout(() => r(false), ms)));
  const r = await Promise.race([p.then(() => true), timeout]);
  clearTimeout(t);
  return r;
}
