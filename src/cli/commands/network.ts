import type { Command } from 'commander';
import type { IPAMConfig } from '../../api/index.ts';
import { action, forEachArg, group, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { filterValue, keyValueMap, listOption, parseFilters } from '../opts.ts';
import { confirm } from '../prompt.ts';
import { NETWORK_HEADERS, NETWORK_TABLE, networkView, renderList } from '../views.ts';
import { ClientError } from '../../client/index.ts';
import { registerInspect } from './inspect.ts';
import { naturalCompare } from './port.ts';

/** pflag's `strings`: each value may hold several, comma-separated. */
const splitList = (xs: string[]): string[] => xs.flatMap((x) => x.split(',')).filter(Boolean);

/** IPv4 `a.b.c.d/n` or an address, as numbers for containment tests (IPv6 is left to the daemon). */
function v4(s: string): { base: number; bits: number } | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(s);
  if (!m) return undefined;
  const ip = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const bits = m[5] === undefined ? 32 : Number(m[5]);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (ip & mask) >>> 0, bits };
}
const within = (subnet: string, x: string): boolean => {
  const s = v4(subnet);
  const a = v4(x);
  if (!s || !a) return false;
  const mask = s.bits === 0 ? 0 : (0xffffffff << (32 - s.bits)) >>> 0;
  return ((a.base & mask) >>> 0) === s.base;
};

/** The docker CLI's createIPAMConfig: each range and gateway goes to the subnet that contains it; its words. */
export function consolidateIpam(subnets: string[], ranges: string[], gateways: string[]): IPAMConfig[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
  const data = new Map<string, IPAMConfig>();
  for (const s of subnets) {
    for (const o of data.keys()) if (within(o, s) || within(s, o)) throw new Error('multiple overlapping subnet configuration is not supported');
    data.set(s, { Subnet: s, AuxiliaryAddresses: {} });
  }
  const assign = (values: string[], field: 'IPRange' | 'Gateway', what: string): void => {
    for (const v of values) {
      let match = false;
      for (const s of subnets) {
        if (!within(s, v)) continue;
        const d = data.get(s)!;
        if (d[field]) {
          throw new Error(field === 'IPRange'
            ? `cannot configure multiple ranges (${v}, ${d[field]}) on the same subnet (${s})`
            : `cannot configure multiple gateways (${v}, ${d[field]}) for the same subnet (${s})`);
        }
        d[field] = v;
        match = true;
      }
      if (!match) throw new Error(`no matching subnet for ${what} ${v}`);
    }
  };
  assign(ranges, 'IPRange', 'range');
  assign(gateways, 'Gateway', 'gateway');
  return [...data.values()];
}

interface CreateOpts {
  driver: string;
  opt: string[];
  label: string[];
  subnet: string[];
  gateway: string[];
  ipRange: string[];
  internal?: boolean;
  attachable?: boolean;
  ingress?: boolean;
  ipv6?: boolean;
  ipamDriver: string;
  ipamOpt: string[];
  scope?: string;
  configOnly?: boolean;
  configFrom?: string;
}

