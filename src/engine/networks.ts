// Networks: the built-in `bridge`, `host` and `none`, user-defined bridge networks with embedded
// DNS, address allocation (persisted in the metadata store), endpoints and published ports of
// containers, isolation between networks.
import { readFile, stat } from 'node:fs/promises';
import { BerthError, conflict, invalid, newId, wrap, type Logger } from '../common/index.ts';
import type { MetadataStore } from '../store/index.ts';
import {
  BridgeDriver, DEFAULT_POOLS, DNS_RCODE, DNS_TYPE, EmbeddedDns, IptablesFirewall, IsolationFirewall, PortAllocator, chainNames, cidrSize,
  cidrString, contains, hostRoutes, intToIp, ipToInt, isBindError, linkExists, macForIp, newVethName, nextFreeAddress, overlaps, parseCidr,
  pickFreeSubnet, requestedPorts, reservePort, setSysctl,
  type Cidr, type DnsAnswer, type DnsQuestion, type ReservePort,
} from '../network/index.ts';
import type { EventBus } from './events.ts';
import { attachmentsOf, type ContainerRecord, type ContainerSpec, type EndpointConfig, type NetworkAttachment, type NetworkRecord } from './model.ts';

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
  /** The host's resolver configuration: copied for default-bridge containers, the upstreams of the embedded DNS. */
  resolvConf?: string;
  /** Port of the embedded DNS on each user network's gateway (53; tests may pick another). */
  dnsPort?: number;
}

export interface NetworkServiceDeps {
  meta: MetadataStore;
  events: EventBus;
  log: Logger;
  config: NetworkConfig;
  /** Binds published host ports; tests pass a fake. */
  reservePort?: ReservePort;
}

/** A bridge network berth runs: the default `bridge` or a user-defined one. */
interface BridgeNet {
  rec: NetworkRecord;
  driver: BridgeDriver;
  firewall?: IptablesFirewall;
  subnet: Cidr;
  range: Cidr;
  /** The embedded DNS answers on the gateway (user-defined networks whose listener is up). */
  dns: boolean;
}

/** What a network create request asks for (POST /networks/create, validated by the server). */
export interface NetworkCreateRequest {
  name: string;
  driver: string;
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  ipam: { subnet: string; gateway: string; ipRange: string }[];
  enableIPv6: boolean;
}

/** A name the embedded DNS knows: one container's endpoint on one network. */
interface DnsEntry {
  ip: string;
  name: string;
  /** Lower-case names it answers to: container name, aliases, short id, hostname. */
  names: string[];
  /** The container's --dns servers (forwarding upstreams), [] for the host's. */
  dns: string[];
  /** The container's --dns-search domains, [] for the host's. */
  search: string[];
}

/** The network a container's NetworkMode names: `bridge` for `default`. */
export const networkNameOf = (mode: string): string => (mode === 'default' || mode === '' ? 'bridge' : mode);

const BUILTIN = new Set(['bridge', 'host', 'none']);
/** True for `bridge`, `host` and `none` (and `default`). */
export const isPredefinedNetwork = (name: string): boolean => BUILTIN.has(name) || name === 'default';
/** Modes that give a container no endpoint of its own. */
const isSharedMode = (mode: string): boolean => mode === 'host' || mode === 'none' || mode.startsWith('container:');

const now = (): string => new Date().toISOString();
const DNS_TTL = 600;
const emptyConfig = (): EndpointConfig => ({ aliases: [], ipv4Address: '', macAddress: '' });
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** Docker's DNSNames for an endpoint: name, aliases, short id, hostname (lower-case, no repeats). */
export function dnsNamesOf(rec: Pick<ContainerRecord, 'id' | 'name' | 'hostname'>, aliases: readonly string[]): string[] {
  return [...new Set([rec.name, ...aliases, rec.id.slice(0, 12), rec.hostname].filter(Boolean))];
}

/**
 * The networks a new container will join, in order (the NetworkMode's first), from its spec.
 * invalid-argument or conflict with dockerd's messages for what dockerd refuses at create.
 */
export function planEndpoints(spec: ContainerSpec): { network: string; config: EndpointConfig }[] {
  const raw = spec.host.networkMode || 'default';
  const mode = networkNameOf(raw);
  const eps = spec.endpoints ?? {};
  const primaryKeys = new Set([raw, mode, 'default']);
  const extra = Object.keys(eps).filter((k) => !primaryKeys.has(k));
  if (isSharedMode(mode)) {
    if (extra.length) {
      throw conflict(mode === 'none'
        ? 'container cannot be connected to multiple networks with one of the networks in private (none) mode'
        : 'container sharing network namespace with another container or host cannot be connected to any other network');
    }
    return [];
  }
  const primary = eps[raw] ?? eps[mode] ?? eps.default ?? emptyConfig();
  const out = [{ network: mode, config: primary }, ...extra.map((k) => ({ network: k, config: eps[k]! }))];
  for (const { network, config } of out) {
    if (network === 'host' || network === 'none') throw conflict('container cannot be disconnected from host network or connected to host network');
    validateEndpointConfig(network, config);
  }
  return out;
}

