import { readFile } from 'node:fs/promises';
import { BerthError, isErrno } from '../common/index.ts';
import { mirrorString, parseMirror } from '../registry/index.ts';

/** Read when no `--config-file` is given; a missing file is fine (dockerd reads /etc/docker/daemon.json so). */
export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';

export interface DaemonConfig {
  /** unix socket path */
  host: string;
  dataRoot: string;
  execRoot: string;
  storageDriver: 'overlay2' | 'vfs' | '';
  runtime: 'runc' | 'crun' | '';
  cgroupParent: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Default bridge network: device (`-b`, `none` disables it), `--bip`, `--fixed-cidr`, `--mtu`, `--iptables`. */
  bridge: string;
  bip: string;
  fixedCidr: string;
  mtu: number;
  iptables: boolean;
  /** `--resolv-conf`: the host's resolver configuration (default /etc/resolv.conf): copied for default-bridge containers, the upstreams of the embedded DNS of user networks. */
  resolvConf: string;
  /** `--insecure-registry`: hosts (`host:port`) or CIDRs that may use plain http or unverified TLS (loopback always may). */
  insecureRegistries: string[];
  /** `--registry-mirror`: `URL` (Docker Hub's mirror) or `REGISTRY=URL`; pulls try these first. */
  registryMirrors: string[];
  /** `--add-registry` (the Red Hat docker flag): registries searched, in order, before docker.io for a short name. */
  addRegistries: string[];
  /** `--registry-chunk-size` (bytes): blobs larger than this are pushed in PATCH chunks of this size (0: the default, 64 MiB). */
  registryChunkSize: number;
  /** Per-registry TLS material, Docker's certs.d layout: `<dir>/<host:port>/ca.crt`, `client.cert`, `client.key`. */
  registryCertsDir: string;
}

export const DEFAULTS: DaemonConfig = {
  host: '/run/berth/berth.sock',
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  storageDriver: '',
  runtime: '',
  cgroupParent: '/berth',
  logLevel: 'info',
  bridge: 'berth0',
  bip: '',
  fixedCidr: '',
  mtu: 1500,
  iptables: true,
  resolvConf: '/etc/resolv.conf',
  insecureRegistries: [],
  registryMirrors: [],
  addRegistries: [],
  registryChunkSize: 0,
  registryCertsDir: '/etc/berth/certs.d',
};

/** Parse berthd's flags (Docker's names where they exist). */
export function parseArgs(argv: string[]): { config: DaemonConfig; configFile?: string; set: Set<keyof DaemonConfig> } {
  const c: DaemonConfig = { ...DEFAULTS, insecureRegistries: [], registryMirrors: [], addRegistries: [] };
  let configFile: string | undefined;
  const set = new Set<keyof DaemonConfig>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new BerthError('invalid-argument', `flag needs an argument: ${flag}`);
      return v;
    };
    switch (flag) {
      case '-H':
      case '--host':
        c.host = val().replace(/^unix:\/\//, '');
        set.add('host');
        break;
      case '--data-root':
        c.dataRoot = val();
        set.add('dataRoot');
        break;
      case '--exec-root':
        c.execRoot = val();
        set.add('execRoot');
        break;
      case '-s':
      case '--storage-driver':
        c.storageDriver = val() as DaemonConfig['storageDriver'];
        set.add('storageDriver');
        break;
      case '--runtime':
      case '--default-runtime':
        c.runtime = val() as DaemonConfig['runtime'];
        set.add('runtime');
        break;
      case '--cgroup-parent':
        c.cgroupParent = val();
        set.add('cgroupParent');
        break;
      case '-l':
      case '--log-level':
        c.logLevel = val() as DaemonConfig['logLevel'];
        set.add('logLevel');
        break;
      case '--insecure-registry':
        c.insecureRegistries.push(registryHost(val(), flag));
        set.add('insecureRegistries');
        break;
      case '--registry-mirror':
        c.registryMirrors.push(mirrorUrl(val()));
        set.add('registryMirrors');
        break;
      case '--add-registry':
        c.addRegistries.push(registryHost(val(), flag));
        set.add('addRegistries');
        break;
      case '--registry-chunk-size':
        c.registryChunkSize = Number(val());
        if (!Number.isSafeInteger(c.registryChunkSize) || c.registryChunkSize < 1) throw new BerthError('invalid-argument', `invalid --registry-chunk-size: ${inline ?? argv[i]}`);
        set.add('registryChunkSize');
        break;
      case '--registry-certs-dir':
        c.registryCertsDir = val();
        set.add('registryCertsDir');
        break;
      case '--config-file':
        configFile = val();
        break;
      case '-b':
      case '--bridge':
        c.bridge = val();
        set.add('bridge');
        break;
      case '--bip':
        c.bip = val();
        set.add('bip');
        break;
      case '--fixed-cidr':
        c.fixedCidr = val();
        set.add('fixedCidr');
        break;
      case '--mtu':
        c.mtu = Number(val());
        if (!Number.isInteger(c.mtu) || c.mtu < 68 || c.mtu > 65535) throw new BerthError('invalid-argument', `invalid --mtu: ${inline ?? argv[i]}`);
        set.add('mtu');
        break;
      case '--iptables':
        // a boolean flag: `--iptables`, `--iptables=false`
        if (inline !== undefined && !['true', 'false'].includes(inline)) throw new BerthError('invalid-argument', `invalid --iptables: ${inline}`);
        c.iptables = inline !== 'false';
        set.add('iptables');
        break;
      case '--resolv-conf':
        c.resolvConf = val();
        set.add('resolvConf');
        break;
      case '-D':
      case '--debug':
        c.logLevel = 'debug';
        set.add('logLevel');
        break;
      default:
        throw new BerthError('invalid-argument', `unknown flag: ${a}`);
    }
  }
  if (!['overlay2', 'vfs', ''].includes(c.storageDriver)) throw new BerthError('invalid-argument', `unknown storage driver: ${c.storageDriver}`);
  if (!['runc', 'crun', ''].includes(c.runtime)) throw new BerthError('invalid-argument', `unknown runtime: ${c.runtime}`);
  if (!c.cgroupParent.startsWith('/')) c.cgroupParent = `/${c.cgroupParent}`;
  return { config: c, configFile, set };
}

