// Engine records ⇄ Engine API wire objects (v1.45 casing). Request bodies enter as `unknown` and are validated here.
import { BerthError, humanDuration, shortId } from '../common/index.ts';
import type { ContainerRecord, ContainerSpec, EndpointConfig, HealthConfig, ImageView, MountSpec, NetworkAttachment, NetworkCreateRequest, NetworkRecord, Resources, VolumeRecord, EngineEvent } from '../engine/index.ts';
import { attachmentsOf, dnsNamesOf, endpointRequests, isPredefinedNetwork } from '../engine/index.ts';
import type * as W from '../api/index.ts';

const bad = (m: string): BerthError => new BerthError('invalid-argument', m);

function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`invalid ${what}: expected an object`);
  return v as Record<string, unknown>;
}
function strs(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(`invalid ${what}: expected a list of strings`);
  return v as string[];
}
function strsOrNull(v: unknown, what: string): string[] | null {
  if (v === undefined || v === null) return null;
  return strs(v, what);
}
function str(v: unknown, what: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw bad(`invalid ${what}: expected a string`);
  return v;
}
function num(v: unknown, what: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`invalid ${what}: expected a number`);
  return v;
}
function bool(v: unknown): boolean {
  return v === true;
}
function strMap(v: unknown, what: string): Record<string, string> {
  const o = obj(v, what);
  for (const [k, x] of Object.entries(o)) if (typeof x !== 'string') throw bad(`invalid ${what}: value of ${k} is not a string`);
  return o as Record<string, string>;
}

/** Docker's Resources fields (shared by create and update). */
export function resourcesFrom(h: Record<string, unknown>): Resources {
  const ul = h.Ulimits === null || h.Ulimits === undefined ? [] : h.Ulimits;
  if (!Array.isArray(ul)) throw bad('invalid Ulimits');
  return {
    memory: num(h.Memory, 'Memory'), memorySwap: num(h.MemorySwap, 'MemorySwap'), memoryReservation: num(h.MemoryReservation, 'MemoryReservation'),
    nanoCpus: num(h.NanoCpus, 'NanoCpus'), cpuShares: num(h.CpuShares, 'CpuShares'), cpuQuota: num(h.CpuQuota, 'CpuQuota'), cpuPeriod: num(h.CpuPeriod, 'CpuPeriod'),
    cpusetCpus: str(h.CpusetCpus, 'CpusetCpus'), cpusetMems: str(h.CpusetMems, 'CpusetMems'),
    pidsLimit: h.PidsLimit === null ? 0 : num(h.PidsLimit, 'PidsLimit'), blkioWeight: num(h.BlkioWeight, 'BlkioWeight'),
    oomKillDisable: bool(h.OomKillDisable),
    ulimits: ul.map((u: unknown) => {
      const o = obj(u, 'Ulimit');
      return { name: str(o.Name, 'Ulimit.Name'), soft: num(o.Soft, 'Ulimit.Soft'), hard: num(o.Hard, 'Ulimit.Hard') };
    }),
  };
}

/** Config.Healthcheck of a create body; null when absent. Durations are integer nanoseconds. */
export function healthcheckFrom(v: unknown): HealthConfig | null {
  if (v === undefined || v === null) return null;
  const o = obj(v, 'Healthcheck');
  const int = (x: unknown, what: string): number => {
    const n = num(x, `Healthcheck.${what}`);
    if (!Number.isInteger(n)) throw bad(`invalid Healthcheck.${what}: expected an integer`);
    return n;
  };
  return {
    test: strs(o.Test, 'Healthcheck.Test'), interval: int(o.Interval, 'Interval'), timeout: int(o.Timeout, 'Timeout'),
    startPeriod: int(o.StartPeriod, 'StartPeriod'), startInterval: int(o.StartInterval, 'StartInterval'), retries: int(o.Retries, 'Retries'),
  };
}

