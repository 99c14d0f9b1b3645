// IPv4 address arithmetic and allocation decisions. Pure: persistence is the caller's (the engine
// keeps allocations in the metadata store), so these functions only pick.
import { invalid } from '../common/index.ts';

/** An IPv4 subnet: `base` is the network address as a 32-bit unsigned integer. */
export interface Cidr {
  base: number;
  prefix: number;
}

export function ipToInt(ip: string): number {
  const p = ip.split('.');
  if (p.length !== 4 || !p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255)) throw invalid(`invalid IPv4 address: ${ip}`);
  return p.reduce((n, x) => n * 256 + Number(x), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const mask = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** `10.1.2.3/24` → the address and its subnet. invalid-argument when malformed. */
export function parseCidr(s: string): { ip: number; cidr: Cidr } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m || Number(m[2]) > 32) throw invalid(`invalid CIDR address: ${s}`);
  const ip = ipToInt(m[1]!);
  const prefix = Number(m[2]);
  return { ip, cidr: { base: (ip & mask(prefix)) >>> 0, prefix } };
}

export const cidrString = (c: Cidr): string => `${intToIp(c.base)}/${c.prefix}`;
export const cidrSize = (c: Cidr): number => 2 ** (32 - c.prefix);
export const contains = (c: Cidr, ip: number): boolean => ((ip & mask(c.prefix)) >>> 0) === c.base;
export const overlaps = (a: Cidr, b: Cidr): boolean => contains(a, b.base) || contains(b, a.base);

/** Docker's default address pools for the default bridge, in the order it tries them. */
export const DEFAULT_POOLS: readonly string[] = [
  ...Array.from({ length: 15 }, (_, i) => `172.${17 + i}.0.0/16`),
  ...Array.from({ length: 16 }, (_, i) => `192.168.${i * 16}.0/20`),
];

/** The first pool overlapping none of `taken` (the host's routes and addresses). */
export function pickFreeSubnet(pools: readonly string[], taken: readonly Cidr[]): Cidr | undefined {
  for (const p of pools) {
    const { cidr } = parseCidr(p);
    if (!taken.some((t) => overlaps(t, cidr))) return cidr;
  }
  return undefined;
}

/**
 * The lowest free host address in `range` (itself inside `subnet`), skipping the network and
 * broadcast addresses of `subnet` and every address in `used`. undefined when exhausted.
 */
export function nextFreeAddress(subnet: Cidr, range: Cidr, used: ReadonlySet<number>): number | undefined {
  const first = Math.max(range.base, subnet.base + 1);
  const last = Math.min(range.base + cidrSize(range) - 1, subnet.base + cidrSize(subnet) - 2);
  for (let ip = first; ip <= last; ip++) if (!used.has(ip)) return ip;
  return undefined;
}

/** Docker's MAC for a bridge endpoint: 02:42 followed by the four bytes of the IPv4 address. */
export function macForIp(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
