import { BerthError } from '../common/index.ts';
import { generateSpec, parseSeccompProfile, toOciResources, type DockerSeccompProfile, type RuntimeSpec, type SpecInput, type SpecMount, type SpecResources, type NamespaceMode } from '../oci/index.ts';
import type { ContainerRecord, Resources } from './model.ts';
import type { ResolvedUser } from '../runtime/index.ts';

/** berthd's own hard rlimits: containers never ask for more (root here lacks CAP_SYS_RESOURCE). */
export type HostLimits = Partial<Record<string, number>>;

export interface SpecContext {
  rootfs: string;
  user: ResolvedUser;
  netns: NamespaceMode;
  limits: HostLimits;
  initPath?: string;
  pidPath?: string | 'host';
  ipcPath?: string | 'host';
  /** Capabilities berthd itself holds (its bounding set): a container never asks for more. */
  hostCaps?: ReadonlySet<string>;
}

const toSpecResources = (r: Resources): SpecResources => ({
  memory: r.memory, memorySwap: r.memorySwap, memoryReservation: r.memoryReservation, nanoCpus: r.nanoCpus,
  cpuShares: r.cpuShares, cpuQuota: r.cpuQuota, cpuPeriod: r.cpuPeriod, cpusetCpus: r.cpusetCpus, cpusetMems: r.cpusetMems,
  pidsLimit: r.pidsLimit || null, blkioWeight: r.blkioWeight, oomKillDisable: r.oomKillDisable,
});

const nsMode = (p: string | 'host' | undefined): NamespaceMode => (p === 'host' ? { kind: 'host' } : p ? { kind: 'path', path: p } : { kind: 'private' });

/** The OCI runtime spec for a container record: the engine's half of spec generation. */
export function buildRuntimeSpec(rec: ContainerRecord, ctx: SpecContext): RuntimeSpec {
  const h = rec.spec.host;
  const mounts: SpecMount[] = [
    { destination: '/etc/hostname', source: rec.hostnamePath, type: 'bind', options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', source: rec.hostsPath, type: 'bind', options: ['rbind', 'rprivate'] },
    { destination: '/etc/resolv.conf', source: rec.resolvConfPath, type: 'bind', options: ['rbind', 'rprivate'] },
  ];
  for (const m of rec.mountPoints) {
    if (m.type === 'tmpfs') {
      const opts = m.mode ? m.mode.split(',').filter(Boolean) : [];
      mounts.push({ destination: m.destination, source: 'tmpfs', type: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...opts, ...(m.readOnly ? ['ro'] : [])] });
    } else {
      mounts.push({ destination: m.destination, source: m.source, type: 'bind', options: ['rbind', m.readOnly ? 'ro' : 'rw', 'rprivate'] });
    }
  }
  let args = [rec.path, ...rec.args];
  if (h.init && !ctx.initPath) throw new BerthError('invalid-argument', 'exec: "docker-init": executable file not found in $PATH (install tini)');
  if (h.init && ctx.initPath) {
    mounts.push({ destination: '/sbin/docker-init', source: ctx.initPath, type: 'bind', options: ['rbind', 'ro', 'rprivate'] });
    args = ['/sbin/docker-init', '--', ...args];
  }
  const env = [...rec.env];
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${ctx.user.home || '/'}`);
  const input: SpecInput = {
    rootfs: ctx.rootfs,
    readonlyRootfs: h.readonlyRootfs,
    args,
    env,
    cwd: rec.workingDir || '/',
    user: { uid: ctx.user.uid, gid: ctx.user.gid, additionalGids: ctx.user.additionalGids },
    hostname: h.networkMode === 'host' ? '' : rec.hostname,
    domainname: rec.spec.domainname,
    tty: rec.spec.tty,
    ...(rec.spec.tty && h.consoleSize && h.consoleSize[0] > 0 ? { consoleSize: { height: h.consoleSize[0], width: h.consoleSize[1] } } : {}),
    namespaces: {
      net: ctx.netns,
      pid: nsMode(ctx.pidPath),
      ipc: nsMode(ctx.ipcPath),
      uts: h.networkMode === 'host' || h.utsMode === 'host' ? { kind: 'host' } : { kind: 'private' },
    },
    mounts,
    shmSize: h.shmSize || undefined,
    capAdd: h.capAdd,
    capDrop: h.capDrop,
    privileged: h.privileged,
    noNewPrivileges: h.securityOpt.some((o) => /^no-new-privileges(?:[:=]true)?$/.test(o)),
    seccomp: seccompOf(h.securityOpt),
    ulimits: h.resources.ulimits,
    maxRlimit: ctx.limits,
    resources: toSpecResources(h.resources),
    cgroupsPath: rec.cgroupsPath,
    sysctls: h.sysctls,
  };
  const spec = generateSpec(input);
  if (h.networkMode === 'host' && spec.hostname !== undefined) delete spec.hostname;
  const caps = spec.process?.capabilities;
  if (caps && ctx.hostCaps) {
    // e.g. root here lacks CAP_SYS_RESOURCE: asking for it (--privileged, --cap-add ALL) makes runc fail
    const keep = (l?: string[]): string[] | undefined => l?.filter((c) => ctx.hostCaps!.has(c));
    for (const k of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
      const v = keep(caps[k]);
      if (v) caps[k] = v;
    }
  }
  return spec;
}

/** OCI `linux.resources` for `runc update`. */
export function toLinuxResources(r: Resources): object {
  return toOciResources(toSpecResources(r));
}

/**
 * The seccomp profile `--security-opt` asks for: `seccomp=unconfined`, or a profile's JSON (the
 * docker CLI reads `seccomp=<file>` and sends the file's content); otherwise Docker's default.
 * invalid-argument (`Decoding seccomp profile failed: …`) for a malformed profile.
 */
export function seccompOf(securityOpt: readonly string[]): 'default' | 'unconfined' | DockerSeccompProfile {
  let value: string | undefined;
  for (const o of securityOpt) {
    const m = /^seccomp[:=](.*)$/s.exec(o);
    if (m) value = m[1];
  }
  if (value === undefined || value === '' || value === 'builtin') return 'default';
  if (value === 'unconfined') return 'unconfined';
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (err) {
    throw new BerthError('invalid-argument', `Decoding seccomp profile failed: ${(err as Error).message}`);
  }
  return parseSeccompProfile(json);
}