/** A healthcheck as the wire shows it: zero fields left out (Go's omitempty). */
function healthcheckOf(h: HealthConfig): W.HealthConfig {
  return {
    ...(h.test.length ? { Test: h.test } : {}), ...(h.interval ? { Interval: h.interval } : {}), ...(h.timeout ? { Timeout: h.timeout } : {}),
    ...(h.startPeriod ? { StartPeriod: h.startPeriod } : {}), ...(h.startInterval ? { StartInterval: h.startInterval } : {}),
    ...(h.retries ? { Retries: h.retries } : {}),
  };
}

/** POST /containers/create body → engine spec. */
export function specFromCreate(body: unknown): ContainerSpec {
  const c = obj(body, 'container config');
  const h = obj(c.HostConfig, 'HostConfig');
  if (!c.Image || typeof c.Image !== 'string') throw bad('Config cannot be empty in order to create a container');
  const rp = obj(h.RestartPolicy, 'RestartPolicy');
  const mounts = h.Mounts === null || h.Mounts === undefined ? [] : h.Mounts;
  if (!Array.isArray(mounts)) throw bad('invalid Mounts');
  const lc = obj(h.LogConfig, 'LogConfig');
  const pb = obj(h.PortBindings, 'PortBindings');
  const stopTimeout = c.StopTimeout === undefined || c.StopTimeout === null ? null : num(c.StopTimeout, 'StopTimeout');
  return {
    image: c.Image,
    cmd: strsOrNull(c.Cmd, 'Cmd'),
    entrypoint: strsOrNull(c.Entrypoint, 'Entrypoint'),
    env: strs(c.Env, 'Env'),
    workingDir: str(c.WorkingDir, 'WorkingDir'),
    user: str(c.User, 'User'),
    hostname: str(c.Hostname, 'Hostname'),
    domainname: str(c.Domainname, 'Domainname'),
    labels: strMap(c.Labels, 'Labels'),
    tty: bool(c.Tty), openStdin: bool(c.OpenStdin), stdinOnce: bool(c.StdinOnce),
    attachStdin: bool(c.AttachStdin), attachStdout: bool(c.AttachStdout), attachStderr: bool(c.AttachStderr),
    exposedPorts: Object.keys(obj(c.ExposedPorts, 'ExposedPorts')),
    volumes: Object.keys(obj(c.Volumes, 'Volumes')),
    stopSignal: str(c.StopSignal, 'StopSignal'),
    stopTimeout,
    healthcheck: healthcheckFrom(c.Healthcheck),
    endpoints: endpointsFrom(obj(c.NetworkingConfig, 'NetworkingConfig').EndpointsConfig, str(c.MacAddress, 'MacAddress'), str(h.NetworkMode, 'NetworkMode') || 'default'),
    host: {
      binds: strs(h.Binds, 'Binds'),
      mounts: mounts.map((m: unknown): MountSpec => {
        const o = obj(m, 'Mount');
        const type = str(o.Type, 'Mount.Type') || 'volume';
        if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw bad(`invalid mount config: mount type unknown: "${type}"`);
        const to = obj(o.TmpfsOptions, 'TmpfsOptions');
        const opts: string[] = [];
        if (to.SizeBytes) opts.push(`size=${num(to.SizeBytes, 'SizeBytes')}`);
        if (to.Mode) opts.push(`mode=${num(to.Mode, 'Mode').toString(8)}`);
        return { type, source: str(o.Source, 'Mount.Source'), target: str(o.Target, 'Mount.Target'), readOnly: bool(o.ReadOnly), options: opts, noCopy: bool(obj(o.VolumeOptions, 'VolumeOptions').NoCopy) };
      }),
      tmpfs: strMap(h.Tmpfs, 'Tmpfs'),
      volumesFrom: strs(h.VolumesFrom, 'VolumesFrom'),
      networkMode: str(h.NetworkMode, 'NetworkMode') || 'default',
      portBindings: Object.fromEntries(Object.entries(pb).map(([k, v]) => [k, (Array.isArray(v) ? v : []).map((b: unknown) => {
        const o = obj(b, 'PortBinding');
        return { hostIp: str(o.HostIp, 'HostIp'), hostPort: str(o.HostPort, 'HostPort') };
      })])),
      publishAllPorts: bool(h.PublishAllPorts),
      restartPolicy: { name: (str(rp.Name, 'RestartPolicy.Name') || 'no') as ContainerSpec['host']['restartPolicy']['name'], maximumRetryCount: num(rp.MaximumRetryCount, 'MaximumRetryCount') },
      autoRemove: bool(h.AutoRemove),
      capAdd: strs(h.CapAdd, 'CapAdd'), capDrop: strs(h.CapDrop, 'CapDrop'),
      privileged: bool(h.Privileged), securityOpt: strs(h.SecurityOpt, 'SecurityOpt'),
      readonlyRootfs: bool(h.ReadonlyRootfs), init: bool(h.Init),
      resources: resourcesFrom(h),
      shmSize: num(h.ShmSize, 'ShmSize'),
      dns: strs(h.Dns, 'Dns'), dnsSearch: strs(h.DnsSearch, 'DnsSearch'), dnsOptions: strs(h.DnsOptions, 'DnsOptions'),
      extraHosts: strs(h.ExtraHosts, 'ExtraHosts'), links: strs(h.Links, 'Links'),
      pidMode: str(h.PidMode, 'PidMode'), ipcMode: str(h.IpcMode, 'IpcMode'), utsMode: str(h.UTSMode, 'UTSMode'),
      sysctls: strMap(h.Sysctls, 'Sysctls'), groupAdd: strs(h.GroupAdd, 'GroupAdd'),
      logConfig: { type: str(lc.Type, 'LogConfig.Type') || 'json-file', config: strMap(lc.Config, 'LogConfig.Config') },
      consoleSize: consoleSize(h.ConsoleSize),
    },
  };
}