/** dockerd's checks of one endpoint request. */
export function validateEndpointConfig(network: string, c: EndpointConfig): void {
  if (network === 'bridge' || network === 'default') {
    if (c.aliases.length) throw invalid('network-scoped alias is supported only for containers in user defined networks');
    if (c.ipv4Address) throw invalid('user specified IP address is supported on user defined networks only');
  }
  if (c.ipv4Address) ipToInt(c.ipv4Address);
  if (c.macAddress && !MAC_RE.test(c.macAddress)) throw invalid(`invalid MAC address: ${c.macAddress}`);
}

/** The networks a container joins at start (records older than user networks: its NetworkMode's). */
export function endpointRequests(rec: ContainerRecord): { network: string; config: EndpointConfig }[] {
  if (rec.netConfig) return rec.netConfig;
  const mode = networkNameOf(rec.spec.host.networkMode);
  return isSharedMode(mode) ? [] : [{ network: mode, config: emptyConfig() }];
}

/**
 * A container's resolv.conf. `host` is the host's file. With `embedded` (the address of the
 * embedded DNS) the container asks it and it forwards to `dns` or the host's servers, as dockerd's
 * internal resolver does; otherwise the host's file without loopback servers, with `dns` replacing them.
 */
export function resolvConfFor(host: string, s: { dns: string[]; dnsSearch: string[]; dnsOptions: string[] }, opts: { hostNet: boolean; embedded?: string; hostPath?: string }): string {
  const lines = host.split('\n');
  const nameservers = lines.map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((x): x is string => !!x);
  const search = s.dnsSearch.length ? s.dnsSearch : lines.flatMap((l) => /^\s*(?:search|domain)\s+(.*)$/.exec(l)?.[1]?.trim().split(/\s+/) ?? []);
  const options = s.dnsOptions.length ? s.dnsOptions : lines.flatMap((l) => /^\s*options\s+(.*)$/.exec(l)?.[1]?.trim().split(/\s+/) ?? []);
  if (opts.embedded) {
    // compat: dockerd's internal resolver; ndots:0 unless asked otherwise
    const opt = options.some((o) => o.startsWith('ndots:')) ? options : [...options, 'ndots:0'];
    const ext = s.dns.length ? s.dns : nameservers;
    return [
      `nameserver ${opts.embedded}`,
      ...(search.length ? [`search ${search.join(' ')}`] : []),
      `options ${opt.join(' ')}`,
      '',
      `# Based on host file: '${opts.hostPath ?? '/etc/resolv.conf'}' (internal resolver)`,
      `# ExtServers: [${ext.map((x) => `host(${x})`).join(' ')}]`,
      '',
    ].join('\n');
  }
  let out = host;
  // compat: like docker, drop loopback resolvers the container cannot reach (it has its own lo)
  if (!opts.hostNet) out = out.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l)).join('\n');
  if (s.dns.length || s.dnsSearch.length || s.dnsOptions.length) {
    const kept = out.split('\n').filter((l) => !(s.dns.length && /^\s*nameserver/.test(l)) && !(s.dnsSearch.length && /^\s*(search|domain)/.test(l)) && !(s.dnsOptions.length && /^\s*options/.test(l)));
    out = [
      ...kept.filter(Boolean),
      ...s.dns.map((d) => `nameserver ${d}`),
      ...(s.dnsSearch.length ? [`search ${s.dnsSearch.join(' ')}`] : []),
      ...(s.dnsOptions.length ? [`options ${s.dnsOptions.join(' ')}`] : []),
    ].join('\n');
  }
  return out.endsWith('\n') ? out : `${out}\n`;
}

const isLive = (r: ContainerRecord): boolean => r.state.status === 'running' || r.state.status === 'paused';

export class NetworkService {
  /** Bridge networks by id (the default one too). */
  readonly #nets = new Map<string, BridgeNet>();
  #defaultId?: string;
  readonly #ports: PortAllocator;
  readonly #dns: EmbeddedDns;
  readonly #iso?: IsolationFirewall;
  /** The embedded DNS's view: network id → container id → its names and address there. */
  readonly #dnsIndex = new Map<string, Map<string, DnsEntry>>();
  #hostResolv = { mtimeMs: -1, text: '', search: [] as string[] };

  constructor(private readonly d: NetworkServiceDeps) {
    this.#ports = new PortAllocator(d.reservePort ?? reservePort);
    this.#dns = new EmbeddedDns({ answer: (l, c, q) => this.#answer(l, c, q), upstreams: (l, c) => this.#upstreams(l, c) }, d.log, d.config.dnsPort ?? 53);
    if (d.config.iptables) this.#iso = new IsolationFirewall(`${chainNames(d.config.bridge === 'none' ? 'berth0' : d.config.bridge).dnat}-ISO`);
  }

