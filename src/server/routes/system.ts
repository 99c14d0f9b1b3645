import { arch, release } from 'node:os';
import type { Router } from '../router.ts';
import { API_VERSION, MIN_API_VERSION } from '../router.ts';
import { checkFilters, parseFilters, sendJson } from '../http.ts';
import type { Backends } from '../backends.ts';
import { toEvent, toImageSummary, toContainerSummary, statusText, toVolume } from '../convert.ts';
import type { EngineEvent } from '../../engine/index.ts';

const goArch = (): string => (arch() === 'x64' ? 'amd64' : arch());

export function systemRoutes(r: Router, b: Backends): void {
  const ping = (req: { res: import('node:http').ServerResponse; raw: import('node:http').IncomingMessage }): void => {
    const headers = {
      'API-Version': API_VERSION, 'OSType': 'linux', 'Docker-Experimental': 'false', 'Builder-Version': '1', 'Swarm': 'inactive',
      'Cache-Control': 'no-cache, no-store, must-revalidate', 'Pragma': 'no-cache', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '2',
    };
    req.res.writeHead(200, headers);
    req.res.end(req.raw.method === 'HEAD' ? undefined : 'OK');
  };
  r.get('/_ping', ping);
  r.head('/_ping', ping);

  r.get('/version', (req) => {
    const f = b.system.version;
    const kernel = release();
    const v = {
      Platform: { Name: 'berth' },
      Components: [{ Name: 'Engine', Version: f.version, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch(), KernelVersion: kernel, Experimental: 'false', GitCommit: '', GoVersion: `node${process.version}`, BuildTime: '' } },
        { Name: f.runtimeName, Version: '', Details: { GitCommit: '' } }],
      Version: f.version, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: '', GoVersion: `node${process.version}`,
      Os: 'linux', Arch: goArch(), KernelVersion: kernel, BuildTime: '',
    };
    sendJson(req.res, 200, v);
  });

  r.get('/info', async (req) => {
    const i = await b.system.info();
    const f = i.facts;
    sendJson(req.res, 200, {
      ID: '', Containers: i.containers, ContainersRunning: i.running, ContainersPaused: i.paused, ContainersStopped: i.stopped,
      Images: i.images, Driver: f.storageDriver, DriverStatus: [['Backing Filesystem', 'extfs']], Plugins: { Volume: ['local'], Network: ['host', 'none', 'null'], Authorization: null, Log: ['k8s-file'] },
      MemoryLimit: true, SwapLimit: true, KernelMemory: false, KernelMemoryTCP: false, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true, PidsLimit: true,
      IPv4Forwarding: true, BridgeNfIptables: false, BridgeNfIp6tables: false, Debug: false, NFd: 0, OomKillDisable: true, NGoroutines: 0,
      SystemTime: new Date().toISOString(), LoggingDriver: 'json-file', CgroupDriver: 'cgroupfs', CgroupVersion: f.cgroupVersion === 'v2' ? '2' : '1',
      NEventsListener: 0, KernelVersion: i.kernel, OperatingSystem: i.os, OSVersion: '', OSType: 'linux', Architecture: i.arch,
      IndexServerAddress: 'https://index.docker.io/v1/', RegistryConfig: {
        AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null,
        InsecureRegistryCIDRs: ['127.0.0.0/8', ...f.insecureRegistries.filter((r) => r.includes('/'))],
        IndexConfigs: Object.fromEntries(f.insecureRegistries.filter((r) => !r.includes('/')).map((r) => [r, { Name: r, Mirrors: [], Secure: false, Official: false }])),
        Mirrors: f.registryMirrors.length ? f.registryMirrors : null,
      },
      NCPU: i.ncpu, MemTotal: i.memTotal, GenericResources: null, DockerRootDir: f.dataRoot, HttpProxy: '', HttpsProxy: '', NoProxy: '', Name: i.name, Labels: [],
      ExperimentalBuild: false, ServerVersion: f.version, Runtimes: { [f.runtimeName]: { path: f.runtimeName } }, DefaultRuntime: f.runtimeName,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true, Isolation: '', InitBinary: 'docker-init', ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' },
      SecurityOptions: ['name=seccomp,profile=builtin'], CDISpecDirs: [], Warnings: null,
    });
  });

  r.get('/events', (req) => {
    const f = parseFilters(req.query);
    checkFilters(f, ['container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume', 'config']);
    const toNs = (v: string | null): bigint | undefined => {
      if (!v) return undefined;
      const [s = '0', frac = ''] = v.split('.');
      if (/^\d+$/.test(s)) return BigInt(s) * 1_000_000_000n + BigInt((frac.padEnd(9, '0')).slice(0, 9) || '0');
      const t = Date.parse(v);
      return Number.isNaN(t) ? undefined : BigInt(t) * 1_000_000n;
    };
    const since = toNs(req.query.get('since'));
    const until = toNs(req.query.get('until'));
    const match = (e: EngineEvent): boolean => {
      const has = (k: string, vals: string[]): boolean => !f.has(k) || vals.some((v) => f.get(k)!.includes(v));
      if (!has('type', [e.type])) return false;
      if (!has('event', [e.action, e.action.split(':')[0]!])) return false;
      if (f.has('container') && (e.type !== 'container' || !has('container', [e.actor.id, e.actor.attributes.name ?? '', e.actor.id.slice(0, 12)]))) return false;
      if (f.has('image') && !has('image', [e.actor.attributes.image ?? '', e.type === 'image' ? e.actor.id : '', e.actor.attributes.name ?? ''])) return false;
      if (f.has('volume') && (e.type !== 'volume' || !has('volume', [e.actor.id]))) return false;
      if (f.has('label') && !f.get('label')!.every((l) => {
        const [k = '', v] = l.split('=');
        return v === undefined ? k in e.actor.attributes : e.actor.attributes[k] === v;
      })) return false;
      return true;
    };
    // compat: the CLI waits for the headers before it prints anything: flush at once
    req.res.writeHead(200, { 'Content-Type': 'application/json' });
    req.res.flushHeaders();
    const ac = new AbortController();
    req.signal.addEventListener('abort', () => ac.abort(), { once: true });
    b.events.subscribe({ since, until, match }, (e) => req.res.write(JSON.stringify(toEvent(e)) + '\n'), ac.signal);
    if (until !== undefined) {
      const wait = Number(until / 1_000_000n) - Date.now();
      setTimeout(() => {
        ac.abort();
        req.res.end();
      }, Math.max(0, wait));
    }
    return new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
  });

  r.get('/system/df', async (req) => {
    const df = await b.system.df();
    const count = new Map<string, number>();
    for (const c of df.containers) count.set(c.rec.imageId, (count.get(c.rec.imageId) ?? 0) + 1);
    sendJson(req.res, 200, {
      LayersSize: df.layersSize,
      Images: df.images.map((i) => toImageSummary(i, count.get(i.record.id) ?? 0)),
      Containers: df.containers.map((c) => toContainerSummary(c.rec, statusText(c.rec), { rw: c.sizeRw, rootFs: c.sizeRw })),
      Volumes: df.volumes.map((v) => toVolume(v.v, { size: v.size, refCount: v.refCount })),
      BuildCache: [],
    });
  });
}