/** One EndpointSettings of a request (create's EndpointsConfig, connect's EndpointConfig). */
export function endpointConfigFrom(v: unknown, what = 'EndpointConfig'): EndpointConfig {
  const o = obj(v, what);
  const ipam = obj(o.IPAMConfig, `${what}.IPAMConfig`);
  if (str(ipam.IPv6Address, 'IPv6Address')) throw new BerthError('not-implemented', 'IPv6 addresses are not supported by berth');
  return { aliases: strs(o.Aliases, `${what}.Aliases`), ipv4Address: str(ipam.IPv4Address, 'IPv4Address'), macAddress: str(o.MacAddress, `${what}.MacAddress`) };
}

/** NetworkingConfig.EndpointsConfig by network; a deprecated Config.MacAddress goes to the NetworkMode's endpoint. */
function endpointsFrom(v: unknown, macAddress: string, mode: string): Record<string, EndpointConfig> {
  const out: Record<string, EndpointConfig> = {};
  for (const [k, x] of Object.entries(obj(v, 'EndpointsConfig'))) out[k] = endpointConfigFrom(x, `EndpointsConfig.${k}`);
  if (macAddress) {
    const key = out[mode] ? mode : out.default ? 'default' : mode;
    const ep = (out[key] ??= { aliases: [], ipv4Address: '', macAddress: '' });
    ep.macAddress ||= macAddress;
  }
  return out;
}