/** `network create|ls|inspect|rm|connect|disconnect|prune`. */
export function registerNetwork(parent: Command, ctx: CliContext): Command {
  const net = group(parent, 'network', 'Manage networks');

  const create = verb(net, 'create', '[OPTIONS] NETWORK', 'Create a network', { min: 1, max: 1 });
  create
    .option('--attachable', 'Enable manual container attachment')
    .option('--config-from <string>', 'The network from which to copy the configuration')
    .option('--config-only', 'Create a configuration only network')
    .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
    .option('--ingress', 'Create swarm routing-mesh network')
    .option('--internal', 'Restrict external access to the network')
    .option('--ipam-driver <string>', 'IP Address Management Driver', 'default')
    .option('--ipv6', 'Enable or disable IPv6 address assignment')
    .option('--scope <string>', "Control the network's scope");
  listOption(create, '--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet');
  listOption(create, '--ip-range <strings>', 'Allocate container ip from a sub-range');
  listOption(create, '--ipam-opt <map>', 'Set IPAM driver specific options');
  listOption(create, '--label <list>', 'Set metadata on a network');
  listOption(create, '-o, --opt <map>', 'Set driver specific options');
  listOption(create, '--subnet <strings>', 'Subnet in CIDR format that represents a network segment');
  action<CreateOpts>(create, async ([name = ''], o) => {
    const config = consolidateIpam(splitList(o.subnet), splitList(o.ipRange), splitList(o.gateway));
    const res = await ctx.client.networkCreate({
      Name: name, Driver: o.driver, Options: keyValueMap(o.opt), Labels: keyValueMap(o.label),
      IPAM: { Driver: o.ipamDriver, Config: config, Options: keyValueMap(o.ipamOpt) },
      Internal: !!o.internal, EnableIPv6: !!o.ipv6, Attachable: !!o.attachable, Ingress: !!o.ingress, Scope: o.scope ?? '',
      ConfigOnly: !!o.configOnly, ConfigFrom: o.configFrom ? { Network: o.configFrom } : null,
    });
    if (res.Warning) ctx.err(`${res.Warning}\n`);
    ctx.out(`${res.Id}\n`);
  });

  const ls = verb(net, 'ls', '[OPTIONS]', 'List networks', { max: 0 }).aliases(['list']);
  ls.option('--format <string>', 'Format output using a custom template')
    .option('--no-trunc', 'Do not truncate the output')
    .option('-q, --quiet', 'Only display network IDs');
  listOption(ls, '-f, --filter <filter>', "Provide filter values (e.g. 'driver=bridge')", filterValue);
  action<{ format?: string; trunc?: boolean; quiet?: boolean; filter: string[] }>(ls, async (_args, o) => {
    const list = await ctx.client.networkList({ filters: parseFilters(o.filter) });
    let format = o.format ?? '';
    if (o.quiet && (format === '' || format === 'table')) format = '{{.ID}}';
    // compat: the docker CLI sorts networks by name, naturally
    const sorted = [...list].sort((a, b) => naturalCompare(a.Name ?? '', b.Name ?? ''));
    ctx.out(renderList(format, NETWORK_TABLE, sorted.map((n) => networkView(n, o.trunc === false)), NETWORK_HEADERS));
  });

  registerInspect(net, ctx, 'inspect', 'network');

  const rm = verb(net, 'rm', 'NETWORK [NETWORK...]', 'Remove one or more networks', { min: 1 }).aliases(['remove']);
  rm.option('-f, --force', 'Do not error if the network does not exist');
  action<{ force?: boolean }>(rm, async (args, o) => {
    await forEachArg(ctx, args, async (n) => {
      try {
        await ctx.client.networkRemove(n);
      } catch (err) {
        if (o.force && err instanceof ClientError && err.status === 404) return undefined;
        throw err;
      }
      return n;
    // compat: docker 28 ends with a StatusError that has no text, printed as `exit status 1`
    }, { failSummary: () => 'exit status 1' });
  });

  const connect = verb(net, 'connect', '[OPTIONS] NETWORK CONTAINER', 'Connect a container to a network', { min: 2, max: 2 });
  connect.option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")').option('--ip6 <string>', 'IPv6 address (e.g., "2001:db8::33")');
  listOption(connect, '--alias <strings>', 'Add network-scoped alias for the container');
  listOption(connect, '--driver-opt <strings>', 'driver options for the network');
  listOption(connect, '--link <list>', 'Add link to another container');
  listOption(connect, '--link-local-ip <strings>', 'Add a link-local address for the container');
  action<{ ip?: string; ip6?: string; alias: string[]; driverOpt: string[]; link: string[]; linkLocalIp: string[] }>(connect, async ([network = '', container = ''], o) => {
    const lli = splitList(o.linkLocalIp);
    await ctx.client.networkConnect(network, {
      Container: container,
      EndpointConfig: {
        IPAMConfig: { IPv4Address: o.ip ?? '', IPv6Address: o.ip6 ?? '', ...(lli.length ? { LinkLocalIPs: lli } : {}) },
        Links: o.link.length ? o.link : null,
        Aliases: splitList(o.alias).length ? splitList(o.alias) : null,
        DriverOpts: o.driverOpt.length ? keyValueMap(splitList(o.driverOpt)) : null,
      },
    });
  });

  const disconnect = verb(net, 'disconnect', '[OPTIONS] NETWORK CONTAINER', 'Disconnect a container from a network', { min: 2, max: 2 });
  disconnect.option('-f, --force', 'Force the container to disconnect from a network');
  action<{ force?: boolean }>(disconnect, async ([network = '', container = ''], o) => {
    await ctx.client.networkDisconnect(network, { Container: container, Force: !!o.force });
  });

  const prune = verb(net, 'prune', '[OPTIONS]', 'Remove all unused networks', { max: 0 });
  prune.option('-f, --force', 'Do not prompt for confirmation');
  listOption(prune, '--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>')", filterValue);
  action<{ force?: boolean; filter: string[] }>(prune, async (_args, o) => {
    if (!o.force && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.'))) return;
    const report = await ctx.client.networkPrune(parseFilters(o.filter));
    // compat: the report, then the blank line of docker's Fprintln
    if (report.NetworksDeleted?.length) ctx.out(`Deleted Networks:\n${report.NetworksDeleted.map((n) => `${n}\n`).join('')}\n`);
  });
  return net;
}
