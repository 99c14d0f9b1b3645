// The flags `run` and `create` share, and their translation into a create request body exactly
// as the docker CLI 28 builds it (docker/cli cli/command/container/opts.go).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { ContainerCreateRequest, DeviceMapping, EndpointSettings, HealthConfig, HostConfig, Mount, PortBinding, Ulimit } from '../api/index.ts';
import { UsageError } from './errors.ts';
import { keyValueMap, listOption, memSwapBytes, nanoCpus, parseGoDuration, parseGoInt, ramInBytes, valueOption } from './opts.ts';

/** Parsed flags of run/create as commander stores them (camelCase of the long names). */
export interface RunFlags {
  detach?: boolean;
  rm?: boolean;
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  domainname?: string;
  label: string[];
  labelFile: string[];
  restart?: string;
  init?: boolean;
  readOnly?: boolean;
  tmpfs: string[];
  capAdd: string[];
  capDrop: string[];
  privileged?: boolean;
  securityOpt: string[];
  ulimit: Ulimit[];
  stopSignal?: string;
  stopTimeout?: number;
  cidfile?: string;
  volume: string[];
  mount: Mount[];
  volumesFrom: string[];
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  memorySwappiness?: number;
  cpus?: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  shmSize?: number;
  oomKillDisable?: boolean;
  oomScoreAdj?: number;
  network: string[];
  net: string[];
  networkAlias: string[];
  netAlias: string[];
  ip?: string;
  ip6?: string;
  macAddress?: string;
  linkLocalIp: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  addHost: string[];
  publish: string[];
  publishAll?: boolean;
  expose: string[];
  link: string[];
  interactive?: boolean;
  tty?: boolean;
  attach: string[];
  sigProxy: boolean;
  detachKeys?: string;
  device: string[];
  groupAdd: string[];
  sysctl: string[];
  logDriver?: string;
  logOpt: string[];
  platform?: string;
  pull: string;
  ipc?: string;
  pid?: string;
  uts?: string;
  userns?: string;
  cgroupns?: string;
  cgroupParent?: string;
  runtime?: string;
  volumeDriver?: string;
  quiet?: boolean;
  healthCmd?: string;
  /** Durations in nanoseconds. */
  healthInterval?: number;
  healthTimeout?: number;
  healthStartPeriod?: number;
  healthStartInterval?: number;
  healthRetries?: number;
  /** false with --no-healthcheck. */
  healthcheck?: boolean;
}