/** POST /networks/create body → engine request. */
export function networkCreateFrom(body: unknown): NetworkCreateRequest {
  const o = obj(body, 'network config');
  const ipam = obj(o.IPAM, 'IPAM');
  const driver = str(ipam.Driver, 'IPAM.Driver');
  if (driver && driver !== 'default') throw new BerthError('not-found', `plugin "${driver}" not found`);
  const cfgs = ipam.Config === undefined || ipam.Config === null ? [] : ipam.Config;
  if (!Array.isArray(cfgs)) throw bad('invalid IPAM.Config: expected a list');
  return {
    name: str(o.Name, 'Name'), driver: str(o.Driver, 'Driver'), internal: bool(o.Internal),
    labels: strMap(o.Labels, 'Labels'), options: strMap(o.Options, 'Options'), enableIPv6: bool(o.EnableIPv6),
    ipam: cfgs.map((c: unknown) => {
      const x = obj(c, 'IPAM.Config');
      if (Object.keys(obj(x.AuxiliaryAddresses, 'AuxiliaryAddresses')).length) throw new BerthError('not-implemented', 'auxiliary addresses are not supported by berth');
      return { subnet: str(x.Subnet, 'Subnet'), gateway: str(x.Gateway, 'Gateway'), ipRange: str(x.IPRange, 'IPRange') };
    }),
  };
}

/** `[height, width]`, as the docker CLI sends it with `-t`; null when absent or zero. */
export function consoleSize(v: unknown): [number, number] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) throw bad('invalid ConsoleSize: expected [height, width]');
  return v[0] > 0 && v[1] > 0 ? [v[0] as number, v[1] as number] : null;
}

/** POST /containers/{id}/exec body → engine exec config. */
export function execConfigFrom(body: unknown): import('../engine/index.ts').ExecConfig {
  const o = obj(body, 'exec config');
  const cs = consoleSize(o.ConsoleSize);
  return {
    cmd: strs(o.Cmd, 'Cmd'), env: strs(o.Env, 'Env'), user: str(o.User, 'User'), workingDir: str(o.WorkingDir, 'WorkingDir'),
    tty: bool(o.Tty), attachStdin: bool(o.AttachStdin), attachStdout: bool(o.AttachStdout), attachStderr: bool(o.AttachStderr),
    privileged: bool(o.Privileged), detachKeys: str(o.DetachKeys, 'DetachKeys'), ...(cs ? { consoleSize: cs } : {}),
  };
}

const toSet = (xs: string[]): Record<string, object> | null => (xs.length ? Object.fromEntries(xs.map((x) => [x, {}])) : null);

function hostConfigOf(r: ContainerRecord): W.HostConfig {
  const h = r.spec.host;
  const res = h.resources;
  return {
    Binds: h.binds.length ? h.binds : null, ContainerIDFile: '', LogConfig: { Type: h.logConfig.type, Config: h.logConfig.config },
    NetworkMode: h.networkMode, PortBindings: Object.fromEntries(Object.entries(h.portBindings).map(([k, v]) => [k, v.map((b) => ({ HostIp: b.hostIp, HostPort: b.hostPort }))])),
    RestartPolicy: { Name: h.restartPolicy.name || 'no', MaximumRetryCount: h.restartPolicy.maximumRetryCount },
    AutoRemove: h.autoRemove, VolumeDriver: '', VolumesFrom: h.volumesFrom.length ? h.volumesFrom : null,
    CapAdd: h.capAdd.length ? h.capAdd : null, CapDrop: h.capDrop.length ? h.capDrop : null, CgroupnsMode: 'host',
    Dns: h.dns, DnsOptions: h.dnsOptions, DnsSearch: h.dnsSearch, ExtraHosts: h.extraHosts.length ? h.extraHosts : null, GroupAdd: h.groupAdd.length ? h.groupAdd : null,
    IpcMode: h.ipcMode || 'private', Cgroup: '', Links: h.links.length ? h.links : null, OomScoreAdj: 0, PidMode: h.pidMode, Privileged: h.privileged,
    PublishAllPorts: h.publishAllPorts, ReadonlyRootfs: h.readonlyRootfs, SecurityOpt: h.securityOpt.length ? h.securityOpt : null,
    Tmpfs: Object.keys(h.tmpfs).length ? h.tmpfs : undefined, UTSMode: h.utsMode, UsernsMode: '', ShmSize: h.shmSize || 67108864, Runtime: 'runc', Isolation: '',
    CpuShares: res.cpuShares, Memory: res.memory, NanoCpus: res.nanoCpus, CgroupParent: '', BlkioWeight: res.blkioWeight,
    BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [],
    CpuPeriod: res.cpuPeriod, CpuQuota: res.cpuQuota, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: res.cpusetCpus, CpusetMems: res.cpusetMems,
    Devices: [], DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: res.memoryReservation, MemorySwap: res.memorySwap,
    MemorySwappiness: null, OomKillDisable: res.oomKillDisable, PidsLimit: res.pidsLimit || null, Ulimits: res.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
    CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
    Mounts: r.spec.host.mounts.length ? r.spec.host.mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly })) : undefined,
    Init: h.init || null,
    ConsoleSize: h.consoleSize ?? [0, 0],
    MaskedPaths: h.privileged ? null : ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'],
    ReadonlyPaths: h.privileged ? null : ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  } as unknown as W.HostConfig;
}

