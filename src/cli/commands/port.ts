import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { StatusError } from '../errors.ts';

function joinHostPort(ip: string, port: string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Natural order ("80/tcp" before "443/tcp"), as docker's sortorder.NaturalLess. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) return Number(x) - Number(y) || x.length - y.length;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** `port CONTAINER [PRIVATE_PORT[/PROTO]]`: `80/tcp -> 0.0.0.0:8080` lines, or the bindings of one port. */
export function registerPort(parent: Command, ctx: CliContext, name = 'port'): Command {
  const cmd = verb(parent, name, 'CONTAINER [PRIVATE_PORT[/PROTO]]', 'List port mappings or a specific mapping for the container', { min: 1, max: 2 });
  return action(cmd, async ([c = '', spec]) => {
    const info = await ctx.client.containerInspect(c);
    const ports = info.NetworkSettings?.Ports ?? {};
    const out: string[] = [];
    if (spec) {
      const [port = '', proto = 'tcp'] = spec.split('/');
      if (!/^\d+$/.test(port) || Number(port) > 65535) {
        throw new StatusError(`Error: invalid port (${port}): strconv.ParseUint: parsing ${JSON.stringify(port)}: invalid syntax`, 1);
      }
      const frontends = ports[`${port}/${proto || 'tcp'}`];
      if (!frontends?.length) throw new StatusError(`Error: No public port '${spec}' published for ${c}`, 1);
      for (const f of frontends) out.push(joinHostPort(f.HostIp ?? '', f.HostPort ?? ''));
    } else {
      for (const [from, frontends] of Object.entries(ports)) {
        for (const f of frontends ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp ?? '', f.HostPort ?? '')}`);
      }
    }
    if (out.length) ctx.out(`${out.sort(naturalCompare).join('\n')}\n`);
  });
}
