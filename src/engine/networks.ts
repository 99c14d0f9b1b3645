// Networks: the built-in `bridge`, `host` and `none`, address allocation (persisted in the metadata
// store), endpoints and published ports of containers.
import { BerthError, invalid, newId, notFound, wrap, type Logger } from '../common/index.ts';
import type { MetadataStore } from '../store/index.ts';
import {
  BridgeDriver, DEFAULT_POOLS, IptablesFirewall, PortAllocator, cidrString, contains, hostRoutes, intToIp, ipToInt, macForIp,
  newVethName, nextFreeAddress, overlaps, parseCidr, pickFreeSubnet, requestedPorts, reservePort, setSysctl,
  type Cidr, type ReservePort,
} from '../network/index.ts';
import type { EventBus } from './events.ts';
import type { ContainerRecord, NetworkAttachment, NetworkRecord } from './model.ts';

export interface NetworkConfig {
  /** Bridge device of the default network (`-b`); `none` disables it. */
  bridge: string;
  /** The bridge's address and prefix (`--bip 172.17.0.1/16`); '' picks a free pool. */
  bip: string;
  /** Where container addresses come from, inside the subnet (`--fixed-cidr`); '' = the whole subnet. */
  fixedCidr: string;
  mtu: number;
  /** Manage NAT and forwarding rules (`--iptables`). */
  iptables: boolean;
}

export interface NetworkServiceDeps {
  meta: MetadataStore;
  events: EventBus;
  log: Logger;
  config: NetworkConfig;
  /** Binds published host ports; tests pass a fake. */
  reservePort?: ReservePort;
}

interface DefaultBridge {
  rec: NetworkRecord;
  driver: BridgeDriver;
  firewall?: IptablesFirewall;
  subnet: Cidr;
  range: Cidr;
}

/** The network a container's NetworkMode names: `bridge` for `default`. */
export const networkNameOf = (mode: string): string => (mode === 'default' || mode === '' ? 'bridge' : mode);

const now = (): string => new Date().toISOString();

export class NetworkService {
  #bridge?: DefaultBridge;
  readonly #ports: PortAllocator;

  constructor(private readonly d: NetworkServiceDeps) {
    this.#ports = new PortAllocator(d.reservePort ?? reservePort);
  }

  /**
   * At daemon start, before containers are reconciled: the built-in networks' records, the
   * default bridge (picking a free subnet the first time), and its firewall rules, refilled with
   * the published ports of containers recorded as running so a restart of berthd drops no traffic.
   */
  async init(): Promise<void> {
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (!this.d.meta.networkIdByName(name)) this.#put({ id: newId(), name, driver, created: now(), bridge: '', subnet: '', gateway: '', ipRange: '', mtu: 0, internal: false, labels: {}, options: {} });
    }
    const cfg = this.d.config;
    if (cfg.bridge === 'none') return;
    if (cfg.bridge.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(cfg.bridge)) throw invalid(`invalid bridge name: ${cfg.bridge}`);
    const oldId = this.d.meta.networkIdByName('bridge');
    const old = oldId ? this.d.meta.getNetwork<NetworkRecord>(oldId) : undefined;
    let gateway: number;
    let subnet: Cidr;
    if (cfg.bip) {
      const p = parseCidr(cfg.bip);
      if (p.ip === p.cidr.base) throw invalid(`--bip ${cfg.bip}: give the bridge's address (e.g. 172.17.0.1/16), not the network's`);
      gateway = p.ip;
      subnet = p.cidr;
    } else if (old && old.bridge === cfg.bridge && old.subnet) {
      subnet = parseCidr(old.subnet).cidr;
      gateway = ipToInt(old.gateway);
    } else {
      const taken = (await hostRoutes()).filter((r) => r.dev !== cfg.bridge).map((r) => parseCidr(r.dst).cidr);
      const free = pickFreeSubnet(DEFAULT_POOLS, taken);
      if (!free) throw new BerthError('unavailable', 'no free address pool for the default bridge: set --bip');
      subnet = free;
      gateway = free.base + 1;
    }
    const range = cfg.fixedCidr ? parseCidr(cfg.fixedCidr).cidr : subnet;
    if (!overlaps(subnet, range) || range.prefix < subnet.prefix) throw invalid(`--fixed-cidr ${cfg.fixedCidr} is not inside the bridge's subnet ${cidrString(subnet)}`);
    const rec: NetworkRecord = {
      id: old?.id ?? newId(), name: 'bridge', driver: 'bridge', created: old?.created ?? now(), bridge: cfg.bridge,
      subnet: cidrString(subnet), gateway: intToIp(gateway), ipRange: cfg.fixedCidr ? cidrString(range) : '', mtu: cfg.mtu,
      internal: false, labels: {},
      options: {
        'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        'com.docker.network.bridge.name': cfg.bridge, 'com.docker.network.driver.mtu': String(cfg.mtu),
      },
    };
    this.#put(rec);
    const driver = new BridgeDriver({ bridge: cfg.bridge, gatewayCidr: `${rec.gateway}/${subnet.prefix}`, mtu: cfg.mtu, routeLocalnet: cfg.iptables });
    await driver.setup();
    const firewall = cfg.iptables ? new IptablesFirewall(cfg.bridge, rec.subnet) : undefined;
    this.#bridge = { rec, driver, firewall, subnet, range };
    if (firewall) {
      // containers need forwarding to reach anything beyond the bridge (dockerd's --ip-forward)
      await setSysctl('net/ipv4/ip_forward', '1');
      await firewall.rebuild(this.#forwards(this.d.meta.listContainers<ContainerRecord>()));
    }
  }