function configOf(r: ContainerRecord): W.ContainerConfig {
  return {
    Hostname: r.hostname, Domainname: r.spec.domainname, User: r.user,
    AttachStdin: r.spec.attachStdin, AttachStdout: r.spec.attachStdout, AttachStderr: r.spec.attachStderr,
    ExposedPorts: toSet(r.exposedPorts) ?? undefined, Tty: r.spec.tty, OpenStdin: r.spec.openStdin, StdinOnce: r.spec.stdinOnce,
    Env: r.env, Cmd: r.cmd.length ? r.cmd : null, ...(r.healthcheck ? { Healthcheck: healthcheckOf(r.healthcheck) } : {}), Image: r.imageRef, Volumes: toSet(r.volumes), WorkingDir: r.workingDir === '/' && !r.spec.workingDir ? '' : r.workingDir,
    Entrypoint: r.entrypoint.length ? r.entrypoint : null, OnBuild: null, Labels: r.labels,
    ...(r.spec.stopSignal ? { StopSignal: r.spec.stopSignal } : {}),
    ...(r.spec.stopTimeout !== null ? { StopTimeout: r.spec.stopTimeout } : {}),
  } as W.ContainerConfig;
}

const isUp = (r: ContainerRecord): boolean => r.state.status === 'running' || r.state.status === 'paused';

