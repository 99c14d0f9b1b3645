// OCI runtime spec generation with Docker's defaults (moby oci/defaults.go and daemon/oci_linux.go,
// v26). Pure: every fact about the host (arch, kernel, rlimits, devices, users) comes from the caller.
import { BerthError } from '../common/index.ts';
import { tweakCapabilities } from './capabilities.ts';
import { hostArch } from './image.ts';
import type {
  OciCpu,
  OciDevice,
  OciDeviceCgroup,
  OciLinux,
  OciMemory,
  OciMount,
  OciNamespace,
  OciProcess,
  OciResources,
  OciRlimit,
  RootfsPropagation,
  RuntimeSpec,
} from './runtime-spec.ts';
import { OCI_VERSION } from './runtime-spec.ts';
import { defaultSeccomp, toOciSeccomp, type DockerSeccompProfile } from './seccomp.ts';

/** A namespace: a new one (`private`), the host's (`host`), or an existing one to join (`path`, e.g. /proc/<pid>/ns/net). */
export type NamespaceMode = { kind: 'private' } | { kind: 'host' } | { kind: 'path'; path: string };
/** `none` is a private IPC namespace without /dev/shm, as Docker's `--ipc none`. */
export type IpcMode = NamespaceMode | { kind: 'none' };

/** A mount the caller built (bind, volume or tmpfs), copied into the spec as is. */
export interface SpecMount {
  destination: string;
  source: string;
  type: string;
  options: string[];
}

/** A `--ulimit`: `name` without RLIMIT_ (`nofile`); -1 is unlimited. */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** A device node to create in the container (`--device`, or a host device when privileged). */
export interface SpecDevice {
  /** Path inside the container. */
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
  /** Device cgroup access (`rwm`, the default). Ignored when privileged: everything is allowed. */
  permissions?: string;
}

/** HostConfig's resource fields, camelCased. Zero or absent means "not set", as in Docker. */
export interface SpecResources {
  /** Bytes. At least 6 MiB. */
  memory?: number;
  /** Memory + swap in bytes; 0 or absent with `memory` set: 2 × memory; -1: unlimited. */
  memorySwap?: number;
  memoryReservation?: number;
  memorySwappiness?: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  /** CPUs × 1e9 (`--cpus 1.5` is 1_500_000_000): becomes quota/period with a 100 ms period. */
  nanoCpus?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** null or absent: not set; 0 or negative: unlimited (-1). */
  pidsLimit?: number | null;
  blkioWeight?: number;
  oomKillDisable?: boolean;
  /** Deprecated by Docker; runc 1.1 ignores kernel memory limits. Passed through when non-zero. */
  kernelMemory?: number;
}