/** Adds the run/create flags to `cmd` (run adds -d, --rm is shared). */
export function addContainerFlags(cmd: Command): Command {
  cmd
    .option('--name <string>', 'Assign a name to the container')
    .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('--pull <string>', 'Pull image before running ("always", "missing", "never")', 'missing')
    .option('-q, --quiet', 'Suppress the pull output')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-h, --hostname <string>', 'Container host name')
    .option('--domainname <string>', 'Container NIS domain name')
    .option('--restart <string>', 'Restart policy to apply when a container exits', 'no')
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--privileged', 'Give extended privileges to this container')
    .option('--stop-signal <string>', 'Signal to stop the container')
    .option('--cidfile <string>', 'Write the container ID to the file')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--oom-kill-disable', 'Disable OOM Killer')
    .option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--ip6 <string>', 'IPv6 address (e.g., 2001:db8::33)')
    .option('--mac-address <string>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)')
    .option('-P, --publish-all', 'Publish all exposed ports to random ports')
    .option('--sig-proxy', 'Proxy received signals to the process', true)
    .option('--no-sig-proxy', 'Do not proxy received signals to the process')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('--log-driver <string>', 'Logging driver for the container')
    .option('--ipc <string>', 'IPC mode to use')
    .option('--pid <string>', 'PID namespace to use')
    .option('--uts <string>', 'UTS namespace to use')
    .option('--userns <string>', 'User namespace to use')
    .option('--cgroupns <string>', 'Cgroup namespace to use (host|private)')
    .option('--cgroup-parent <string>', 'Optional parent cgroup for the container')
    .option('--runtime <string>', 'Runtime to use for this container')
    .option('--volume-driver <string>', 'Optional volume driver for the container')
    .option('--health-cmd <string>', 'Command to run to check health')
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK');
  listOption(cmd, '-a, --attach <list>', 'Attach to STDIN, STDOUT or STDERR', validateAttach);
  listOption(cmd, '-e, --env <list>', 'Set environment variables');
  listOption(cmd, '--env-file <list>', 'Read in a file of environment variables');
  listOption(cmd, '-l, --label <list>', 'Set meta data on a container');
  listOption(cmd, '--label-file <list>', 'Read in a line delimited file of labels');
  listOption(cmd, '--tmpfs <list>', 'Mount a tmpfs directory');
  listOption(cmd, '--cap-add <list>', 'Add Linux capabilities');
  listOption(cmd, '--cap-drop <list>', 'Drop Linux capabilities');
  listOption(cmd, '--security-opt <list>', 'Security Options');
  listOption(cmd, '-v, --volume <list>', 'Bind mount a volume');
  listOption(cmd, '--volumes-from <list>', 'Mount volumes from the specified container(s)');
  listOption(cmd, '--dns <list>', 'Set custom DNS servers');
  listOption(cmd, '--dns-search <list>', 'Set custom DNS search domains');
  listOption(cmd, '--dns-option <list>', 'Set DNS options');
  listOption(cmd, '--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)', validateExtraHost);
  listOption(cmd, '-p, --publish <list>', "Publish a container's port(s) to the host");
  listOption(cmd, '--expose <list>', 'Expose a port or a range of ports');
  listOption(cmd, '--link <list>', 'Add link to another container');
  listOption(cmd, '--network <network>', 'Connect a container to a network');
  listOption(cmd, '--net <network>', 'Connect a container to a network');
  listOption(cmd, '--network-alias <list>', 'Add network-scoped alias for the container');
  listOption(cmd, '--net-alias <list>', 'Add network-scoped alias for the container');
  listOption(cmd, '--link-local-ip <list>', 'Container IPv4/IPv6 link-local addresses');
  listOption(cmd, '--device <list>', 'Add a host device to the container');
  listOption(cmd, '--group-add <list>', 'Add additional groups to join');
  listOption(cmd, '--sysctl <map>', 'Sysctl options', validateKeyValue);
  listOption(cmd, '--log-opt <list>', 'Log driver options', validateKeyValue);
  const ulimits = (value: string, prev: Ulimit[]): Ulimit[] => [...prev, parseUlimitFlag(value)];
  cmd.option('--ulimit <ulimit>', 'Ulimit options', ulimits, [] as Ulimit[]);
  const mounts = (value: string, prev: Mount[]): Mount[] => [...prev, parseMountFlag(value)];
  cmd.option('--mount <mount>', 'Attach a filesystem mount to the container', mounts, [] as Mount[]);
  valueOption(cmd, '--stop-timeout <int>', 'Timeout (in seconds) to stop a container', parseGoInt);
  valueOption(cmd, '-m, --memory <bytes>', 'Memory limit', ramInBytes);
  valueOption(cmd, '--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", memSwapBytes);
  valueOption(cmd, '--memory-reservation <bytes>', 'Memory soft limit', ramInBytes);
  valueOption(cmd, '--memory-swappiness <int>', 'Tune container memory swappiness (0 to 100)', parseGoInt);
  valueOption(cmd, '--cpus <decimal>', 'Number of CPUs', nanoCpus);
  valueOption(cmd, '-c, --cpu-shares <int>', 'CPU shares (relative weight)', parseGoInt);
  valueOption(cmd, '--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota', parseGoInt);
  valueOption(cmd, '--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period', parseGoInt);
  valueOption(cmd, '--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)', parseGoInt);
  valueOption(cmd, '--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable', parseUint16);
  valueOption(cmd, '--shm-size <bytes>', 'Size of /dev/shm', ramInBytes);
  valueOption(cmd, '--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)", parseGoInt);
  valueOption(cmd, '--health-interval <duration>', 'Time between running the check (ms|s|m|h) (default 0s)', parseGoDuration);
  valueOption(cmd, '--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)', parseGoDuration);
  valueOption(cmd, '--health-start-period <duration>', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)', parseGoDuration);
  valueOption(cmd, '--health-start-interval <duration>', 'Time between running the check during the start period (ms|s|m|h) (default 0s)', parseGoDuration);
  valueOption(cmd, '--health-retries <int>', 'Consecutive failures needed to report unhealthy', parseGoInt);
  return cmd;
}

function parseUint16(v: string): number {
  if (!/^\+?\d+$/.test(v) || Number(v) > 65535) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

function validateAttach(v: string): string {
  const s = v.toLowerCase();
  if (s !== 'stdin' && s !== 'stdout' && s !== 'stderr') throw new Error('valid streams are STDIN, STDOUT and STDERR');
  return s;
}

function validateKeyValue(v: string): string {
  if (!v.includes('=')) throw new Error(`invalid key/value pair format: ${v}`);
  return v;
}

function validateExtraHost(v: string): string {
  // compat: docker 25+ accepts host=ip besides host:ip and sends host:ip.
  let i = v.indexOf('=');
  if (i < 0) i = v.indexOf(':');
  if (i <= 0 || i === v.length - 1) throw new Error(`bad format for add-host: ${JSON.stringify(v)}`);
  return `${v.slice(0, i)}:${v.slice(i + 1)}`;
}

const ULIMIT_NAMES = new Set([
  'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack',
]);

/** go-units ParseUlimit: `name=soft[:hard]`. */
export function parseUlimitFlag(value: string): Ulimit {
  const i = value.indexOf('=');
  if (i < 0) throw new UsageError(`invalid argument ${JSON.stringify(value)} for "--ulimit" flag: invalid ulimit argument: ${value}`);
  const name = value.slice(0, i);
  if (!ULIMIT_NAMES.has(name)) throw new UsageError(`invalid argument ${JSON.stringify(value)} for "--ulimit" flag: invalid ulimit type: ${name}`);
  const [softS = '', hardS, extra] = value.slice(i + 1).split(':');
  if (extra !== undefined) throw new UsageError(`invalid argument ${JSON.stringify(value)} for "--ulimit" flag: too many limit value arguments - ${value.slice(i + 1)}, can only have up to two, \`soft[:hard]\``);
  const num = (s: string): number => {
    if (!/^-?\d+$/.test(s)) throw new UsageError(`invalid argument ${JSON.stringify(value)} for "--ulimit" flag: strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
    return Number(s);
  };
  const soft = num(softS);
  const hard = hardS === undefined ? soft : num(hardS);
  if (soft > hard) throw new UsageError(`invalid argument ${JSON.stringify(value)} for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Hard: hard, Soft: soft };
}

/** docker/cli opts.MountOpt: `type=bind,source=/x,target=/y,readonly`. */
export function parseMountFlag(value: string): Mount {
  const fail = (msg: string): never => {
    throw new UsageError(`invalid argument ${JSON.stringify(value)} for "--mount" flag: ${msg}`);
  };
  const m: Mount = {};
  let type: string | undefined;
  const bind: NonNullable<Mount['BindOptions']> = {};
  const vol: NonNullable<Mount['VolumeOptions']> = {};
  const tmpfs: NonNullable<Mount['TmpfsOptions']> = {};
  const bool = (key: string, v: string | undefined): boolean => {
    if (v === undefined) return true;
    const s = v.toLowerCase();
    if (['1', 't', 'true'].includes(s)) return true;
    if (['0', 'f', 'false'].includes(s)) return false;
    return fail(`invalid value for ${key}: ${v}`);
  };
  for (const field of value.split(',')) {
    if (!field) continue;
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase().trim();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    if (val === undefined && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive'].includes(key)) fail(`invalid field '${field}' must be a key=value pair`);
    switch (key) {
      case 'type':
        type = val;
        break;
      case 'source':
      case 'src':
        m.Source = val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = val;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = bool(key, val);
        break;
      case 'consistency':
        m.Consistency = val;
        break;
      case 'bind-propagation':
        bind.Propagation = val as NonNullable<Mount['BindOptions']>['Propagation'];
        break;
      case 'bind-nonrecursive':
        bind.NonRecursive = bool(key, val);
        break;
      case 'bind-create-mountpoint':
        bind.CreateMountpoint = bool(key, val);
        break;
      case 'volume-nocopy':
        vol.NoCopy = bool(key, val);
        break;
      case 'volume-subpath':
        vol.Subpath = val;
        break;
      case 'volume-label': {
        const [k = '', v = ''] = (val ?? '').split(/=(.*)/s);
        vol.Labels = { ...vol.Labels, [k]: v };
        break;
      }
      case 'volume-driver':
        vol.DriverConfig = { ...vol.DriverConfig, Name: val };
        break;
      case 'volume-opt': {
        const [k = '', v = ''] = (val ?? '').split(/=(.*)/s);
        vol.DriverConfig = { ...vol.DriverConfig, Options: { ...vol.DriverConfig?.Options, [k]: v } };
        break;
      }
      case 'tmpfs-size':
        try {
          tmpfs.SizeBytes = ramInBytes(val ?? '');
        } catch (err) {
          fail(`invalid value for ${key}: ${val}: ${(err as Error).message}`);
        }
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(val ?? '')) fail(`invalid value for ${key}: ${val}`);
        tmpfs.Mode = parseInt(val ?? '0', 8);
        break;
      default:
        fail(`unexpected key '${key}' in '${field}'`);
    }
  }
  const out: Mount = { Type: (type ?? 'volume') as Mount['Type'] };
  if (m.Source !== undefined) out.Source = m.Source;
  if (m.Target !== undefined) out.Target = m.Target;
  if (m.ReadOnly) out.ReadOnly = true;
  if (m.Consistency) out.Consistency = m.Consistency;
  if (!out.Target) fail('target is required');
  if (Object.keys(bind).length) {
    if (out.Type !== 'bind') fail(`cannot mix 'bind-*' options with mount type '${out.Type}'`);
    out.BindOptions = bind;
  }
  if (Object.keys(vol).length) {
    if (out.Type !== 'volume') fail(`cannot mix 'volume-*' options with mount type '${out.Type}'`);
    out.VolumeOptions = vol;
  }
  if (Object.keys(tmpfs).length) {
    if (out.Type !== 'tmpfs') fail(`cannot mix 'tmpfs-*' options with mount type '${out.Type}'`);
    out.TmpfsOptions = tmpfs;
  }
  return out;
}

/** go-connections nat.ParsePortSpec: `[ip:[hostPort]:]containerPort[/proto]`, ranges allowed. */
export function parsePortSpec(spec: string): { port: string; binding: PortBinding }[] {
  let rawIP = '';
  let hostPort = '';
  let containerPort: string;
  let proto = 'tcp';
  let rest = spec;
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    proto = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new UsageError(`invalid proto: ${proto}`);
  }
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    rawIP = rest.slice(1, end);
    rest = rest.slice(end + 1).replace(/^:/, '');
    const parts = rest.split(':');
    if (parts.length === 1) containerPort = parts[0] ?? '';
    else [hostPort = '', containerPort = ''] = parts;
  } else {
    const parts = rest.split(':');
    if (parts.length === 1) containerPort = parts[0] ?? '';
    else if (parts.length === 2) [hostPort = '', containerPort = ''] = parts;
    else if (parts.length === 3) [rawIP = '', hostPort = '', containerPort = ''] = parts;
    else {
      // IPv6 without brackets: everything before the last two fields.
      containerPort = parts.pop() ?? '';
      hostPort = parts.pop() ?? '';
      rawIP = parts.join(':');
    }
  }
  if (!containerPort) throw new UsageError(`no port specified: ${spec}<empty>`);
  const range = (s: string, what: string): [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(s);
    if (!m) throw new UsageError(`invalid ${what}: ${s}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b > 65535) throw new UsageError(`invalid ${what}: ${s}`);
    return [a, b];
  };
  const [cStart, cEnd] = range(containerPort, 'containerPort');
  let hStart = 0;
  let hEnd = 0;
  if (hostPort) [hStart, hEnd] = range(hostPort, 'hostPort');
  if (hostPort && hEnd - hStart !== cEnd - cStart && hEnd !== hStart) {
    if (cEnd !== cStart) throw new UsageError(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  }
  const out: { port: string; binding: PortBinding }[] = [];
  for (let i = 0; i <= cEnd - cStart; i++) {
    let hp = '';
    if (hostPort) {
      if (cEnd === cStart && hEnd !== hStart) hp = `${hStart}-${hEnd}`;
      else hp = String(hStart + i);
    }
    out.push({ port: `${cStart + i}/${proto}`, binding: { HostIp: rawIP, HostPort: hp } });
  }
  return out;
}

function parseExpose(spec: string): string[] {
  const slash = spec.lastIndexOf('/');
  const proto = slash >= 0 ? spec.slice(slash + 1) : 'tcp';
  const ports = slash >= 0 ? spec.slice(0, slash) : spec;
  const m = /^(\d+)(?:-(\d+))?$/.exec(ports);
  if (!m) throw new UsageError(`invalid range format for --expose: ${spec}, error: invalid port`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  const out: string[] = [];
  for (let p = a; p <= b; p++) out.push(`${p}/${proto}`);
  return out;
}

/** docker/cli parseDevice: `src[:dst][:perms]`, perms default `rwm`. */
function parseDevice(spec: string): DeviceMapping {
  const parts = spec.split(':');
  const isPerm = (s: string | undefined): boolean => !!s && /^[rwm]{1,3}$/.test(s);
  let src = parts[0] ?? '';
  let dst = '';
  let perms = 'rwm';
  if (parts.length === 3) {
    dst = parts[1] ?? '';
    if (!isPerm(parts[2])) throw new UsageError(`bad mode specified: ${parts[2]}`);
    perms = parts[2] ?? 'rwm';
  } else if (parts.length === 2) {
    if (isPerm(parts[1])) perms = parts[1] ?? 'rwm';
    else dst = parts[1] ?? '';
  } else if (parts.length !== 1) {
    throw new UsageError(`invalid device specification: ${spec}`);
  }
  if (!dst) dst = src;
  src = src || dst;
  return { PathOnHost: src, PathInContainer: dst, CgroupPermissions: perms };
}

/** Reads an env or label file: one entry a line, `#` comments and blank lines skipped. */
export function readKeyValueFile(file: string, env: NodeJS.ProcessEnv, isEnv: boolean): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  const out: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0 && isEnv) {
      const name = line.trim();
      const v = env[name];
      if (v !== undefined) out.push(`${name}=${v}`);
      else out.push(name);
    } else out.push(line);
  }
  return out;
}

/** `-e NAME` takes NAME's value from the CLI's environment when set there (docker's ValidateEnv). */
export function expandEnv(value: string, env: NodeJS.ProcessEnv): string {
  if (value.includes('=')) return value;
  const v = env[value];
  return v === undefined ? value : `${value}=${v}`;
}

function normalizeCap(c: string): string {
  const up = c.toUpperCase();
  if (up === 'ALL') return 'ALL';
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/** The healthcheck flags → Config.Healthcheck, with docker/cli's checks; undefined when none was given. */
export function healthConfigFrom(flags: RunFlags): HealthConfig | undefined {
  const interval = flags.healthInterval ?? 0;
  const timeout = flags.healthTimeout ?? 0;
  const startPeriod = flags.healthStartPeriod ?? 0;
  const startInterval = flags.healthStartInterval ?? 0;
  const retries = flags.healthRetries ?? 0;
  const any = !!flags.healthCmd || interval !== 0 || timeout !== 0 || startPeriod !== 0 || retries !== 0 || startInterval !== 0;
  if (flags.healthcheck === false) {
    if (any) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  if (interval < 0) throw new UsageError('--health-interval cannot be negative');
  if (timeout < 0) throw new UsageError('--health-timeout cannot be negative');
  if (retries < 0) throw new UsageError('--health-retries cannot be negative');
  if (startPeriod < 0) throw new UsageError('--health-start-period cannot be negative');
  if (startInterval < 0) throw new UsageError('--health-start-interval cannot be negative');
  // compat: Go's omitempty drops the zero fields
  return {
    ...(flags.healthCmd ? { Test: ['CMD-SHELL', flags.healthCmd] } : {}),
    ...(interval ? { Interval: interval } : {}), ...(timeout ? { Timeout: timeout } : {}),
    ...(startPeriod ? { StartPeriod: startPeriod } : {}), ...(startInterval ? { StartInterval: startInterval } : {}),
    ...(retries ? { Retries: retries } : {}),
  };
}

/** docker/cli ParseRestartPolicy. */
export function parseRestartPolicy(value: string): { Name: NonNullable<HostConfig['RestartPolicy']>['Name']; MaximumRetryCount: number } {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  const count = colon < 0 ? '' : value.slice(colon + 1);
  if (colon === 0) throw new UsageError('invalid restart policy format: no policy provided before colon');
  let max = 0;
  if (count) {
    if (!/^[+-]?\d+$/.test(count)) throw new UsageError('invalid restart policy format: maximum retry count must be an integer');
    max = Number(count);
  }
  return { Name: name as NonNullable<HostConfig['RestartPolicy']>['Name'], MaximumRetryCount: max };
}

export interface CreatePlan {
  body: ContainerCreateRequest;
  name?: string;
  platform?: string;
  pull: 'always' | 'missing' | 'never';
}

/**
 * Builds the create request as docker CLI 28 does for the same flags: all fields it always sends,
 * zero values included, so a daemon sees the same body from `docker run` and `berth run`.
 */
export function buildCreateRequest(
  flags: RunFlags,
  image: string,
  command: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; detach?: boolean } = {},
): CreatePlan {
  const env = opts.env ?? process.env;
  const detach = !!(opts.detach ?? flags.detach);
  if (flags.rm && flags.restart && flags.restart !== 'no') throw new UsageError('conflicting options: cannot specify both --restart and --rm');
  const pull = flags.pull ?? 'missing';
  if (pull !== 'always' && pull !== 'missing' && pull !== 'never') throw new UsageError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);

  // Attach: foreground runs attach stdout and stderr (and stdin with -i) unless -a names streams.
  let attachStdin = false;
  let attachStdout = false;
  let attachStderr = false;
  if (flags.attach.length) {
    if (detach) throw new UsageError('conflicting options: cannot specify both --attach and --detach');
    attachStdin = flags.attach.includes('stdin');
    attachStdout = flags.attach.includes('stdout');
    attachStderr = flags.attach.includes('stderr');
  } else if (!detach) {
    attachStdout = true;
    attachStderr = true;
    if (flags.interactive) attachStdin = true;
  }

  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const spec of flags.publish) {
    for (const { port, binding } of parsePortSpec(spec)) {
      exposed[port] = {};
      (bindings[port] ??= []).push(binding);
    }
  }
  for (const e of flags.expose) for (const p of parseExpose(e)) exposed[p] = {};

  const envList = [
    ...flags.envFile.flatMap((f) => readKeyValueFile(f, env, true)),
    ...flags.env.map((e) => expandEnv(e, env)),
  ];
  const labels = keyValueMap([...flags.labelFile.flatMap((f) => readKeyValueFile(f, env, false)), ...flags.label]);

  const volumes: Record<string, Record<string, never>> = {};
  const binds: string[] = [];
  for (const v of flags.volume) {
    const parts = splitVolume(v);
    if (parts.length === 1) {
      volumes[v] = {};
      continue;
    }
    let host = parts[0] ?? '';
    if (host.startsWith('.')) host = path.resolve(opts.cwd ?? process.cwd(), host);
    binds.push([host, ...parts.slice(1)].join(':'));
  }

  const tmpfs: Record<string, string> = {};
  for (const t of flags.tmpfs) {
    const i = t.indexOf(':');
    if (i < 0) tmpfs[t] = '';
    else tmpfs[t.slice(0, i)] = t.slice(i + 1);
  }

  let entrypoint: string[] | null = null;
  if (flags.entrypoint !== undefined) entrypoint = [flags.entrypoint];

  const securityOpt = flags.securityOpt.map((o) => loadSeccomp(o));
  const restart = parseRestartPolicy(flags.restart ?? 'no');
  const healthcheck = healthConfigFrom(flags);
  const { mode: network, endpoints } = networkEndpoints(flags);
  const logConfig = { Type: flags.logDriver ?? '', Config: keyValueMap(flags.logOpt) };

  const hostConfig: HostConfig = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: flags.cidfile ?? '',
    LogConfig: logConfig,
    NetworkMode: network,
    PortBindings: bindings,
    RestartPolicy: restart,
    AutoRemove: !!flags.rm,
    VolumeDriver: flags.volumeDriver ?? '',
    VolumesFrom: flags.volumesFrom.length ? flags.volumesFrom : null,
    ConsoleSize: [0, 0],
    CapAdd: flags.capAdd.length ? flags.capAdd.map(normalizeCap) : null,
    CapDrop: flags.capDrop.length ? flags.capDrop.map(normalizeCap) : null,
    CgroupnsMode: (flags.cgroupns ?? '') as HostConfig['CgroupnsMode'],
    Dns: flags.dns,
    DnsOptions: flags.dnsOption,
    DnsSearch: flags.dnsSearch,
    ExtraHosts: flags.addHost.length ? flags.addHost : null,
    GroupAdd: flags.groupAdd.length ? flags.groupAdd : null,
    IpcMode: flags.ipc ?? '',
    Cgroup: '',
    Links: flags.link.length ? flags.link : null,
    OomScoreAdj: flags.oomScoreAdj ?? 0,
    PidMode: flags.pid ?? '',
    Privileged: !!flags.privileged,
    PublishAllPorts: !!flags.publishAll,
    ReadonlyRootfs: !!flags.readOnly,
    SecurityOpt: securityOpt.length ? securityOpt : null,
    ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
    UTSMode: flags.uts ?? '',
    UsernsMode: flags.userns ?? '',
    ShmSize: flags.shmSize ?? 0,
    ...(flags.sysctl.length ? { Sysctls: keyValueMap(flags.sysctl) } : {}),
    ...(flags.runtime ? { Runtime: flags.runtime } : {}),
    Isolation: '',
    CpuShares: flags.cpuShares ?? 0,
    Memory: flags.memory ?? 0,
    NanoCpus: flags.cpus ?? 0,
    CgroupParent: flags.cgroupParent ?? '',
    BlkioWeight: flags.blkioWeight ?? 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: flags.cpuPeriod ?? 0,
    CpuQuota: flags.cpuQuota ?? 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: flags.cpusetCpus ?? '',
    CpusetMems: flags.cpusetMems ?? '',
    Devices: flags.device.map(parseDevice),
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: flags.memoryReservation ?? 0,
    MemorySwap: flags.memorySwap ?? 0,
    MemorySwappiness: flags.memorySwappiness ?? -1,
    OomKillDisable: !!flags.oomKillDisable,
    PidsLimit: flags.pidsLimit ?? 0,
    Ulimits: flags.ulimit,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    ...(flags.mount.length ? { Mounts: flags.mount } : {}),
    MaskedPaths: null,
    ReadonlyPaths: null,
    ...(flags.init ? { Init: true } : {}),
  };

  const body: ContainerCreateRequest = {
    Hostname: flags.hostname ?? '',
    Domainname: flags.domainname ?? '',
    User: flags.user ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    Tty: !!flags.tty,
    OpenStdin: !!flags.interactive,
    StdinOnce: !!flags.interactive && attachStdin,
    Env: envList.length ? envList : null,
    Cmd: command.length ? command : null,
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    Image: image,
    Volumes: volumes,
    WorkingDir: flags.workdir ?? '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: labels,
    ...(flags.stopSignal ? { StopSignal: flags.stopSignal } : {}),
    ...(flags.stopTimeout !== undefined ? { StopTimeout: flags.stopTimeout } : {}),
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  return { body, name: flags.name, platform: flags.platform, pull };
}

/** One `--network` value: a name, or docker's advanced `name=n,alias=a,ip=…,mac-address=…` form. */
interface NetworkAttachment {
  target: string;
  aliases: string[];
  ip: string;
  ip6: string;
  mac: string;
  linkLocalIps: string[];
  driverOpts: Record<string, string>;
}

function parseNetworkOpt(v: string): NetworkAttachment {
  const n: NetworkAttachment = { target: v, aliases: [], ip: '', ip6: '', mac: '', linkLocalIps: [], driverOpts: {} };
  if (!v.includes('=')) return n;
  n.target = '';
  for (const field of v.split(',')) {
    const i = field.indexOf('=');
    const key = (i < 0 ? field : field.slice(0, i)).toLowerCase();
    const val = i < 0 ? '' : field.slice(i + 1);
    if (i < 0) throw new UsageError(`invalid argument ${JSON.stringify(v)} for "--network" flag: invalid field '${field}' must be a key=value pair`);
    if (key === 'name') n.target = val;
    else if (key === 'alias') n.aliases.push(val);
    else if (key === 'ip') n.ip = val;
    else if (key === 'ip6') n.ip6 = val;
    else if (key === 'mac-address') n.mac = val;
    else if (key === 'link-local-ip') n.linkLocalIps.push(val);
    else if (key === 'driver-opt') {
      const j = val.indexOf('=');
      n.driverOpts[j < 0 ? val : val.slice(0, j)] = j < 0 ? '' : val.slice(j + 1);
    } else throw new UsageError(`invalid argument ${JSON.stringify(v)} for "--network" flag: invalid field key ${key}`);
  }
  return n;
}

const isUserDefined = (mode: string): boolean => !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');

/**
 * HostConfig.NetworkMode and NetworkingConfig.EndpointsConfig as the docker CLI 28 builds them
 * (parseNetworkOpts): --network-alias, --ip, --ip6, --mac-address and --link-local-ip go to the
 * first network; a single network without options sends no endpoint.
 */
export function networkEndpoints(flags: RunFlags): { mode: string; endpoints: Record<string, EndpointSettings> } {
  const given = [...(flags.network ?? []), ...(flags.net ?? [])].map(parseNetworkOpt);
  const implicit = !given.length;
  if (implicit) given.push(parseNetworkOpt('default'));
  const aliases = [...(flags.networkAlias ?? []), ...(flags.netAlias ?? [])];
  const first = given[0]!;
  if (first.aliases.length && aliases.length) throw new UsageError('conflicting options: cannot specify both --network-alias and per-network alias');
  if (first.ip && flags.ip) throw new UsageError('conflicting options: cannot specify both --ip and per-network IPv4 address');
  if (first.ip6 && flags.ip6) throw new UsageError('conflicting options: cannot specify both --ip6 and per-network IPv6 address');
  if (first.mac && flags.macAddress) throw new UsageError('conflicting options: cannot specify both --mac-address and per-network MAC address');
  if (aliases.length && !isUserDefined(first.target)) throw new UsageError('network-scoped aliases are only supported for user-defined networks');
  if (flags.macAddress && !/^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(flags.macAddress)) throw new UsageError(`${flags.macAddress} is not a valid mac address`);
  if (aliases.length) first.aliases = aliases;
  if (flags.ip) first.ip = flags.ip;
  if (flags.ip6) first.ip6 = flags.ip6;
  if (flags.macAddress) first.mac = flags.macAddress;
  if (flags.linkLocalIp?.length) first.linkLocalIps = [...flags.linkLocalIp];
  const endpoints: Record<string, EndpointSettings> = {};
  let user = false;
  let nonUser = false;
  for (const [i, n] of given.entries()) {
    if (isUserDefined(n.target)) user = true;
    else nonUser = true;
    if (endpoints[n.target]) throw new UsageError(`network ${JSON.stringify(n.target)} is specified multiple times`);
    const links = i === 0 && isUserDefined(n.target) && flags.link.length ? [...flags.link] : null;
    const empty = !n.aliases.length && !n.ip && !n.ip6 && !n.mac && !n.linkLocalIps.length && !Object.keys(n.driverOpts).length && !links;
    // compat: the CLI omits the zero-valued endpoint of a lone network (berth omits the implicit default's too)
    if (empty && given.length === 1) continue;
    endpoints[n.target] = {
      IPAMConfig: n.ip || n.ip6 || n.linkLocalIps.length ? { IPv4Address: n.ip, IPv6Address: n.ip6, ...(n.linkLocalIps.length ? { LinkLocalIPs: n.linkLocalIps } : {}) } : null,
      Links: links, Aliases: n.aliases.length ? n.aliases : null, MacAddress: n.mac,
      DriverOpts: Object.keys(n.driverOpts).length ? n.driverOpts : null,
      NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
    };
  }
  if (user && nonUser) throw new UsageError('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return { mode: implicit ? 'default' : first.target, endpoints };
}

/** Splits `-v` on colons, keeping Windows-free unix semantics: `src:dst[:mode]`. */
function splitVolume(v: string): string[] {
  return v.split(':');
}

/** `--security-opt seccomp=<file>` sends the profile's JSON, compacted, as the docker CLI does. */
function loadSeccomp(opt: string): string {
  const m = /^seccomp[=:](.*)$/s.exec(opt);
  if (!m || m[1] === 'unconfined' || m[1] === 'builtin') return opt;
  const file = m[1] ?? '';
  try {
    return `seccomp=${JSON.stringify(JSON.parse(readFileSync(file, 'utf8')))}`;
  } catch (err) {
    throw new UsageError(`opening seccomp profile (${file}) failed: ${(err as Error).message}`);
  }
}