/** `80/tcp` → the host ports published to it, `null` for an exposed but unpublished port (running only). */
function portMapOf(r: ContainerRecord): W.NetworkSettings['Ports'] {
  if (!isUp(r)) return {};
  const m: Record<string, { HostIp: string; HostPort: string }[] | null> = Object.fromEntries(r.exposedPorts.map((p) => [p.includes('/') ? p : `${p}/tcp`, null]));
  for (const p of attachmentsOf(r).flatMap((a) => a.ports)) {
    const k = `${p.containerPort}/${p.proto}`;
    (m[k] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  return m as W.NetworkSettings['Ports'];
}

/** One entry of NetworkSettings.Networks: the endpoint while it runs, else what was asked for. */
function endpointSettingsOf(r: ContainerRecord, network: string, a?: NetworkAttachment, want?: EndpointConfig): W.EndpointSettings {
  const ep = a?.endpoint;
  const aliases = a ? a.aliases ?? [] : want?.aliases ?? [];
  const ip = a ? a.requestedIp ?? '' : want?.ipv4Address ?? '';
  return {
    IPAMConfig: ip ? { IPv4Address: ip } : null, Links: null, Aliases: aliases.length ? aliases : null,
    MacAddress: ep?.macAddress ?? want?.macAddress ?? '', DriverOpts: null,
    NetworkID: a?.networkId ?? '', EndpointID: a?.endpointId ?? '', Gateway: ep?.gateway ?? '', IPAddress: ep?.ip ?? '', IPPrefixLen: ep?.prefixLen ?? 0,
    IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
    // compat: names the embedded DNS answers to, on user-defined networks only
    DNSNames: a && !isPredefinedNetwork(network) ? dnsNamesOf(r, aliases) : null,
  } as unknown as W.EndpointSettings;
}

function networkSettingsOf(r: ContainerRecord): W.NetworkSettings {
  const mode = r.spec.host.networkMode === 'default' ? 'bridge' : r.spec.host.networkMode;
  const networks: Record<string, W.EndpointSettings> = {};
  const atts = isUp(r) ? attachmentsOf(r) : [];
  if (atts.length) {
    for (const a of atts) networks[a.networkName] = endpointSettingsOf(r, a.networkName, a);
  } else if (mode === 'host' || mode === 'none') {
    networks[mode] = endpointSettingsOf(r, mode);
  } else if (!mode.startsWith('container:')) {
    for (const q of endpointRequests(r)) networks[q.network] = endpointSettingsOf(r, q.network, undefined, q.config);
  }
  const a = atts.find((x) => x.networkName === 'bridge');
  const ep = a?.endpoint;
  // compat: the top-level address fields are deprecated but still filled for the default bridge
  const top = a && ep;
  return {
    Bridge: '', SandboxID: isUp(r) ? r.id : '', SandboxKey: r.state.pid ? `/proc/${r.state.pid}/ns/net` : '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    Ports: portMapOf(r), SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
    EndpointID: top ? a.endpointId : '', Gateway: top ? ep.gateway : '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
    IPAddress: top ? ep.ip : '', IPPrefixLen: top ? ep.prefixLen : 0, IPv6Gateway: '', MacAddress: top ? ep.macAddress : '',
    Networks: networks,
  } as unknown as W.NetworkSettings;
}

/** `docker ps` PORTS: published ports, then exposed-only ones without a public side. */
function summaryPortsOf(r: ContainerRecord): W.Port[] {
  if (!isUp(r)) return [];
  const published = attachmentsOf(r).flatMap((a) => a.ports);
  const out: W.Port[] = published.map((p) => ({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto }));
  for (const k of r.exposedPorts) {
    const [port = '', proto = 'tcp'] = k.split('/');
    if (!published.some((p) => String(p.containerPort) === port && p.proto === proto)) out.push({ PrivatePort: Number(port), Type: proto as W.Port['Type'] });
  }
  return out;
}

/** A network as dockerd shows it; `containers` fills `Containers` (inspect only: list sends `{}`). */
export function toNetwork(n: NetworkRecord, containers: ContainerRecord[] = []): W.Network {
  const attached = containers.filter(isUp).flatMap((c) => attachmentsOf(c).filter((a) => a.networkId === n.id).map((a) => ({ c, a })));
  return {
    Name: n.name, Id: n.id, Created: n.created, Scope: 'local', Driver: n.driver, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: n.subnet ? [{ Subnet: n.subnet, Gateway: n.gateway, ...(n.ipRange ? { IPRange: n.ipRange } : {}) }] : [] },
    Internal: n.internal, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: Object.fromEntries(attached.map(({ c, a }) => [c.id, {
      Name: c.name, EndpointID: a.endpointId, MacAddress: a.endpoint.macAddress,
      IPv4Address: `${a.endpoint.ip}/${a.endpoint.prefixLen}`, IPv6Address: '',
    }])),
    Options: n.options, Labels: n.labels,
  } as W.Network;
}

function mountsOf(r: ContainerRecord): W.MountPoint[] {
  return r.mountPoints.map((m) => ({
    Type: m.type, ...(m.type === 'volume' ? { Name: m.name, Driver: 'local' } : {}), Source: m.source, Destination: m.destination,
    Mode: m.mode, RW: !m.readOnly, Propagation: m.propagation,
  })) as W.MountPoint[];
}

export function toContainerInspect(r: ContainerRecord, driver: string, sizes?: { rw: number; rootFs: number }, execIds: string[] = []): W.ContainerInspectResponse {
  const s = r.state;
  return {
    Id: r.id, Created: r.created, Path: r.path, Args: r.args,
    State: {
      Status: s.status, Running: s.status === 'running' || s.status === 'paused', Paused: s.status === 'paused', Restarting: s.status === 'restarting',
      OOMKilled: s.oomKilled, Dead: s.status === 'dead', Pid: s.pid, ExitCode: s.exitCode, Error: s.error, StartedAt: s.startedAt, FinishedAt: s.finishedAt,
      ...(s.health ? {
        Health: {
          Status: s.health.status, FailingStreak: s.health.failingStreak,
          Log: s.health.log.map((l) => ({ Start: l.start, End: l.end, ExitCode: l.exitCode, Output: l.output })),
        },
      } : {}),
    },
    Image: r.imageId, ResolvConfPath: r.resolvConfPath, HostnamePath: r.hostnamePath, HostsPath: r.hostsPath, LogPath: r.logPath,
    Name: `/${r.name}`, RestartCount: r.restartCount, Driver: driver, Platform: 'linux', MountLabel: '', ProcessLabel: '', AppArmorProfile: '',
    ExecIDs: execIds.length ? execIds : null, HostConfig: hostConfigOf(r),
    GraphDriver: { Name: driver, Data: null },
    ...(sizes ? { SizeRw: sizes.rw, SizeRootFs: sizes.rootFs } : {}),
    Mounts: mountsOf(r), Config: configOf(r), NetworkSettings: networkSettingsOf(r),
  } as W.ContainerInspectResponse;
}

/** `docker ps` rows: Names with a leading slash, Command as one string, Status in words. */
export function toContainerSummary(r: ContainerRecord, status: string, size?: { rw: number; rootFs: number }): W.ContainerSummary {
  const mode = r.spec.host.networkMode === 'default' ? 'bridge' : r.spec.host.networkMode;
  return {
    Id: r.id, Names: [`/${r.name}`], Image: r.imageRef, ImageID: r.imageId, Command: [r.path, ...r.args].map(quoteArg).join(' '),
    Created: Math.floor(Date.parse(r.created) / 1000), Ports: summaryPortsOf(r), Labels: r.labels, State: r.state.status, Status: status,
    ...(size ? { SizeRw: size.rw, SizeRootFs: size.rootFs } : {}),
    HostConfig: { NetworkMode: mode }, NetworkSettings: { Networks: networkSettingsOf(r).Networks }, Mounts: mountsOf(r),
  } as W.ContainerSummary;
}

// compat: docker joins the command with spaces, quoting nothing; keep that
const quoteArg = (a: string): string => a;

/** Status words as dockerd computes them (the CLI prints them verbatim). */
export function statusText(r: ContainerRecord, now = Date.now()): string {
  const s = r.state;
  const ago = (iso: string): string => humanDuration(now - Date.parse(iso));
  switch (s.status) {
    case 'running':
      // compat: dockerd's Health.String(): `health: starting`, else the status itself
      if (s.health) return `Up ${ago(s.startedAt)} (${s.health.status === 'starting' ? 'health: starting' : s.health.status})`;
      return `Up ${ago(s.startedAt)}`;
    case 'paused':
      return `Up ${ago(s.startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${s.exitCode}) ${ago(s.finishedAt)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'created':
      return 'Created';
    default:
      return s.finishedAt.startsWith('0001') ? 'Created' : `Exited (${s.exitCode}) ${ago(s.finishedAt)} ago`;
  }
}


/** A timestamp as Go's RFC3339Nano prints it: trailing zeros of the fraction dropped (`…00.000Z` → `…00Z`). */
export function goTime(iso: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) return iso;
  const frac = (m[2] ?? '').replace(/0+$/, '');
  return `${m[1]}${frac ? `.${frac}` : ''}${m[3]}`;
}

/**
 * `GET /images/json` rows. `containers` is -1 unless counted (system df); SharedSize is -1 unless
 * asked for (`shared-size=1`, system df). `repoTags` narrows the tags shown (the reference filter).
 */
export function toImageSummary(v: ImageView, containers: number, opts: { sharedSize?: boolean; repoTags?: string[] } = {}): W.ImageSummary {
  return {
    Id: v.record.id, ParentId: v.record.parent, RepoTags: opts.repoTags ?? v.repoTags, RepoDigests: v.repoDigests,
    Created: Math.floor(Date.parse(v.config.created ?? v.record.created) / 1000) || 0, Size: v.record.size,
    SharedSize: opts.sharedSize === false ? -1 : v.sharedSize,
    Labels: v.config.config?.Labels ?? null, Containers: containers,
  } as W.ImageSummary;
}

export function toImageInspect(v: ImageView, driver: string): W.ImageInspect {
  const c = v.config.config ?? {};
  const cfg = {
    Hostname: '', Domainname: '', User: c.User ?? '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
    ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}), Tty: false, OpenStdin: false, StdinOnce: false,
    Env: c.Env ?? null, Cmd: c.Cmd ?? null, ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}), Image: '', Volumes: c.Volumes ?? null, WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null, OnBuild: c.OnBuild ?? null, Labels: c.Labels ?? null,
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}), ...(c.Shell ? { Shell: c.Shell } : {}),
  };
  return {
    Id: v.record.id, RepoTags: v.repoTags, RepoDigests: v.repoDigests, Parent: v.record.parent, Comment: v.config.comment ?? '',
    Created: goTime(v.config.created ?? v.record.created), DockerVersion: v.config.docker_version ?? '', Author: v.config.author ?? '',
    Config: cfg, Architecture: v.config.architecture, ...(v.config.variant ? { Variant: v.config.variant } : {}), Os: v.config.os,
    Size: v.record.size, GraphDriver: { Name: driver, Data: null },
    RootFS: { Type: 'layers', Layers: v.config.rootfs.diff_ids }, Metadata: { LastTagTime: goTime(v.lastTagTime) },
  } as unknown as W.ImageInspect;
}

/**
 * A volume as dockerd shows it; berth's own bookkeeping options (`berth.*`) stay hidden. Like
 * dockerd, Labels and Options are objects for a volume created through the API (the CLI always
 * sends both) and null when empty for one a container created.
 */
export function toVolume(v: VolumeRecord, usage?: { size: number; refCount: number }): W.Volume {
  const options = Object.fromEntries(Object.entries(v.options).filter(([k]) => !k.startsWith('berth.')));
  const api = v.options['berth.api'] === 'true';
  return {
    CreatedAt: v.createdAt, Driver: v.driver, Labels: api || Object.keys(v.labels).length ? v.labels : null, Mountpoint: v.mountpoint, Name: v.name,
    Options: api || Object.keys(options).length ? options : null, Scope: 'local',
    ...(usage ? { UsageData: { Size: usage.size, RefCount: usage.refCount } } : {}),
  } as W.Volume;
}

export function toEvent(e: EngineEvent): W.EventMessage {
  const time = Number(e.timeNano / 1_000_000_000n);
  const base = { Type: e.type, Action: e.action, Actor: { ID: e.actor.id, Attributes: e.actor.attributes }, scope: 'local', time, timeNano: Number(e.timeNano) };
  // compat: the deprecated status/id/from fields, which older clients still read
  if (e.type === 'container' || e.type === 'image') {
    return { status: e.action, id: e.actor.id, ...(e.actor.attributes.image ? { from: e.actor.attributes.image } : {}), ...base } as unknown as W.EventMessage;
  }
  return base as unknown as W.EventMessage;
}

/** `ps --filter health=`: the health of a container, `none` without State.Health. */
export const healthStatusOf = (r: ContainerRecord): string => r.state.health?.status ?? 'none';

export { shortId };