  get #resolvPath(): string {
    return this.d.config.resolvConf || '/etc/resolv.conf';
  }

  /** The host's resolver configuration (re-read when the file changes). */
  async hostResolvConf(): Promise<string> {
    const st = await stat(this.#resolvPath).catch(() => undefined);
    if (!st) return '';
    if (st.mtimeMs !== this.#hostResolv.mtimeMs) {
      const text = await readFile(this.#resolvPath, 'utf8').catch(() => '');
      const search = text.split('\n').flatMap((l) => /^\s*(?:search|domain)\s+(.*)$/.exec(l)?.[1]?.trim().toLowerCase().split(/\s+/) ?? []);
      this.#hostResolv = { mtimeMs: st.mtimeMs, text, search };
    }
    return this.#hostResolv.text;
  }

  /** The path of the host's resolver configuration berthd reads. */
  get resolvConfPath(): string {
    return this.#resolvPath;
  }

  /**
   * At daemon start, before containers are reconciled: the built-in networks' records, the
   * default bridge (picking a free subnet the first time), the bridges of user-defined networks,
   * their firewall rules (refilled with the published ports of containers recorded as running so a
   * restart of berthd drops no traffic), isolation and the embedded DNS listeners.
   */
  async init(): Promise<void> {
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (!this.d.meta.networkIdByName(name)) this.#put({ id: newId(), name, driver, created: now(), bridge: '', subnet: '', gateway: '', ipRange: '', mtu: 0, internal: false, labels: {}, options: {} });
    }
    const cfg = this.d.config;
    if (cfg.iptables) await setSysctl('net/ipv4/ip_forward', '1'); // containers need forwarding to reach beyond the bridge (dockerd's --ip-forward)
    if (cfg.bridge !== 'none') await this.#initDefault();
    const live = this.d.meta.listContainers<ContainerRecord>().filter(isLive);
    for (const rec of this.list()) {
      if (rec.driver !== 'bridge' || rec.name === 'bridge') continue;
      await this.#bringUp(rec, live).catch((err: unknown) => this.d.log.error({ err, network: rec.name }, 'could not set up network'));
    }
    await this.#isolate();
  }

  async #initDefault(): Promise<void> {
    const cfg = this.d.config;
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
      const free = pickFreeSubnet(DEFAULT_POOLS, await this.#takenSubnets(cfg.bridge));
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
    this.#defaultId = rec.id;
    await this.#bringUp(rec, this.d.meta.listContainers<ContainerRecord>().filter(isLive));
  }

  /** Create or repair a bridge network's host side: the bridge, its rules, its DNS listener. */
  async #bringUp(rec: NetworkRecord, live: readonly ContainerRecord[]): Promise<BridgeNet> {
    const cfg = this.d.config;
    const subnet = parseCidr(rec.subnet).cidr;
    const net: BridgeNet = {
      rec, subnet, range: rec.ipRange ? parseCidr(rec.ipRange).cidr : subnet, dns: false,
      driver: new BridgeDriver({ bridge: rec.bridge, gatewayCidr: `${rec.gateway}/${subnet.prefix}`, mtu: rec.mtu, routeLocalnet: cfg.iptables }),
      firewall: cfg.iptables ? new IptablesFirewall(rec.bridge, rec.subnet, { internal: rec.internal }) : undefined,
    };
    await net.driver.setup();
    await net.firewall?.rebuild(this.#forwards(live, rec.id));
    this.#nets.set(rec.id, net);
    if (rec.name !== 'bridge') {
      try {
        await this.#dns.listen(rec.gateway);
        net.dns = true;
      } catch (err) {
        // containers then get the host's resolvers: names of other containers do not resolve
        if (!isBindError(err)) throw err;
        this.d.log.warn({ err, network: rec.name, address: rec.gateway }, 'embedded DNS cannot listen on the gateway: containers of this network get the host\'s resolvers');
      }
    }
    return net;
  }

  /** Subnets in use: the host's routes (but the bridge's own) and every network of ours. */
  async #takenSubnets(ownBridge?: string): Promise<Cidr[]> {
    const routes = (await hostRoutes()).filter((r) => r.dev !== ownBridge).map((r) => parseCidr(r.dst).cidr);
    return [...routes, ...this.list().filter((n) => n.subnet && n.bridge !== ownBridge).map((n) => parseCidr(n.subnet).cidr)];
  }

  async #isolate(): Promise<void> {
    await this.#iso?.apply([...this.#nets.values()].map((n) => ({ bridge: n.rec.bridge, internal: n.rec.internal })));
  }

  #put(n: NetworkRecord): void {
    this.d.meta.putNetwork(n.id, n.name, n);
  }

  /** Port forwards of live containers on network `id`. */
  #forwards(recs: readonly ContainerRecord[], id: string): { ip: string; ports: NetworkAttachment['ports'] }[] {
    return recs.filter(isLive).flatMap((r) => attachmentsOf(r).filter((a) => a.networkId === id && a.ports.length)).map((a) => ({ ip: a.endpoint.ip, ports: a.ports }));
  }

  list(): NetworkRecord[] {
    return this.d.meta.listNetworks<NetworkRecord>();
  }

  /** A network by full id, name or unique id prefix, as dockerd's FindNetwork. not-found `network x not found`. */
  get(idOrName: string): NetworkRecord {
    const all = this.list();
    const n = all.find((x) => x.id === idOrName) ?? all.find((x) => x.name === idOrName);
    if (n) return n;
    const m = idOrName ? all.filter((x) => x.id.startsWith(idOrName)) : [];
    if (m.length > 1) throw invalid(`network ${idOrName} is ambiguous (${m.length} matches found based on ID prefix)`);
    if (!m[0]) throw new BerthError('not-found', `network ${idOrName} not found`);
    return m[0];
  }

  /** Gateway of the default bridge ('' when disabled), e.g. for `host-gateway`. */
  get gateway(): string {
    return (this.#defaultId && this.#nets.get(this.#defaultId)?.rec.gateway) || '';
  }

  /** Containers (live records) with an endpoint on network `id`. */
  #usersOf(id: string): ContainerRecord[] {
    return this.d.meta.listContainers<ContainerRecord>().filter((r) => isLive(r) && attachmentsOf(r).some((a) => a.networkId === id));
  }

  // ---------- user-defined networks ----------

  /**
   * Create a bridge network: record first, then the bridge, its rules and DNS listener (a crash in
   * between leaves a record that init() brings up). Errors with dockerd's texts: forbidden for a
   * predefined name or an overlapping pool, conflict for a taken name, not-found for another driver.
   */
  async create(req: NetworkCreateRequest): Promise<{ id: string; warning: string }> {
    const name = req.name;
    if (!name) throw invalid('invalid name: network name cannot be empty');
    if (isPredefinedNetwork(name)) throw new BerthError('forbidden', `operation is not permitted on predefined ${name} network `);
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw invalid(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (this.d.meta.networkIdByName(name)) throw conflict(`network with name ${name} already exists`);
    const driver = req.driver || 'bridge';
    if (driver === 'host' || driver === 'null' || driver === 'none') throw new BerthError('forbidden', `only one instance of "${driver}" network is allowed`);
    if (driver !== 'bridge') throw new BerthError('not-found', `plugin "${driver}" not found`);
    if (req.enableIPv6) throw new BerthError('not-implemented', 'IPv6 networks are not supported by berth');
    if (this.d.config.bridge === 'none' && !this.d.config.iptables) this.d.log.debug({}, 'creating a network without the default bridge');
    const v4 = req.ipam.filter((c) => !c.subnet.includes(':') && !c.gateway.includes(':'));
    if (v4.length !== req.ipam.length) throw new BerthError('not-implemented', 'IPv6 subnets are not supported by berth');
    if (v4.length > 1) throw new BerthError('not-implemented', 'berth supports one IPv4 subnet per network');
    const want = v4[0];
    if (want && !want.subnet && (want.gateway || want.ipRange)) throw invalid('invalid network config: a gateway or ip-range needs a subnet');

    const id = newId();
    let subnet: Cidr;
    const taken = await this.#takenSubnets();
    if (want?.subnet) {
      const p = parseCidr(want.subnet);
      if (p.ip !== p.cidr.base) throw invalid(`invalid network config:\ninvalid subnet ${want.subnet}: it should be ${cidrString(p.cidr)}`);
      subnet = p.cidr;
      if (cidrSize(subnet) < 4) throw invalid(`invalid network config:\ninvalid subnet ${want.subnet}: it has no room for addresses`);
      // compat: dockerd refuses a pool that overlaps another network's
      if (this.list().some((n) => n.subnet && overlaps(parseCidr(n.subnet).cidr, subnet))) throw new BerthError('forbidden', 'invalid pool request: Pool overlaps with other one on this address space');
    } else {
      const free = pickFreeSubnet(DEFAULT_POOLS, taken);
      if (!free) throw new BerthError('forbidden', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
      subnet = free;
    }
    let range = subnet;
    if (want?.ipRange) {
      const r = parseCidr(want.ipRange);
      if (r.ip !== r.cidr.base) throw invalid(`invalid network config:\ninvalid ip-range ${want.ipRange}: it should be ${cidrString(r.cidr)}`);
      if (r.cidr.prefix < subnet.prefix) throw invalid(`invalid network config:\ninvalid ip-range ${want.ipRange}: CIDR block is bigger than its parent subnet ${cidrString(subnet)}`);
      if (!overlaps(subnet, r.cidr)) throw invalid(`invalid network config:\ninvalid ip-range ${want.ipRange}: parent subnet ${cidrString(subnet)} doesn't contain ip-range`);
      range = r.cidr;
    }
    let gateway = subnet.base + 1;
    if (want?.gateway) {
      gateway = ipToInt(want.gateway);
      if (!contains(subnet, gateway)) throw invalid(`invalid network config:\ninvalid gateway ${want.gateway}: parent subnet ${cidrString(subnet)} doesn't contain this address`);
    }
    const bridge = req.options['com.docker.network.bridge.name'] || `br-${id.slice(0, 12)}`;
    if (bridge.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(bridge)) throw invalid(`invalid bridge name: ${bridge}`);
    if (this.list().some((n) => n.bridge === bridge)) throw conflict(`bridge name ${bridge} is already used by another network`);
    const mtuOpt = req.options['com.docker.network.driver.mtu'];
    const mtu = mtuOpt ? Number(mtuOpt) : this.d.config.mtu;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw invalid(`invalid mtu: ${mtuOpt}`);
    const rec: NetworkRecord = {
      id, name, driver: 'bridge', created: now(), bridge, subnet: cidrString(subnet), gateway: intToIp(gateway),
      ipRange: want?.ipRange ? cidrString(range) : '', mtu, internal: req.internal, labels: req.labels, options: req.options,
      userSubnet: !!want?.subnet,
    };
    this.#put(rec);
    try {
      await this.#bringUp(rec, []);
      await this.#isolate();
    } catch (err) {
      await this.#tearDown(rec).catch(() => {});
      this.d.meta.deleteNetwork(id);
      throw err;
    }
    this.d.events.emit('network', 'create', id, { name, type: 'bridge' });
    return { id, warning: '' };
  }

  async #tearDown(rec: NetworkRecord): Promise<void> {
    const net = this.#nets.get(rec.id);
    this.#nets.delete(rec.id);
    this.#dnsIndex.delete(rec.id);
    this.#dns.close(rec.gateway);
    if (net) {
      await net.firewall?.teardown();
      await net.driver.destroy();
    } else {
      if (this.d.config.iptables) await new IptablesFirewall(rec.bridge, rec.subnet).teardown();
      await new BridgeDriver({ bridge: rec.bridge, gatewayCidr: '', mtu: rec.mtu, routeLocalnet: false }).destroy();
    }
    await this.#isolate();
  }

  /**
   * Remove a user-defined network. forbidden for a predefined one and, as dockerd says it, while
   * containers are connected (`error while removing network: network x has active endpoints (…)`).
   */
  async remove(idOrName: string): Promise<void> {
    const n = this.get(idOrName);
    // compat: dockerd's answer for the built-in networks
    if (isPredefinedNetwork(n.name)) throw new BerthError('forbidden', `${n.name} is a pre-defined network and cannot be removed`);
    const users = this.#usersOf(n.id);
    if (users.length) {
      const eps = users.map((r) => {
        const a = attachmentsOf(r).find((x) => x.networkId === n.id)!;
        return `name:${JSON.stringify(r.name)} id:${JSON.stringify(a.endpointId.slice(0, 12))}`;
      });
      // compat: dockerd's ActiveEndpointsError is a Forbidden error (403)
      throw new BerthError('forbidden', `error while removing network: network ${n.name} has active endpoints (${eps.join(', ')})`);
    }
    await this.#tearDown(n);
    this.d.meta.deleteNetwork(n.id);
    this.d.events.emit('network', 'destroy', n.id, { name: n.name, type: n.driver });
  }

  /** Remove user-defined networks no running container uses that `match` accepts; their names. */
  async prune(match: (n: NetworkRecord) => boolean = () => true): Promise<string[]> {
    const out: string[] = [];
    for (const n of this.list()) {
      if (isPredefinedNetwork(n.name) || !match(n) || this.#usersOf(n.id).length) continue;
      try {
        await this.remove(n.id);
        out.push(n.name);
      } catch (err) {
        this.d.log.warn({ err, network: n.name }, 'prune: network not removed');
      }
    }
    return out;
  }

  // ---------- endpoints ----------

  #net(name: string): BridgeNet {
    if ((name === 'bridge' || name === 'default') && !this.#defaultId) throw invalid('the default bridge network is disabled (berthd -b none)');
    const n = this.get(name);
    const net = this.#nets.get(n.id);
    if (!net) {
      if (n.name === 'bridge') throw invalid('the default bridge network is disabled (berthd -b none)');
      if (n.driver !== 'bridge') throw conflict('container cannot be disconnected from host network or connected to host network');
      throw new BerthError('unavailable', `network ${n.name} is not set up: see berthd's log`);
    }
    return net;
  }

  /** Take an address on `net` for container `owner`: the one asked for, or the lowest free one. */
  #allocate(net: BridgeNet, owner: string, want: string): string {
    const gw = ipToInt(net.rec.gateway);
    if (want) {
      if (net.rec.name === 'bridge') throw invalid('user specified IP address is supported on user defined networks only');
      // compat: dockerd accepts --ip only on networks created with --subnet
      if (!net.rec.userSubnet) throw invalid('user specified IP address is supported only when connecting to networks with user configured subnets');
      const ip = ipToInt(want);
      if (!contains(net.subnet, ip) || ip === net.subnet.base || ip === net.subnet.base + cidrSize(net.subnet) - 1) throw invalid(`no configured subnet or ip-range contain the IP address ${want}`);
      const got = this.d.meta.allocateAddress(net.rec.id, owner, (used) => (used.has(want) || ip === gw ? undefined : want));
      // compat: libnetwork's ErrIPAlreadyAllocated
      if (!got) throw conflict('Address already in use');
      return got;
    }
    const picked = this.d.meta.allocateAddress(net.rec.id, owner, (used) => {
      const ip = nextFreeAddress(net.subnet, net.range, new Set([...used].map(ipToInt).concat(gw)));
      return ip === undefined ? undefined : intToIp(ip);
    });
    if (!picked) throw new BerthError('unavailable', `no available IPv4 addresses on network ${net.rec.name} (${net.rec.subnet})`);
    return picked;
  }

  #endpoint(net: BridgeNet, rec: ContainerRecord, index: number, config: EndpointConfig): NetworkAttachment {
    const ip = this.#allocate(net, rec.id, config.ipv4Address);
    return {
      networkId: net.rec.id, networkName: net.rec.name, endpointId: newId(), ports: [],
      ...(config.aliases.length ? { aliases: [...config.aliases] } : {}),
      ...(config.ipv4Address ? { requestedIp: config.ipv4Address } : {}),
      endpoint: {
        hostIf: newVethName(), containerIf: `eth${index}`, ip, prefixLen: net.subnet.prefix, gateway: net.rec.gateway,
        macAddress: config.macAddress.toLowerCase() || macForIp(ipToInt(ip)), mtu: net.rec.mtu,
      },
    };
  }

  /** The endpoint that carries the default route (and the published ports): the first not on an internal network. */
  #gatewayOf(atts: readonly NetworkAttachment[]): NetworkAttachment | undefined {
    return atts.find((a) => this.#nets.get(a.networkId)?.rec.internal === false);
  }

  /**
   * Before a container starts: an address on each of its networks and its host ports. [] for
   * modes without an endpoint (host, none, container:…). conflict when a host port or an address
   * is taken, not-found for a network that does not exist; nothing is held then.
   */
  async attach(rec: ContainerRecord): Promise<NetworkAttachment[]> {
    const reqs = endpointRequests(rec);
    if (!reqs.length) return [];
    this.release(rec.id);
    const atts: NetworkAttachment[] = [];
    try {
      reqs.forEach(({ network, config }, i) => {
        const net = this.#net(network);
        if (atts.some((a) => a.networkId === net.rec.id)) return;
        validateEndpointConfig(net.rec.name, config);
        atts.push(this.#endpoint(net, rec, i, config));
      });
    } catch (err) {
      this.release(rec.id);
      throw err;
    }
    const gw = this.#gatewayOf(atts);
    if (gw) {
      try {
        gw.ports = await this.#ports.allocate(rec.id, requestedPorts(rec.spec.host.portBindings, rec.exposedPorts, rec.spec.host.publishAllPorts), gw.endpoint.ip);
      } catch (err) {
        this.release(rec.id);
        // compat: dockerd's wording, which clients show as is
        throw wrap(err, `driver failed programming external connectivity on endpoint ${rec.name} (${gw.endpointId})`);
      }
    }
    return atts;
  }

  /** After the runtime created the container (init pid known), before it starts: plug it in. */
  async connect(rec: ContainerRecord, atts: readonly NetworkAttachment[], pid: number): Promise<void> {
    if (!atts.length) return;
    const t0 = performance.now();
    const gw = this.#gatewayOf(atts);
    // independent: the DNAT rules may exist before the veth does
    await Promise.all(atts.flatMap((a) => {
      const net = this.#nets.get(a.networkId);
      if (!net) return [];
      return [net.driver.join(a.endpoint, `/proc/${pid}/ns/net`, { defaultRoute: a === gw }), ...(a.ports.length ? [net.firewall?.add({ ip: a.endpoint.ip, ports: a.ports })] : [])];
    }));
    this.d.log.debug({ id: rec.id, ms: +(performance.now() - t0).toFixed(1) }, 'network connected');
    for (const a of atts) {
      this.#indexAdd(rec, a);
      this.d.events.emit('network', 'connect', a.networkId, { container: rec.id, name: a.networkName, type: 'bridge' });
    }
  }

  /** After an exit or a failed start: unplug, drop the port rules, free the addresses and ports. Idempotent. */
  async disconnect(rec: ContainerRecord): Promise<void> {
    for (const a of attachmentsOf(rec)) {
      const net = this.#nets.get(a.networkId);
      this.#dnsIndex.get(a.networkId)?.delete(rec.id);
      if (!net) continue;
      await net.firewall?.remove({ ip: a.endpoint.ip, ports: a.ports }).catch((err: unknown) => this.d.log.warn({ err, id: rec.id }, 'removing port rules failed'));
      await net.driver.leave(a.endpoint).catch((err: unknown) => this.d.log.warn({ err, id: rec.id }, 'removing the veth failed'));
      this.d.events.emit('network', 'disconnect', a.networkId, { container: rec.id, name: a.networkName, type: 'bridge' });
    }
    this.release(rec.id);
  }

  /**
   * `network connect` of a running container: a new interface (the lowest free ethN) with an
   * address, the default route when the container has none yet. The caller records the attachment.
   */
  async connectRunning(rec: ContainerRecord, network: string, config: EndpointConfig, pid: number): Promise<NetworkAttachment> {
    const net = this.#net(network);
    validateEndpointConfig(net.rec.name, config);
    const atts = attachmentsOf(rec);
    const used = new Set(atts.map((a) => a.endpoint.containerIf));
    let i = 0;
    while (used.has(`eth${i}`)) i++;
    const att = this.#endpoint(net, rec, i, config);
    try {
      await net.driver.join(att.endpoint, `/proc/${pid}/ns/net`, { defaultRoute: !this.#gatewayOf(atts) && !net.rec.internal });
    } catch (err) {
      this.d.meta.releaseAddress(net.rec.id, rec.id);
      throw err;
    }
    this.#indexAdd(rec, att);
    this.d.events.emit('network', 'connect', net.rec.id, { container: rec.id, name: net.rec.name, type: 'bridge' });
    return att;
  }

  /**
   * `network disconnect` of a running container: the interface goes (waited for), its address and
   * published ports are freed, and the default route moves to the next endpoint that can carry it.
   */
  async disconnectRunning(rec: ContainerRecord, att: NetworkAttachment, pid: number): Promise<void> {
    const atts = attachmentsOf(rec);
    const net = this.#nets.get(att.networkId);
    this.#dnsIndex.get(att.networkId)?.delete(rec.id);
    if (net) {
      await net.firewall?.remove({ ip: att.endpoint.ip, ports: att.ports }).catch((err: unknown) => this.d.log.warn({ err, id: rec.id }, 'removing port rules failed'));
      await net.driver.leave(att.endpoint, { wait: true });
    }
    if (att.ports.length) this.#ports.release(rec.id);
    this.d.meta.releaseAddress(att.networkId, rec.id);
    if (this.#gatewayOf(atts) === att) {
      const next = this.#gatewayOf(atts.filter((a) => a !== att));
      if (next) await BridgeDriver.setDefaultRoute(`/proc/${pid}/ns/net`, { gateway: next.endpoint.gateway, dev: next.endpoint.containerIf }).catch((err: unknown) => this.d.log.warn({ err, id: rec.id }, 'moving the default route failed'));
    }
    this.d.events.emit('network', 'disconnect', att.networkId, { container: rec.id, name: att.networkName, type: 'bridge' });
  }

  /** Free the addresses and host ports a container holds, without touching interfaces or rules. */
  release(id: string): void {
    this.#ports.release(id);
    this.d.meta.releaseAddresses(id);
  }

  /** A container was renamed: the embedded DNS answers to the new name. */
  renamed(rec: ContainerRecord): void {
    for (const a of attachmentsOf(rec)) if (this.#dnsIndex.get(a.networkId)?.has(rec.id)) this.#indexAdd(rec, a);
  }

  /**
   * After containers are reconciled at daemon start: free addresses nobody running holds, hold
   * the host ports of running containers again, rebuild the rules from them, refill the DNS
   * index, and delete veths that belong to no running container (a crash between steps).
   */
  async reconcile(recs: readonly ContainerRecord[]): Promise<void> {
    const live = recs.filter((r) => isLive(r) && attachmentsOf(r).length);
    const held = new Set(live.flatMap((r) => attachmentsOf(r).map((a) => `${a.networkId} ${r.id}`)));
    for (const a of this.d.meta.listAllocations()) if (!held.has(`${a.networkId} ${a.owner}`)) this.d.meta.releaseAddress(a.networkId, a.owner);
    this.#dnsIndex.clear();
    for (const r of live) {
      for (const att of attachmentsOf(r)) {
        this.#indexAdd(r, att);
        if (!att.ports.length || this.#ports.portsOf(r.id).length) continue;
        const fixed = att.ports.map((p) => ({ proto: p.proto, containerPort: p.containerPort, hostIp: p.hostIp, hostPortFrom: p.hostPort, hostPortTo: p.hostPort }));
        await this.#ports.allocate(r.id, fixed, att.endpoint.ip).catch((err: unknown) => this.d.log.warn({ err, id: r.id }, 'could not hold a published port again'));
      }
    }
    for (const net of this.#nets.values()) {
      await net.firewall?.rebuild(this.#forwards(live, net.rec.id));
      const keep = new Set(live.flatMap((r) => attachmentsOf(r).filter((a) => a.networkId === net.rec.id).map((a) => a.endpoint.hostIf)));
      const stale = await net.driver.prune(keep);
      if (stale.length) this.d.log.info({ stale, network: net.rec.name }, 'removed stale veths');
    }
    await this.#isolate();
  }

  /** True when `ip` is inside the default bridge's subnet (tests, diagnostics). */
  onBridge(ip: string): boolean {
    const net = this.#defaultId ? this.#nets.get(this.#defaultId) : undefined;
    return !!net && contains(net.subnet, ipToInt(ip));
  }

  /** Stop the embedded DNS (daemon shutdown; bridges and rules stay for the running containers). */
  close(): void {
    this.#dns.closeAll();
  }

  // ---------- embedded DNS ----------

  /** The address of the embedded DNS for a container with these endpoints, when one of its networks has it. */
  dnsServerFor(atts: readonly NetworkAttachment[]): string | undefined {
    for (const a of atts) {
      const net = this.#nets.get(a.networkId);
      if (net?.dns) return net.rec.gateway;
    }
    return undefined;
  }

  #indexAdd(rec: ContainerRecord, a: NetworkAttachment): void {
    const net = this.#nets.get(a.networkId);
    if (!net?.dns) return;
    let m = this.#dnsIndex.get(a.networkId);
    if (!m) this.#dnsIndex.set(a.networkId, (m = new Map()));
    m.set(rec.id, { ip: a.endpoint.ip, name: rec.name, names: dnsNamesOf(rec, a.aliases ?? []).map((x) => x.toLowerCase()), dns: rec.spec.host.dns, search: rec.spec.host.dnsSearch.map((x) => x.toLowerCase()) });
  }

  /** The querying container (by the gateway asked and its address) and its networks, asked one first. */
  #client(local: string, client: string): { entry: DnsEntry; nets: BridgeNet[] } | undefined {
    const first = [...this.#nets.values()].find((n) => n.dns && n.rec.gateway === local);
    if (!first) return undefined;
    const found = [...(this.#dnsIndex.get(first.rec.id) ?? [])].find(([, e]) => e.ip === client);
    if (!found) return undefined;
    const [cid, entry] = found;
    const nets = [first, ...[...this.#nets.values()].filter((n) => n !== first && n.dns && this.#dnsIndex.get(n.rec.id)?.has(cid))];
    return { entry, nets };
  }

  #answer(local: string, client: string, q: DnsQuestion): { rcode: number; answers: DnsAnswer[] } | undefined {
    const c = this.#client(local, client);
    if (!c || q.class !== 1) return undefined;
    if (q.type === DNS_TYPE.PTR) {
      const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(q.name);
      if (!m) return undefined;
      const ip = [m[4], m[3], m[2], m[1]].join('.');
      for (const net of c.nets) {
        for (const e of this.#dnsIndex.get(net.rec.id)?.values() ?? []) {
          if (e.ip === ip) return { rcode: DNS_RCODE.NOERROR, answers: [{ type: 'PTR', ttl: DNS_TTL, target: `${e.name}.${net.rec.name}` }] };
        }
      }
      return undefined;
    }
    if (q.type !== DNS_TYPE.A && q.type !== DNS_TYPE.AAAA && q.type !== DNS_TYPE.ANY) return undefined;
    // `name.search-domain`: a resolver that tried the container's search domains first (busybox nslookup does)
    const search = c.entry.search.length ? c.entry.search : this.#hostResolv.search;
    const base = search.filter((d) => q.name.endsWith(`.${d}`)).map((d) => q.name.slice(0, -d.length - 1));
    for (const net of c.nets) {
      const suffix = `.${net.rec.name.toLowerCase()}`;
      const wanted = [q.name, ...base].flatMap((n) => (n.endsWith(suffix) ? [n, n.slice(0, -suffix.length)] : [n]));
      const ips = [...(this.#dnsIndex.get(net.rec.id)?.values() ?? [])].filter((e) => wanted.some((w) => e.names.includes(w))).map((e) => e.ip);
      if (!ips.length) continue;
      // compat: a container name has no IPv6 address here: an empty answer, not a forwarded query
      if (q.type === DNS_TYPE.AAAA) return { rcode: DNS_RCODE.NOERROR, answers: [] };
      return { rcode: DNS_RCODE.NOERROR, answers: ips.map((ip) => ({ type: 'A' as const, ttl: DNS_TTL, ip })) };
    }
    return undefined;
  }

  async #upstreams(local: string, client: string): Promise<string[]> {
    const c = this.#client(local, client);
    if (c?.entry.dns.length) return c.entry.dns;
    const text = await this.hostResolvConf();
    return text.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((x): x is string => !!x);
  }

  /** True when the bridge device of network `id` exists (tests, diagnostics). */
  async bridgeExists(id: string): Promise<boolean> {
    const n = this.#nets.get(id);
    return !!n && linkExists(n.rec.bridge);
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
