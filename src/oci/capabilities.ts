// Linux capabilities with Docker's defaults and --cap-add/--cap-drop rules (moby oci/caps).
import { BerthError } from '../common/index.ts';

/** Every capability Linux knows, in number order (CAP_CHOWN is 0, CAP_CHECKPOINT_RESTORE is 40). */
export const LINUX_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

/** The highest capability number berth knows; pass the kernel's /proc/sys/kernel/cap_last_cap when lower. */
export const LAST_CAP = LINUX_CAPABILITIES.length - 1;

/** Docker's 14 default capabilities, in Docker's order (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

const ALL = 'ALL';

/** All capabilities up to `lastCap` (the running kernel's cap_last_cap), as a privileged container gets them. */
export function allCapabilities(lastCap: number = LAST_CAP): string[] {
  return LINUX_CAPABILITIES.slice(0, Math.min(lastCap, LAST_CAP) + 1);
}

/**
 * Upper-cases names and adds the CAP_ prefix (`net_admin` → `CAP_NET_ADMIN`); `ALL` passes through.
 * Throws invalid-argument `unknown capability: "CAP_FOO"` (Docker's message) for a name the kernel lacks.
 */
export function normalizeCapabilities(caps: readonly string[], lastCap: number = LAST_CAP): string[] {
  const known = new Set(allCapabilities(lastCap));
  return caps.map((raw) => {
    let c = raw.toUpperCase();
    if (c === ALL) return c;
    if (!c.startsWith('CAP_')) c = `CAP_${c}`;
    if (!known.has(c)) throw new BerthError('invalid-argument', `unknown capability: ${JSON.stringify(c)}`);
    return c;
  });
}

/**
 * The capability set of a container, with Docker's rules (TweakCapabilities): privileged gets all;
 * `--cap-add ALL` gets all but the dropped ones; `--cap-drop ALL` gets only the added ones; otherwise the
 * defaults minus the dropped plus the added (duplicates removed, order kept). Throws invalid-argument
 * for unknown names.
 */
export function tweakCapabilities(
  opts: { capAdd?: readonly string[]; capDrop?: readonly string[]; privileged?: boolean; lastCap?: number },
  basics: readonly string[] = DEFAULT_CAPABILITIES,
): string[] {
  const lastCap = opts.lastCap ?? LAST_CAP;
  if (opts.privileged) return allCapabilities(lastCap);
  const adds = opts.capAdd ?? [];
  const drops = opts.capDrop ?? [];
  if (adds.length === 0 && drops.length === 0) return [...basics];
  const capDrop = normalizeCapabilities(drops, lastCap);
  const capAdd = normalizeCapabilities(adds, lastCap);
  let caps: string[];
  if (capAdd.includes(ALL)) {
    caps = allCapabilities(lastCap).filter((c) => !capDrop.includes(c));
  } else if (capDrop.includes(ALL)) {
    caps = [...capAdd];
  } else {
    caps = [...basics.filter((c) => !capDrop.includes(c)), ...capAdd];
  }
  // Docker may list a capability twice (--cap-add CHOWN); runc does not mind, but a set reads better.
  return [...new Set(caps)];
}