export interface SpecInput {
  /** Absolute path of the prepared rootfs (or a path relative to the bundle). */
  rootfs: string;
  readonlyRootfs?: boolean;
  /** The command, already resolved from entrypoint + cmd (and prefixed with the init binary if `init`). */
  args: string[];
  /** The container's env, already merged from image and request; entries without `=` unset a default. */
  env?: string[];
  /** Default `/`. */
  cwd?: string;
  /** Resolved by the caller from the image's /etc/passwd and /etc/group (Docker lists the primary gid first in additionalGids). */
  user: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
  hostname: string;
  domainname?: string;
  tty?: boolean;
  consoleSize?: { height: number; width: number };
  /** Absent modes are private; cgroup defaults to `host` (Docker's default on cgroup v1). */
  namespaces?: { net?: NamespaceMode; pid?: NamespaceMode; ipc?: IpcMode; uts?: NamespaceMode; cgroup?: 'private' | 'host' };
  /** User mounts (binds, volumes, tmpfs, the init binary). A mount on a default destination replaces the default. */
  mounts?: SpecMount[];
  /** Size of /dev/shm in bytes; default 64 MiB. */
  shmSize?: number;
  /** Docker names, with or without CAP_, any case, or ALL. */
  capAdd?: string[];
  capDrop?: string[];
  /** The kernel's /proc/sys/kernel/cap_last_cap; default 40 (CAP_CHECKPOINT_RESTORE). */
  lastCap?: number;
  privileged?: boolean;
  noNewPrivileges?: boolean;
  /** Default `default`. Ignored (no filter) when privileged. */
  seccomp?: 'default' | 'unconfined' | DockerSeccompProfile;
  /** Go/OCI architecture for seccomp's archMap; default the host's. */
  arch?: string;
  /** Kernel release for seccomp `minKernel` rules; absent means new enough. */
  kernel?: string;
  /** Set as is when given; the caller decides `docker-default` / `unconfined` from host support. */
  apparmorProfile?: string;
  ulimits?: Ulimit[];
  /** berthd's own hard limits by ulimit name (`{ nofile: 20000 }`): requested limits are clamped to them. */
  maxRlimit?: Partial<Record<string, number>>;
  resources?: SpecResources;
  /** Absolute, e.g. `/berth/<id>`: without it runc nests the container under its caller's cgroup. */
  cgroupsPath: string;
  sysctls?: Record<string, string>;
  /**
   * Add Docker's network sysctls (`net.ipv4.ping_group_range=0 2147483647`,
   * `net.ipv4.ip_unprivileged_port_start=0`). Default: true when the network namespace is private.
   * Pass true for a namespace created for this container and joined by path; pass false on kernels
   * that lack these sysctls (runc fails on unknown sysctls).
   */
  defaultNetSysctls?: boolean;
  /** Informational: the caller prefixes `args` with the init binary and adds its bind mount. */
  init?: boolean;
  oomScoreAdj?: number;
  /** Override the default masked / read-only paths (an empty list clears them). Privileged clears both. */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** `--device` nodes; when privileged, the host's devices (the caller lists them). */
  devices?: SpecDevice[];
  /** `--device-cgroup-rule` values such as `c 42:* rmw`. Ignored when privileged. */
  deviceCgroupRules?: string[];
  rootfsPropagation?: RootfsPropagation;
  annotations?: Record<string, string>;
}

export const DEFAULT_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
export const CPU_PERIOD_DEFAULT = 100_000;
const MIN_MEMORY = 6 * 1024 * 1024;

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Docker's default mounts, in order. /dev/shm gets `size=<shmSize>` in generateSpec. */
export function defaultMounts(): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777'] },
  ];
}

/**
 * Docker's device cgroup list: deny everything, then allow null, zero, urandom, random, tty and
 * console, and deny fuse (10:229). runc appends its own allow-list after these rules (c *:* m,
 * b *:* m, full 1:7, ptmx 5:2, pts 136:*, tun 10:200 and the same standard devices).
 */
export function defaultDeviceCgroupRules(): OciDeviceCgroup[] {
  const allow = (major: number, minor: number): OciDeviceCgroup => ({ allow: true, type: 'c', major, minor, access: 'rwm' });
  return [
    { allow: false, access: 'rwm' },
    allow(1, 5),
    allow(1, 3),
    allow(1, 9),
    allow(1, 8),
    allow(5, 0),
    allow(5, 1),
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
  ];
}

// Destinations that stay writable with a read-only rootfs (moby WithMounts).
const WRITABLE_WITH_RO_ROOTFS = new Set(['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev']);

const ULIMIT_NAMES = new Set([
  'as',
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
]);

const invalid = (message: string): BerthError => new BerthError('invalid-argument', message);

/**
 * Builds the runtime spec for one container with Docker's defaults and rules. Pure: no I/O.
 * Throws invalid-argument (Docker's messages where Docker has one) for an empty command, unknown
 * capabilities, invalid resources, ulimits, device rules or mount paths, a relative cgroupsPath, and
 * network sysctls with the host network. Left to the caller: resolving user, command and env from the
 * image, creating mount sources, checking the rootfs for symlinks, host devices and host support
 * (AppArmor, swap accounting, cgroup v1/v2).
 */
