// The composition root: the only place that picks implementations.
import { chmod, mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import type { Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createLogger, type Logger, run } from '../common/index.ts';
import { ContentStore, MetadataStore } from '../store/index.ts';
import { DEFAULT_INSECURE, RegistryClient, parseMirror } from '../registry/index.ts';
import { OverlayLayerStore, VfsLayerStore, unmount, type LayerStore } from '../storage/index.ts';
import { ConmonMonitor, RuncRuntime, cgroupVersion, boundingCapabilities } from '../runtime/index.ts';
import { LINUX_CAPABILITIES } from '../oci/index.ts';
import { ArchiveService, BuildService, ContainerService, EventBus, ExecService, ImageService, NetworkService, SystemService, VolumeService, chainIds } from '../engine/index.ts';
import { createApiServer } from '../server/index.ts';
import type { DaemonConfig } from './config.ts';
import { IdleReclaimer } from './tune.ts';

export const VERSION = '0.1.0';

const LAYER_STORES: Record<'overlay2' | 'vfs', (root: string) => LayerStore> = {
  overlay2: (root) => new OverlayLayerStore(join(root, 'overlay')),
  vfs: (root) => new VfsLayerStore(join(root, 'vfs')),
};

export interface Daemon {
  server: Server;
  log: Logger;
  close(): Promise<void>;
}

async function which(bin: string): Promise<string | undefined> {
  const r = await run('sh', ['-c', `command -v ${bin}`], { allowFail: true });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** Build every service, reconcile state with reality, then listen. */
export async function startDaemon(cfg: DaemonConfig): Promise<Daemon> {
  const log = createLogger(cfg.logLevel);
  await mkdir(cfg.dataRoot, { recursive: true, mode: 0o710 });
  await chmod(cfg.dataRoot, 0o710);
  await mkdir(cfg.execRoot, { recursive: true, mode: 0o700 });
  await mkdir(dirname(cfg.host), { recursive: true, mode: 0o700 });
  const pidFile = await lockDataRoot(cfg.dataRoot);

  let driver = cfg.storageDriver;
  if (!driver) driver = (await OverlayLayerStore.isSupported(cfg.dataRoot)) ? 'overlay2' : 'vfs';
  const layers = LAYER_STORES[driver](cfg.dataRoot);

  const runtimeName = cfg.runtime || 'runc';
  let runtimePath = await which(runtimeName);
  if (!runtimePath) throw new Error(`${runtimeName} not found in PATH: install it (apt-get install ${runtimeName})`);
  if (runtimeName === 'crun' && (await hybridCgroupV2HasControllers())) runtimePath = await crunHybridWrapper(runtimePath, cfg.execRoot);
  const conmon = await which('conmon');
  if (!conmon) throw new Error('conmon not found in PATH: install it (apt-get install conmon)');
  const runtime = new RuncRuntime(runtimeName, runtimePath, join(cfg.execRoot, 'runtime'));
  const monitor = new ConmonMonitor(conmon, runtime, join(cfg.dataRoot, 'exits'));
  await mkdir(join(cfg.dataRoot, 'exits'), { recursive: true });

  const blobs = await ContentStore.open(cfg.dataRoot);
  const meta = MetadataStore.open(cfg.dataRoot);
  const events = new EventBus();
  const cgv = await cgroupVersion();
  const limits: Record<string, number> = {};
  const nofile = await run('sh', ['-c', 'ulimit -Hn'], { allowFail: true });
  if (/^\d+$/.test(nofile.stdout.trim())) limits.nofile = Number(nofile.stdout.trim());
  const nproc = await run('sh', ['-c', 'ulimit -Hu'], { allowFail: true });
  if (/^\d+$/.test(nproc.stdout.trim())) limits.nproc = Number(nproc.stdout.trim());

  const hostCaps = await boundingCapabilities(LINUX_CAPABILITIES);
  let containers: ContainerService;
  const registry = new RegistryClient({ insecure: [...DEFAULT_INSECURE, ...cfg.insecureRegistries], mirrors: cfg.registryMirrors.map(parseMirror), certsDir: cfg.registryCertsDir, ...(cfg.registryChunkSize ? { chunkSize: cfg.registryChunkSize } : {}) });
  const images = new ImageService({ meta, blobs, layers, events, tmpDir: join(cfg.dataRoot, 'tmp'), log, imagesInUse: () => containers.imagesInUse(), registry, searchRegistries: cfg.addRegistries });
  const volumes = new VolumeService({ meta, root: join(cfg.dataRoot, 'volumes'), events, log, users: (n) => containers.volumeUsers(n) });
  const iptables = cfg.iptables && (await which('iptables-restore')) !== undefined;
  if (cfg.iptables && !iptables) log.warn({}, 'iptables-restore not found (apt-get install iptables): no NAT or published ports');
  const networks = new NetworkService({ meta, events, log, config: { bridge: cfg.bridge, bip: cfg.bip, fixedCidr: cfg.fixedCidr, mtu: cfg.mtu, iptables, resolvConf: cfg.resolvConf } });
  containers = new ContainerService({
    meta, layers, runtime, monitor, images, volumes, networks, events, log,
    containersDir: join(cfg.dataRoot, 'containers'), execRoot: join(cfg.execRoot, 'bundles'),
    cgroupParent: cfg.cgroupParent, cgroupVersion: cgv, limits,
    initPath: (await which('tini-static')) ?? (await which('tini')),
    hostCaps,
  });
  const system = new SystemService({
    version: VERSION, apiVersion: '1.45', minApiVersion: '1.24', dataRoot: cfg.dataRoot, execRoot: cfg.execRoot,
    storageDriver: layers.driver, runtimeName, cgroupVersion: cgv, startedAt: new Date(),
    insecureRegistries: cfg.insecureRegistries, registryMirrors: cfg.registryMirrors,
  }, containers, images, volumes);

  await rm(join(cfg.dataRoot, 'tmp'), { recursive: true, force: true });
  await collectGarbage(meta, layers, images, containers, log);
  await networks.init();
  await containers.reconcile();
  containers.watch();

  const exec = new ExecService({ containers, monitor, events, log, root: join(cfg.execRoot, 'exec'), hostCaps });
  containers.useHealthProber(exec);
  const build = new BuildService({ containers, images, layers, meta, blobs, tmpDir: join(cfg.dataRoot, 'tmp') });
  const archive = new ArchiveService({ containers, layers, tmpDir: join(cfg.dataRoot, 'tmp') });
  const server = createApiServer({ containers, images, volumes, networks, system, events, exec, build, archive, volumeUsers: (n) => containers.volumeUsers(n) }, log);
  await unlink(cfg.host).catch(() => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.host, () => resolve());
  });
  await chmod(cfg.host, 0o660);
  log.info({ socket: cfg.host, dataRoot: cfg.dataRoot, driver: layers.driver, runtime: runtimeName, cgroup: cgv }, 'berthd is listening');
  // memory back to the system once requests stop: start-up's, then each burst's (see tune.ts)
  const reclaim = new IdleReclaimer({ delayMs: 1000, minIntervalMs: 30_000, log });
  server.on('request', (_req: unknown, res: ServerResponse) => {
    reclaim.touch();
    res.once('close', () => reclaim.touch());
  });
  server.on('upgrade', (_req: unknown, socket: Duplex) => {
    reclaim.touch();
    socket.once('close', () => reclaim.touch());
  });
  reclaim.touch();

  return {
    server, log,
    async close() {
      reclaim.stop();
      containers.close();
      networks.close();
      await containers.settle();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      meta.close();
      await unlink(cfg.host).catch(() => {});
      await unlink(pidFile).catch(() => {});
    },
  };
}

