import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BerthError, run } from '../../common/index.ts';
import type { Endpoint, NetworkDriver } from '../driver.ts';
import { addressesOf, bridgePorts, ipBatch, linkExists, setSysctl } from '../netlink.ts';

export interface BridgeOptions {
  /** Bridge device name (`berth0`), at most 15 characters. */
  bridge: string;
  /** The bridge's own address with the subnet's prefix: `172.17.0.1/16`. */
  gatewayCidr: string;
  mtu: number;
  /** Let 127.0.0.1 reach published ports through DNAT (net.ipv4.conf.<bridge>.route_localnet). */
  routeLocalnet: boolean;
}

/** A random locally administered unicast MAC address. */
const randomMac = (): string => ['02', ...[...randomBytes(5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');

/** A veth name for the host side: `veth` and 7 random hex digits, as dockerd names them. */
export const newVethName = (): string => `veth${randomBytes(4).toString('hex').slice(0, 7)}`;

/** A Linux bridge on the host; each endpoint is a veth pair with `eth0` inside the container. */
export class BridgeDriver implements NetworkDriver {
  readonly name = 'bridge';
  constructor(readonly opts: BridgeOptions) {}

  async setup(): Promise<void> {
    const { bridge, gatewayCidr, mtu } = this.opts;
    const lines: string[] = [];
    // A bridge without an address of its own takes the lowest one of its ports, so it changes
    // when that container leaves and the others keep a stale ARP entry for the gateway (their
    // DNS and default route stop for ~30 s). A set address stays (addr_assign_type 3 = NET_ADDR_SET).
    if (!(await linkExists(bridge))) lines.push(`link add ${bridge} address ${randomMac()} mtu ${mtu} type bridge`);
    else if ((await readFile(`/sys/class/net/${bridge}/addr_assign_type`, 'utf8').catch(() => '3')).trim() !== '3') lines.push(`link set ${bridge} address ${randomMac()}`);
    const have = await addressesOf(bridge);
    // the bridge is berth's (by name): an address from an older --bip is replaced
    for (const a of have) if (a !== gatewayCidr) lines.push(`addr del ${a} dev ${bridge}`);
    if (!have.includes(gatewayCidr)) lines.push(`addr add ${gatewayCidr} dev ${bridge}`);
    lines.push(`link set ${bridge} up`);
    await ipBatch(lines);
    if (this.opts.routeLocalnet) await setSysctl(`net/ipv4/conf/${bridge}/route_localnet`, '1');
  }

  async join(ep: Endpoint, netnsPath: string, opts: { defaultRoute?: boolean } = {}): Promise<void> {
    const { bridge } = this.opts;
    const index = (await readFile(`/sys/class/net/${bridge}/ifindex`, 'utf8').catch(() => '')).trim();
    if (!index) throw new BerthError('unavailable', `bridge ${bridge} is gone: restart berthd to recreate it`);
    // One process (~7 ms), run inside the container's namespace: the host end is born in berthd's
    // namespace (`netns`), enslaved to the bridge by index (`master ifN`: the name means nothing
    // in here) and up; the peer is born here as eth0. Two batches, one per side, cost twice that.
    await ipBatch([
      `link add ${ep.hostIf} netns /proc/${process.pid}/ns/net master if${index} mtu ${ep.mtu} up type veth peer name ${ep.containerIf} address ${ep.macAddress} mtu ${ep.mtu}`,
      `addr add ${ep.ip}/${ep.prefixLen} dev ${ep.containerIf}`,
      'link set lo up',
      `link set ${ep.containerIf} up`,
      ...(opts.defaultRoute === false ? [] : [`route add default via ${ep.gateway} dev ${ep.containerIf}`]),
    ], netnsPath);
  }

  async leave(ep: Endpoint, opts: { wait?: boolean } = {}): Promise<void> {
    // The kernel drops the pair when the namespace dies, asynchronously; a namespace kept alive
    // (by a stray process) keeps it. Deleting it is not waited for: the next endpoint gets a new
    // name, and reconcile prunes what a crash leaves. A disconnect from a running container waits.
    if (!ep.hostIf || !(await linkExists(ep.hostIf))) return;
    const del = run('ip', ['link', 'del', ep.hostIf], { allowFail: true });
    if (opts.wait) await del;
    else void del.catch(() => {});
  }

  async prune(keep: ReadonlySet<string>): Promise<string[]> {
    const stale = (await bridgePorts(this.opts.bridge)).filter((p) => !keep.has(p));
    if (stale.length) await ipBatch(stale.map((p) => `link del ${p}`)).catch(() => {});
    return stale;
  }

  /** Point the default route of the namespace at `netnsPath` through `via` on `dev`, or remove it (`via` undefined). */
  static async setDefaultRoute(netnsPath: string, via?: { gateway: string; dev: string }): Promise<void> {
    // `route del` fails when there is none; -force keeps the batch going
    const r = await run('nsenter', [`--net=${netnsPath}`, 'ip', '-force', '-batch', '-'], {
      input: `route del default\n${via ? `route add default via ${via.gateway} dev ${via.dev}\n` : ''}`, allowFail: true,
    });
    if (via && r.code !== 0 && !/No such process/.test(r.stderr)) throw new BerthError('internal', `setting the default route: ${r.stderr.trim()}`);
  }

  /** Delete the bridge device itself (tests; a removed network). */
  async destroy(): Promise<void> {
    if (await linkExists(this.opts.bridge)) await run('ip', ['link', 'del', this.opts.bridge], { allowFail: true });
  }
}