export function generateSpec(input: SpecInput): RuntimeSpec {
  if (input.args.length === 0) throw invalid('No command specified');
  if (!input.cgroupsPath.startsWith('/')) throw invalid(`cgroupsPath must be absolute: ${input.cgroupsPath}`);
  const privileged = input.privileged === true;
  const ns = input.namespaces ?? {};
  const net = ns.net ?? { kind: 'private' };
  const uts = ns.uts ?? { kind: 'private' };
  const ipc = ns.ipc ?? { kind: 'private' };

  const caps = tweakCapabilities({ capAdd: input.capAdd, capDrop: input.capDrop, privileged, lastCap: input.lastCap });
  const process: OciProcess = {
    terminal: input.tty === true,
    user: {
      uid: input.user.uid,
      gid: input.user.gid,
      additionalGids: [...(input.user.additionalGids ?? [input.user.gid])],
      ...(input.user.umask !== undefined ? { umask: input.user.umask } : {}),
    },
    args: [...input.args],
    env: containerEnv(input),
    cwd: input.cwd || '/',
    // Docker (moby SetCapabilities): a non-root user gets only the bounding set, as execve would leave it.
    capabilities:
      input.user.uid === 0
        ? { bounding: caps, effective: [...caps], permitted: [...caps] }
        : { bounding: caps, effective: [], permitted: [] },
    oomScoreAdj: validOomScoreAdj(input.oomScoreAdj ?? 0),
  };
  if (input.tty && input.consoleSize) process.consoleSize = { ...input.consoleSize };
  const rlimits = toRlimits(input.ulimits ?? [], input.maxRlimit ?? {}).rlimits;
  if (rlimits.length > 0) process.rlimits = rlimits;
  if (input.noNewPrivileges) process.noNewPrivileges = true;
  if (input.apparmorProfile) process.apparmorProfile = input.apparmorProfile;

  const linux: OciLinux = {
    namespaces: namespaces(input),
    devices: [],
    resources: toOciResources(input.resources ?? {}),
    cgroupsPath: input.cgroupsPath,
    sysctl: sysctls(input, net, uts),
  };

  // Devices (moby WithDevices).
  if (privileged) {
    linux.devices = (input.devices ?? []).map(toOciDevice);
    linux.resources!.devices = [{ allow: true, access: 'rwm' }];
  } else {
    const rules = defaultDeviceCgroupRules();
    for (const d of input.devices ?? []) {
      const access = d.permissions ?? 'rwm';
      if (!/^[rwm]{1,3}$/.test(access)) throw invalid(`invalid device mode: ${access}`);
      linux.devices!.push(toOciDevice(d));
      if (d.type === 'c' || d.type === 'b') rules.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access });
    }
    rules.push(...parseDeviceCgroupRules(input.deviceCgroupRules ?? []));
    linux.resources!.devices = rules;
  }

  // Seccomp (moby WithSeccomp): filtered on the bounding set, so it follows --cap-add.
  const seccomp = input.seccomp ?? 'default';
  if (!privileged && seccomp !== 'unconfined') {
    const ctx = { arch: input.arch ?? hostArch(), caps, ...(input.kernel !== undefined ? { kernel: input.kernel } : {}) };
    const filter = seccomp === 'default' ? defaultSeccomp(ctx) : toOciSeccomp(seccomp, ctx);
    if (filter) linux.seccomp = filter;
  }

  // Masked and read-only paths; a privileged container gets neither.
  if (!privileged) {
    linux.maskedPaths = [...(input.maskedPaths ?? DEFAULT_MASKED_PATHS)];
    linux.readonlyPaths = [...(input.readonlyPaths ?? DEFAULT_READONLY_PATHS)];
  }

  const { mounts, propagation } = buildMounts(input, ipc, privileged);
  const rootfsPropagation = input.rootfsPropagation ?? propagation;
  if (rootfsPropagation) linux.rootfsPropagation = rootfsPropagation;

  const spec: RuntimeSpec = {
    ociVersion: OCI_VERSION,
    process,
    root: { path: input.rootfs, readonly: input.readonlyRootfs === true },
    mounts,
    linux,
  };
  // compat: with the host's UTS namespace Docker leaves the hostname unset (runc would refuse to set it).
  if (uts.kind !== 'host') spec.hostname = input.hostname;
  if (input.annotations && Object.keys(input.annotations).length > 0) spec.annotations = { ...input.annotations };
  return spec;
}

/** PATH, HOSTNAME and (with a tty) TERM=xterm, then the container's env over them (Docker's CreateDaemonEnvironment). */
function containerEnv(input: SpecInput): string[] {
  const defaults = [`PATH=${DEFAULT_PATH_ENV}`, `HOSTNAME=${input.hostname}`];
  if (input.tty) defaults.push('TERM=xterm');
  return replaceOrAppendEnv(defaults, input.env ?? []);
}