/** True on a hybrid host whose cgroup2 mount holds controllers: crun 1.8 refuses to create there. */
async function hybridCgroupV2HasControllers(): Promise<boolean> {
  const c = await readFile('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').catch(() => '');
  return c.trim() !== '';
}

/**
 * crun 1.8.1 refuses hybrid hosts ("cgroups in hybrid mode not supported, drop all controllers from
 * cgroupv2") but works in a private mount namespace without the v2 mount (FIELD-NOTES). Only
 * create/run need that; a wrapper script keeps every other verb direct.
 */
async function crunHybridWrapper(crun: string, execRoot: string): Promise<string> {
  const path = join(execRoot, 'crun-hybrid');
  const script = `#!/bin/sh
for a in "$@"; do
  case "$a" in
    create|run) exec unshare -m --propagation private sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' ${crun} "$@" ;;
  esac
done
exec ${crun} "$@"
`;
  await writeFile(path, script, { mode: 0o755 });
  return path;
}

/** One berthd per data root: a pid file naming a live berthd refuses a second one. */
async function lockDataRoot(dataRoot: string): Promise<string> {
  const pidFile = join(dataRoot, 'berthd.pid');
  const old = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (old && old !== process.pid) {
    const cmdline = await readFile(`/proc/${old}/cmdline`, 'utf8').catch(() => '');
    if (/berth/.test(cmdline)) throw new Error(`another berthd (pid ${old}) is using ${dataRoot}`);
  }
  await writeFile(pidFile, `${process.pid}\n`);
  return pidFile;
}

/**
 * After a crash: drop snapshots no layer record or container owns (an interrupted extraction, a
 * container whose record never committed) and layer records whose snapshot is gone.
 */
async function collectGarbage(meta: MetadataStore, layers: LayerStore, images: ImageService, containers: ContainerService, log: Logger): Promise<void> {
  const known = new Set<string>([...meta.listLayers().map((l) => l.chainId), ...containers.list().map((c) => c.snapshot)]);
  const snaps = await layers.list();
  // children first
  for (const s of snaps.filter((x) => !known.has(x.key)).reverse()) {
    await unmount(s.key).catch(() => {});
    await layers.remove(s.key).catch((err: unknown) => log.warn({ err, key: s.key }, 'could not remove stale snapshot'));
  }
  const present = new Set((await layers.list()).map((s) => s.key));
  for (const l of meta.listLayers()) if (!present.has(l.chainId)) meta.deleteLayer(l.chainId);
  // images whose layers vanished are unusable: drop them
  for (const img of meta.listImages()) {
    const cfg = await images.config(img.id).catch(() => undefined);
    if (!cfg || chainIds(cfg.rootfs.diff_ids).some((c) => !meta.getLayer(c))) {
      log.warn({ id: img.id }, 'dropping image with missing layers');
      meta.deleteImage(img.id);
    }
  }
}