  #put(n: NetworkRecord): void {
    this.d.meta.putNetwork(n.id, n.name, n);
  }

  #forwards(recs: readonly ContainerRecord[]): { ip: string; ports: NetworkAttachment['ports'] }[] {
    return recs
      .filter((r) => (r.state.status === 'running' || r.state.status === 'paused') && r.network?.ports.length)
      .map((r) => ({ ip: r.network!.endpoint.ip, ports: r.network!.ports }));
  }

  list(): NetworkRecord[] {
    return this.d.meta.listNetworks<NetworkRecord>();
  }

  /** A network by name, full id or unique id prefix. not-found `No such network: x`. */
  get(idOrName: string): NetworkRecord {
    const byName = this.d.meta.networkIdByName(idOrName);
    const all = this.list();
    const n = byName ? all.find((x) => x.id === byName) : (all.find((x) => x.id === idOrName) ?? (() => {
      const m = all.filter((x) => x.id.startsWith(idOrName));
      return m.length === 1 ? m[0] : undefined;
    })());
    if (!n) throw notFound('network', idOrName);
    return n;
  }

  /** Gateway of the default bridge ('' when disabled), e.g. for `host-gateway`. */
  get gateway(): string {
    return this.#bridge?.rec.gateway ?? '';
  }

  /**
   * Before a container starts: its address and host ports. undefined for modes without an
   * endpoint (host, none, container:…). conflict when a host port is taken (nothing is held then);
   * not-found for a network that does not exist.
   */
  async attach(rec: ContainerRecord): Promise<NetworkAttachment | undefined> {
    const name = networkNameOf(rec.spec.host.networkMode);
    if (name === 'host' || name === 'none' || name.startsWith('container:')) return undefined;
    if (name !== 'bridge') throw notFound('network', name); // TODO(#5): user-defined networks
    const br = this.#bridge;
    if (!br) throw invalid('the default bridge network is disabled (berthd -b none)');
    this.release(rec.id);
    const gw = ipToInt(br.rec.gateway);
    const picked = this.d.meta.allocateAddress(br.rec.id, rec.id, (used) => {
      const ip = nextFreeAddress(br.subnet, br.range, new Set([...used].map(ipToInt).concat(gw)));
      return ip === undefined ? undefined : intToIp(ip);
    });
    if (!picked) throw new BerthError('unavailable', `no available IPv4 addresses on network bridge (${br.rec.subnet})`);
    const endpointId = newId();
    try {
      const ports = await this.#ports.allocate(rec.id, requestedPorts(rec.spec.host.portBindings, rec.exposedPorts, rec.spec.host.publishAllPorts), picked);
      return {
        networkId: br.rec.id, networkName: 'bridge', endpointId, ports,
        endpoint: { hostIf: newVethName(), containerIf: 'eth0', ip: picked, prefixLen: br.subnet.prefix, gateway: br.rec.gateway, macAddress: macForIp(ipToInt(picked)), mtu: br.rec.mtu },
      };
    } catch (err) {
      this.d.meta.releaseAddresses(rec.id);
      // compat: dockerd's wording, which clients show as is
      throw wrap(err, `driver failed programming external connectivity on endpoint ${rec.name} (${endpointId})`);
    }
  }

  /** After the runtime created the container (init pid known), before it starts: plug it in. */
  async connect(rec: ContainerRecord, att: NetworkAttachment, pid: number): Promise<void> {
    const br = this.#bridge;
    if (!br) return;
    const t0 = performance.now();
    // independent: the DNAT rules may exist before the veth does
    await Promise.all([br.driver.join(att.endpoint, `/proc/${pid}/ns/net`), br.firewall?.add({ ip: att.endpoint.ip, ports: att.ports })]);
    this.d.log.debug({ id: rec.id, ms: +(performance.now() - t0).toFixed(1) }, 'network connected');
    this.d.events.emit('network', 'connect', att.networkId, { container: rec.id, name: att.networkName, type: 'bridge' });
  }

  /** After an exit or a failed start: unplug, drop the port rules, free the address and ports. Idempotent. */
  async disconnect(rec: ContainerRecord): Promise<void> {
    const att = rec.network;
    const br = this.#bridge;
    if (att && br) {
      await br.firewall?.remove({ ip: att.endpoint.ip, ports: att.ports }).catch((err: unknown) => this.d.log.warn({ err, id: rec.id }, 'removing port rules failed'));
      await br.driver.leave(att.endpoint).catch((err: unknown) => this.d.log.warn({ err, id: rec.id }, 'removing the veth failed'));
      this.d.events.emit('network', 'disconnect', att.networkId, { container: rec.id, name: att.networkName, type: 'bridge' });
    }
    this.release(rec.id);
  }

  /** Free the address and host ports a container holds, without touching interfaces or rules. */
  release(id: string): void {
    this.#ports.release(id);
    this.d.meta.releaseAddresses(id);
  }

  /**
   * After containers are reconciled at daemon start: free addresses nobody running holds, hold
   * the host ports of running containers again, rebuild the rules from them, and delete veths
   * on the bridge that belong to no running container (a crash between steps).
   */
  async reconcile(recs: readonly ContainerRecord[]): Promise<void> {
    const live = recs.filter((r) => (r.state.status === 'running' || r.state.status === 'paused') && r.network);
    const liveIds = new Set(live.map((r) => r.id));
    for (const a of this.d.meta.listAllocations()) if (!liveIds.has(a.owner)) this.d.meta.releaseAddresses(a.owner);
    for (const r of live) {
      const att = r.network!;
      if (!att.ports.length || this.#ports.portsOf(r.id).length) continue;
      const fixed = att.ports.map((p) => ({ proto: p.proto, containerPort: p.containerPort, hostIp: p.hostIp, hostPortFrom: p.hostPort, hostPortTo: p.hostPort }));
      await this.#ports.allocate(r.id, fixed, att.endpoint.ip).catch((err: unknown) => this.d.log.warn({ err, id: r.id }, 'could not hold a published port again'));
    }
    const br = this.#bridge;
    if (!br) return;
    await br.firewall?.rebuild(this.#forwards(live));
    const stale = await br.driver.prune(new Set(live.map((r) => r.network!.endpoint.hostIf)));
    if (stale.length) this.d.log.info({ stale }, 'removed stale veths');
  }

  /** True when `ip` is inside the default bridge's subnet (tests, diagnostics). */
  onBridge(ip: string): boolean {
    return !!this.#bridge && contains(this.#bridge.subnet, ipToInt(ip));
  }
}

/** A container that `--link` points to. */
export interface LinkTarget {
  alias: string;
  name: string;
  id: string;
  ip: string;
  exposedPorts: readonly string[];
  env: readonly string[];
}

/**
 * Docker's link environment for `--link name:alias`: `ALIAS_NAME=/me/alias`, `ALIAS_PORT`,
 * `ALIAS_PORT_80_TCP{,_ADDR,_PORT,_PROTO}` per exposed port, `ALIAS_ENV_X` per variable of the target.
 */
export function linkEnv(self: string, l: LinkTarget): string[] {
  const a = l.alias.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  const ports = l.exposedPorts.map((k) => {
    const [port = '', proto = 'tcp'] = k.split('/');
    return { port: Number(port), proto };
  }).filter((p) => p.port > 0).sort((x, y) => x.port - y.port || x.proto.localeCompare(y.proto));
  const env = [`${a}_NAME=/${self}/${l.alias}`];
  const first = ports[0];
  if (first) env.push(`${a}_PORT=${first.proto}://${l.ip}:${first.port}`);
  for (const p of ports) {
    const k = `${a}_PORT_${p.port}_${p.proto.toUpperCase()}`;
    env.push(`${k}=${p.proto}://${l.ip}:${p.port}`, `${k}_ADDR=${l.ip}`, `${k}_PORT=${p.port}`, `${k}_PROTO=${p.proto}`);
  }
  for (const e of l.env) {
    const i = e.indexOf('=');
    const name = e.slice(0, i);
    // compat: docker skips these two, set for every image
    if (i < 0 || name === 'HOME' || name === 'PATH') continue;
    env.push(`${a}_ENV_${name}=${e.slice(i + 1)}`);
  }
  return env;
}