/**
 * Docker's ReplaceOrAppendEnvValues: `K=V` replaces a default K or is appended; a bare `K` removes a
 * default K (and is otherwise dropped).
 */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const results: (string | undefined)[] = [...defaults];
  const index = new Map<string, number>();
  defaults.forEach((e, i) => index.set(keyOf(e), i));
  for (const value of overrides) {
    const i = index.get(keyOf(value));
    if (!value.includes('=')) {
      if (i !== undefined) results[i] = undefined;
      continue;
    }
    if (i !== undefined) results[i] = value;
    else results.push(value);
  }
  return results.filter((e): e is string => e !== undefined);
}

function keyOf(e: string): string {
  const i = e.indexOf('=');
  return i === -1 ? e : e.slice(0, i);
}

function namespaces(input: SpecInput): OciNamespace[] {
  const ns = input.namespaces ?? {};
  const out: OciNamespace[] = [{ type: 'mount' }];
  const add = (type: OciNamespace['type'], mode: NamespaceMode | IpcMode | undefined): void => {
    const m = mode ?? { kind: 'private' };
    if (m.kind === 'host') return;
    if (m.kind === 'path') {
      if (!m.path.startsWith('/')) throw invalid(`namespace path must be absolute: ${m.path}`);
      out.push({ type, path: m.path });
    } else {
      out.push({ type });
    }
  };
  // Docker's order: mount, network, uts, pid, ipc, then cgroup.
  add('network', ns.net);
  add('uts', ns.uts);
  add('pid', ns.pid);
  add('ipc', ns.ipc);
  if (ns.cgroup === 'private') out.push({ type: 'cgroup' });
  return out;
}

function sysctls(input: SpecInput, net: NamespaceMode, uts: NamespaceMode): Record<string, string> {
  const out: Record<string, string> = {};
  if (input.defaultNetSysctls ?? net.kind === 'private') {
    // compat: Docker lets unprivileged users ping and bind low ports inside a private netns.
    out['net.ipv4.ping_group_range'] = '0 2147483647';
    out['net.ipv4.ip_unprivileged_port_start'] = '0';
  }
  // There is no domainname field in runtime spec 1.0.2; the sysctl has the same effect as setdomainname(2).
  if (input.domainname && uts.kind !== 'host') out['kernel.domainname'] = input.domainname;
  for (const [k, v] of Object.entries(input.sysctls ?? {})) {
    if (net.kind === 'host' && k.startsWith('net.')) throw invalid(`sysctl ${JSON.stringify(k)} not allowed in host network namespace`);
    out[k] = v;
  }
  return out;
}

/** OCI `linux.resources` for Docker-style limits (also what `runc update` takes). */
export function toOciResources(r: SpecResources): OciResources {
  validateResources(r);
  const out: OciResources = {};

  const memory: OciMemory = {};
  if (r.memory && r.memory > 0) memory.limit = r.memory;
  if (r.memoryReservation && r.memoryReservation > 0) memory.reservation = r.memoryReservation;
  const swap = effectiveMemorySwap(r);
  // compat: Docker leaves swap unset for -1 (unlimited): a fresh cgroup is unlimited, and runc would fail
  // writing memsw on kernels without swap accounting.
  if (swap > 0) memory.swap = swap;
  if (r.memorySwappiness !== undefined && r.memorySwappiness >= 0) memory.swappiness = r.memorySwappiness;
  if (r.oomKillDisable !== undefined) memory.disableOOMKiller = r.oomKillDisable;
  if (r.kernelMemory) memory.kernel = r.kernelMemory;
  if (Object.keys(memory).length > 0) out.memory = memory;

  const cpu: OciCpu = {};
  if (r.cpuShares) cpu.shares = r.cpuShares;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (r.nanoCpus && r.nanoCpus > 0) {
    cpu.period = CPU_PERIOD_DEFAULT;
    cpu.quota = Math.trunc((r.nanoCpus * CPU_PERIOD_DEFAULT) / 1e9);
  }
  if (r.cpuPeriod) cpu.period = r.cpuPeriod;
  if (r.cpuQuota) cpu.quota = r.cpuQuota;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;

  if (r.pidsLimit !== undefined && r.pidsLimit !== null) out.pids = { limit: r.pidsLimit <= 0 ? -1 : r.pidsLimit };
  if (r.blkioWeight) out.blockIO = { weight: r.blkioWeight };
  return out;
}

