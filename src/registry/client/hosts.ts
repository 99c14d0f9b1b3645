// Which scheme and TLS settings each registry host gets: Docker's rules for insecure registries
// (loopback is insecure by default), a CA directory per host, Docker Hub's API host.
import { readdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BerthError, isErrno } from '../../common/index.ts';

export interface RegistrySettings {
  /** `--insecure-registry`: hosts (`host:port`) or IPv4 CIDRs; plain http and unverified TLS are allowed for them. */
  insecure: string[];
  /** `--registry-mirror`: pulls try these first, in order, then the registry itself. */
  mirrors: Mirror[];
  /** Per-registry TLS material: `<certsDir>/<host[:port]>/*.crt` are CAs, `client.cert` + `client.key` a client pair. */
  certsDir: string;
  /** Blobs larger than this go up in PATCH chunks of this many bytes; smaller ones in one PUT. */
  chunkSize: number;
}

/** A pull-through mirror of one registry (`docker.io` for Docker's plain `--registry-mirror URL`). */
export interface Mirror {
  registry: string;
  url: URL;
}

/**
 * `--registry-mirror` / daemon.json `registry-mirrors`: `URL` mirrors Docker Hub (Docker's meaning);
 * `REGISTRY=URL` (berth's extension) mirrors any registry, `127.0.0.1:5000=http://127.0.0.1:6000`.
 * The URL is http(s) without path, query or fragment, as dockerd requires. invalid-argument otherwise.
 */
export function parseMirror(v: string): Mirror {
  const eq = v.indexOf('=');
  const registry = eq > 0 && !v.slice(0, eq).includes('://') ? v.slice(0, eq).trim() : 'docker.io';
  const raw = eq > 0 && !v.slice(0, eq).includes('://') ? v.slice(eq + 1).trim() : v.trim();
  if (!registry || /[\s/]/.test(registry)) throw new BerthError('invalid-argument', `invalid mirror: bad registry name in ${JSON.stringify(v)}`);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new BerthError('invalid-argument', `invalid mirror: ${JSON.stringify(raw)} is not a valid URI`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BerthError('invalid-argument', `invalid mirror: unsupported scheme ${JSON.stringify(u.protocol.slice(0, -1))} in ${JSON.stringify(raw)}`);
  if (u.pathname !== '/' || u.search || u.hash) throw new BerthError('invalid-argument', `invalid mirror: path, query, or fragment at end of the URI ${JSON.stringify(raw)}`);
  return { registry: domainOfServerAddress(registry), url: new URL(`${u.origin}/`) };
}

/** A mirror as configured and shown by `docker info`: the URL alone for Docker Hub, else `REGISTRY=URL`. */
export const mirrorString = (m: Mirror): string => (m.registry === 'docker.io' ? m.url.href : `${m.registry}=${m.url.href}`);

/** Docker's default insecure range; `localhost` resolves into it, so it is insecure too. */
export const DEFAULT_INSECURE = ['127.0.0.0/8', '::1/128', 'localhost'];

/** The registry host a domain's API is served on (`docker.io` is Docker Hub's index name). */
export function apiHost(domain: string): string {
  return domain === 'docker.io' ? 'registry-1.docker.io' : domain;
}

/** The key credentials for `domain` are kept under in a docker config.json and sent as `serveraddress`. */
export function credentialKey(domain: string): string {
  return domain === 'docker.io' ? 'https://index.docker.io/v1/' : domain;
}

/** `https://index.docker.io/v1/`, `https://127.0.0.1:5000`, `127.0.0.1:5000/`: the registry domain a login names. */
export function domainOfServerAddress(addr: string): string {
  let s = addr.trim();
  if (s === '') return 'docker.io';
  s = s.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (s === 'index.docker.io' || s === 'registry-1.docker.io' || s === 'docker.io') return 'docker.io';
  return s;
}

function hostPart(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const i = host.lastIndexOf(':');
  return i > -1 && host.indexOf(':') === i ? host.slice(0, i) : host;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsStr] = cidr.split('/');
  const bits = Number(bitsStr);
  if (!net || !Number.isInteger(bits)) return false;
  if (isIP(ip) === 4 && isIP(net) === 4) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (ipv4ToInt(ip) & mask) === (ipv4ToInt(net) & mask);
  }
  if (isIP(ip) === 6 && isIP(net) === 6) return bits === 128 && ip === net; // only exact IPv6 entries
  return false;
}

/** True when `host` (`host[:port]`) may use plain http and unverified TLS. */
export function isInsecure(host: string, insecure: readonly string[]): boolean {
  const h = hostPart(host);
  for (const entry of insecure) {
    if (entry.includes('/')) {
      if (inCidr(h, entry)) return true;
    } else if (entry === host || entry === h) {
      return true;
    }
  }
  return false;
}

export interface TlsMaterial {
  ca?: string[];
  cert?: string;
  key?: string;
}

/** TLS material from `<certsDir>/<host>/` (Docker's certs.d layout); empty when the dir is absent. */
export async function tlsMaterial(certsDir: string, host: string): Promise<TlsMaterial> {
  const dir = join(certsDir, host.replace(/[/\\]/g, '_'));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return {};
    throw err;
  }
  const out: TlsMaterial = {};
  const cas: string[] = [];
  for (const n of names.sort()) {
    if (n.endsWith('.crt')) cas.push(await readFile(join(dir, n), 'utf8'));
  }
  // node:tls only when needed: importing it (its rootCertificates above all) costs ~2 MiB of idle RSS
  if (cas.length) out.ca = [...(createRequire(import.meta.url)('node:tls') as typeof import('node:tls')).rootCertificates, ...cas];
  if (names.includes('client.cert') && names.includes('client.key')) {
    out.cert = await readFile(join(dir, 'client.cert'), 'utf8');
    out.key = await readFile(join(dir, 'client.key'), 'utf8');
  }
  return out;
}
