import { readFile } from 'node:fs/promises';
import { BerthError } from '../common/index.ts';

export interface DaemonConfig {
  /** unix socket path */
  host: string;
  dataRoot: string;
  execRoot: string;
  storageDriver: 'overlay2' | 'vfs' | '';
  runtime: 'runc' | 'crun' | '';
  cgroupParent: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export const DEFAULTS: DaemonConfig = {
  host: '/run/berth/berth.sock',
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  storageDriver: '',
  runtime: '',
  cgroupParent: '/berth',
  logLevel: 'info',
};

/** Parse berthd's flags (Docker's names where they exist). */
export function parseArgs(argv: string[]): { config: DaemonConfig; configFile?: string; set: Set<keyof DaemonConfig> } {
  const c: DaemonConfig = { ...DEFAULTS };
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
      case '--config-file':
        configFile = val();
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

/** Settings from a daemon.json (flags win). */
export async function readConfigFile(path: string): Promise<Partial<DaemonConfig>> {
  let j: unknown;
  try {
    j = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
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
  if (Array.isArray(o.hosts) && typeof o.hosts[0] === 'string') out.host = o.hosts[0].replace(/^unix:\/\//, '');
  return out;
}