/** The memory+swap limit Docker applies: 2 × memory when unset with a memory limit (adaptContainerSettings). */
export function effectiveMemorySwap(r: Pick<SpecResources, 'memory' | 'memorySwap'>): number {
  const memory = r.memory ?? 0;
  const swap = r.memorySwap ?? 0;
  return memory > 0 && swap === 0 ? memory * 2 : swap;
}

/**
 * Docker's checks on resources (verifyPlatformContainerResources), with its messages; the ones that need
 * host facts (available CPUs, cgroup support) are the caller's. Throws invalid-argument.
 */
export function validateResources(r: SpecResources): void {
  const memory = r.memory ?? 0;
  const swap = r.memorySwap ?? 0;
  const reservation = r.memoryReservation ?? 0;
  if (memory !== 0 && memory < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (r.memorySwappiness !== undefined && r.memorySwappiness !== -1 && (r.memorySwappiness < 0 || r.memorySwappiness > 100)) {
    throw invalid(`Invalid value: ${r.memorySwappiness}, valid memory swappiness range is 0-100`);
  }
  if (reservation > 0 && reservation < MIN_MEMORY) throw invalid('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) {
    throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  const nano = r.nanoCpus ?? 0;
  if (nano > 0 && (r.cpuPeriod ?? 0) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (r.cpuQuota ?? 0) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano < 0) throw invalid('range of CPUs is from 0.01 to the number of CPUs available');
  if ((r.cpuShares ?? 0) < 0) throw invalid(`invalid CPU shares (${r.cpuShares}): value must be a positive integer`);
  const period = r.cpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000)) {
    throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  const quota = r.cpuQuota ?? 0;
  if (quota > 0 && quota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  const weight = r.blkioWeight ?? 0;
  if (weight > 0 && (weight < 10 || weight > 1000)) throw invalid('Range of blkio weight is from 10 to 1000');
}

function validOomScoreAdj(v: number): number {
  if (!Number.isInteger(v) || v < -1000 || v > 1000) throw invalid(`Invalid value ${v}, range for oom score adj is [-1000, 1000]`);
  return v;
}

/**
 * Turns `--ulimit`s into rlimits, clamped to berthd's own hard limits: a process cannot raise its hard
 * limit without CAP_SYS_RESOURCE, so runc would fail (EPERM) on a larger one. Clamping lowers the hard
 * limit to the maximum and the soft limit to the new hard limit; -1 (unlimited) becomes the maximum.
 * `clamped` names the ulimits that were lowered, for a create-time warning. Throws invalid-argument
 * (go-units' messages) for an unknown name, soft > hard, or -1 with no known maximum.
 */
export function toRlimits(ulimits: readonly Ulimit[], max: Partial<Record<string, number>>): { rlimits: OciRlimit[]; clamped: string[] } {
  const rlimits: OciRlimit[] = [];
  const clamped: string[] = [];
  for (const u of ulimits) {
    const name = u.name.toLowerCase();
    if (!ULIMIT_NAMES.has(name)) throw invalid(`invalid ulimit type: ${u.name}`);
    const limit = max[name];
    const unlimited = (v: number): boolean => v === -1;
    if (!unlimited(u.soft) && !unlimited(u.hard) && u.soft > u.hard) {
      throw invalid(`ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
    }
    for (const v of [u.soft, u.hard]) {
      if (!Number.isInteger(v) || v < -1) throw invalid(`invalid ulimit value for ${name}: ${v}`);
    }
    let hard = u.hard;
    let soft = u.soft;
    if (limit === undefined) {
      if (unlimited(hard) || unlimited(soft)) throw invalid(`ulimit ${name}: unlimited (-1) needs berthd's own limit to be known`);
    } else {
      if (unlimited(hard) || hard > limit) hard = limit;
      if (unlimited(soft) || soft > hard) soft = hard;
      if (hard !== u.hard || soft !== u.soft) clamped.push(name);
    }
    rlimits.push({ type: `RLIMIT_${name.toUpperCase()}`, soft, hard });
  }
  return { rlimits, clamped };
}

/**
 * Parses `--device-cgroup-rule` values (`c 1:3 mr`, `a *:* rwm`) into allow rules, `*` becoming -1.
 * Throws invalid-argument `invalid device cgroup rule format: '<rule>'` (Docker's message).
 */
export function parseDeviceCgroupRules(rules: readonly string[]): OciDeviceCgroup[] {
  return rules.map((rule) => {
    const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(rule);
    if (!m) throw invalid(`invalid device cgroup rule format: '${rule}'`);
    const num = (s: string): number => (s === '*' ? -1 : Number(s));
    return { allow: true, type: m[1] as 'a' | 'c' | 'b', major: num(m[2]!), minor: num(m[3]!), access: m[4]! };
  });
}

function toOciDevice(d: SpecDevice): OciDevice {
  if (!d.path.startsWith('/')) throw invalid(`device path must be absolute: ${d.path}`);
  const out: OciDevice = { type: d.type, path: d.path, major: d.major, minor: d.minor };
  if (d.fileMode !== undefined) out.fileMode = d.fileMode;
  if (d.uid !== undefined) out.uid = d.uid;
  if (d.gid !== undefined) out.gid = d.gid;
  return out;
}

function depth(destination: string): number {
  return destination.split('/').filter((p) => p !== '' && p !== '.').length;
}

/** Docker's WithMounts: default mounts minus those the user replaced, then user mounts parents first. */
function buildMounts(input: SpecInput, ipc: IpcMode, privileged: boolean): { mounts: OciMount[]; propagation?: RootfsPropagation } {
  const user = [...(input.mounts ?? [])];
  for (const m of user) {
    if (!m.destination.startsWith('/')) throw invalid(`invalid mount path: '${m.destination}' mount path must be absolute`);
  }
  // Stable sort by path depth, so /a is mounted before /a/b.
  user.sort((a, b) => depth(a.destination) - depth(b.destination));
  const userDest = new Set(user.map((m) => normalizeDest(m.destination)));
  const devMounted = userDest.has('/dev');
  const shmSize = input.shmSize ?? DEFAULT_SHM_SIZE;
  if (shmSize < 0) throw invalid('SHM size can not be less than 0');

  const mounts: OciMount[] = [];
  for (const m of defaultMounts()) {
    if (userDest.has(m.destination)) continue;
    if (devMounted && m.destination.startsWith('/dev/')) continue;
    if (m.destination === '/dev/shm') {
      if (ipc.kind === 'none') continue;
      m.options = [...(m.options ?? []), `size=${shmSize || DEFAULT_SHM_SIZE}`];
    }
    mounts.push(m);
  }

  let propagation: RootfsPropagation | undefined;
  for (const m of user) {
    const opts = m.options;
    // compat: Docker makes the rootfs shared (or rslave) so that shared/slave propagation on a bind works.
    if (opts.includes('shared') || opts.includes('rshared')) propagation = 'shared';
    else if ((opts.includes('slave') || opts.includes('rslave')) && propagation !== 'shared') propagation = 'rslave';
    mounts.push({ destination: m.destination, type: m.type, source: m.source, options: [...opts] });
  }

  if (input.readonlyRootfs) {
    for (const m of mounts) {
      if (WRITABLE_WITH_RO_ROOTFS.has(m.destination) || userDest.has(normalizeDest(m.destination))) continue;
      if (!m.options?.includes('ro')) m.options = [...(m.options ?? []), 'ro'];
    }
  }
  if (privileged) {
    // compat: a privileged container gets a writable /sys and cgroup mount (moby clearReadOnly).
    for (const m of mounts) {
      if (m.destination === '/sys' || m.type === 'cgroup') m.options = (m.options ?? []).filter((o) => o !== 'ro');
    }
  }
  return propagation ? { mounts, propagation } : { mounts };
}

function normalizeDest(d: string): string {
  const parts = d.split('/').filter((p) => p !== '' && p !== '.');
  return `/${parts.join('/')}`;
}