/** Settings from a daemon.json (flags win). With `optional`, a missing file gives no settings. */
export async function readConfigFile(path: string, optional = false): Promise<Partial<DaemonConfig>> {
  let j: unknown;
  try {
    j = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if (optional && isErrno(err, 'ENOENT')) return {};
    throw new BerthError('invalid-argument', `unable to configure the daemon with file ${path}: ${(err as Error).message}`);
  }
  if (typeof j !== 'object' || j === null) throw new BerthError('invalid-argument', `unable to configure the daemon with file ${path}: not an object`);
  const o = j as Record<string, unknown>;
  const out: Partial<DaemonConfig> = {};
  if (typeof o['data-root'] === 'string') out.dataRoot = o['data-root'];
  if (typeof o['exec-root'] === 'string') out.execRoot = o['exec-root'];
  if (typeof o['storage-driver'] === 'string') out.storageDriver = o['storage-driver'] as DaemonConfig['storageDriver'];
  if (typeof o['default-runtime'] === 'string') out.runtime = o['default-runtime'] as DaemonConfig['runtime'];
  if (typeof o['cgroup-parent'] === 'string') out.cgroupParent = o['cgroup-parent'];
  if (typeof o['log-level'] === 'string') out.logLevel = o['log-level'] as DaemonConfig['logLevel'];
  if (typeof o.bridge === 'string') out.bridge = o.bridge;
  if (typeof o.bip === 'string') out.bip = o.bip;
  if (typeof o['fixed-cidr'] === 'string') out.fixedCidr = o['fixed-cidr'];
  if (typeof o.mtu === 'number') out.mtu = o.mtu;
  if (typeof o.iptables === 'boolean') out.iptables = o.iptables;
  if (typeof o['resolv-conf'] === 'string') out.resolvConf = o['resolv-conf'];
  if (Array.isArray(o.hosts) && typeof o.hosts[0] === 'string') out.host = o.hosts[0].replace(/^unix:\/\//, '');
  const strings = (k: string): string[] | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new BerthError('invalid-argument', `unable to configure the daemon with file ${path}: ${k} must be a list of strings`);
    return v as string[];
  };
  const insecure = strings('insecure-registries');
  if (insecure) out.insecureRegistries = insecure.map((x) => registryHost(x, 'insecure-registries'));
  const mirrors = strings('registry-mirrors');
  if (mirrors) out.registryMirrors = mirrors.map(mirrorUrl);
  // compat: the Red Hat docker's name; `add-registries` is accepted too
  const add = strings('add-registry') ?? strings('add-registries');
  if (add) out.addRegistries = add.map((x) => registryHost(x, 'add-registry'));
  if (o['registry-chunk-size'] !== undefined) {
    const n = o['registry-chunk-size'];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new BerthError('invalid-argument', `unable to configure the daemon with file ${path}: registry-chunk-size must be a positive integer`);
    out.registryChunkSize = n;
  }
  if (typeof o['registry-certs-dir'] === 'string') out.registryCertsDir = o['registry-certs-dir'];
  return out;
}

/** An insecure-registry entry: `host[:port]` or a CIDR; a scheme is refused, as dockerd does. */
function registryHost(v: string, where: string): string {
  if (/^[a-z]+:\/\//i.test(v)) throw new BerthError('invalid-argument', `${where}: insecure registry ${v} should not contain '://'`);
  const h = v.replace(/\/+$/, '');
  if (!h || /\s/.test(h)) throw new BerthError('invalid-argument', `${where}: invalid registry ${JSON.stringify(v)}`);
  return h;
}

/** A mirror: an http(s) URL without a path (dockerd's rule), optionally `REGISTRY=` before it; normalised. */
function mirrorUrl(v: string): string {
  return mirrorString(parseMirror(v));
}
