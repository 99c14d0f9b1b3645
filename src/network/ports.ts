// Published ports: what a container asks for (-p, -P), and host-port allocation with Docker's
// conflict rules and messages.
import { BerthError, invalid } from '../common/index.ts';

export type PortProto = 'tcp' | 'udp' | 'sctp';

/** A host port forwarded to a container port; `hostIp` is `0.0.0.0` for every address. */
export interface PublishedPort {
  proto: PortProto;
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

/** One port to publish, before allocation: `hostPortFrom`/`To` 0 ask for an ephemeral port. */
export interface PortRequest {
  proto: PortProto;
  containerPort: number;
  hostIp: string;
  hostPortFrom: number;
  hostPortTo: number;
}

/** `80/tcp` → its number and protocol (tcp when omitted). invalid-argument when malformed. */
export function parsePortKey(key: string): { port: number; proto: PortProto } {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(key.trim());
  const port = Number(m?.[1]);
  if (!m || port < 1 || port > 65535) throw invalid(`invalid port specification: "${key}"`);
  return { port, proto: (m[2]?.toLowerCase() ?? 'tcp') as PortProto };
}

function parseHostPort(s: string): [number, number] {
  // compat: "0" asks for an ephemeral port like "" (testcontainers sends it)
  if (s === '' || s === '0') return [0, 0];
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  const from = Number(m?.[1]);
  const to = m?.[2] ? Number(m[2]) : from;
  if (!m || from < 1 || to > 65535 || to < from) throw invalid(`invalid hostPort: ${s}`);
  return [from, to];
}

/**
 * The ports to publish: every PortBindings entry (the CLI has already expanded `-p` ranges into
 * one key per container port), plus, with `-P`, each exposed port that has no binding.
 */
export function requestedPorts(
  bindings: Record<string, { hostIp: string; hostPort: string }[]>,
  exposed: readonly string[],
  publishAll: boolean,
): PortRequest[] {
  const out: PortRequest[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    const { port, proto } = parsePortKey(key);
    for (const b of list.length ? list : [{ hostIp: '', hostPort: '' }]) {
      const hostIp = b.hostIp || '0.0.0.0';
      if (hostIp.includes(':')) throw new BerthError('not-implemented', `IPv6 host address ${hostIp} is not supported for published ports`);
      const [from, to] = parseHostPort(b.hostPort);
      out.push({ proto, containerPort: port, hostIp, hostPortFrom: from, hostPortTo: to });
    }
  }
  if (publishAll) {
    for (const key of exposed) {
      if (bindings[key] || (!key.includes('/') && bindings[`${key}/tcp`])) continue;
      const { port, proto } = parsePortKey(key);
      if (bindings[`${port}/${proto}`]) continue;
      out.push({ proto, containerPort: port, hostIp: '0.0.0.0', hostPortFrom: 0, hostPortTo: 0 });
    }
  }
  return out;
}

/** Holds a host port while it is published (berth keeps the socket bound, as dockerd does). */
export interface PortReservation {
  close(): void;
}
/**
 * Bind `hostIp:port`. Resolves undefined when the port is in use on the host; `target` is where
 * a connection that reaches the socket (one the DNAT rules did not catch) should go.
 */
export type ReservePort = (p: PublishedPort, target: { ip: string; port: number }) => Promise<PortReservation | undefined>;

/** Docker's ephemeral range for published ports. */
export const EPHEMERAL: readonly [number, number] = [32768, 60999];

const overlap = (a: { proto: string; hostIp: string; hostPort: number }, b: { proto: string; hostIp: string; hostPort: number }): boolean =>
  a.proto === b.proto && a.hostPort === b.hostPort && (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0');

/**
 * Host ports berth has handed out, by owner. `allocate` is all or nothing: on failure it releases
 * what it took and throws conflict with Docker's messages.
 */
export class PortAllocator {
  readonly #held = new Map<string, { port: PublishedPort; reservation: PortReservation }[]>();
  #cursor = EPHEMERAL[0];

  constructor(readonly reserve: ReservePort, readonly range: readonly [number, number] = EPHEMERAL) {
    this.#cursor = range[0];
  }

  #taken(p: { proto: string; hostIp: string; hostPort: number }): boolean {
    for (const list of this.#held.values()) if (list.some((h) => overlap(h.port, p))) return true;
    return false;
  }

  /** Ports held by `owner`. */
  portsOf(owner: string): PublishedPort[] {
    return (this.#held.get(owner) ?? []).map((h) => h.port);
  }

  /**
   * Take a host port for each request: the one asked for, the first free one of a range, or the
   * next free ephemeral one (a restore asks for the recorded ports). conflict: `Bind for 0.0.0.0:8080 failed: port is already allocated`
   * (another container of this daemon) or `… address already in use` (something on the host).
   */
  async allocate(owner: string, requests: readonly PortRequest[], target: string): Promise<PublishedPort[]> {
    const got: PublishedPort[] = [];
    const list = this.#held.get(owner) ?? [];
    this.#held.set(owner, list);
    try {
      for (const r of requests) {
        const to = { ip: target, port: r.containerPort };
        if (r.hostPortFrom === 0 || r.hostPortFrom !== r.hostPortTo) {
          const [lo, hi] = r.hostPortFrom === 0 ? this.range : [r.hostPortFrom, r.hostPortTo];
          const span = hi - lo + 1;
          let found: PublishedPort | undefined;
          const start = r.hostPortFrom === 0 ? this.#cursor : lo;
          for (let i = 0; i < span && !found; i++) {
            const hostPort = lo + ((start - lo + i) % span);
            const p: PublishedPort = { proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort };
            if (this.#taken(p)) continue;
            const res = await this.reserve(p, to);
            if (!res) continue;
            list.push({ port: p, reservation: res });
            found = p;
            if (r.hostPortFrom === 0) this.#cursor = hostPort + 1 > hi ? lo : hostPort + 1;
          }
          if (!found) {
            throw new BerthError('conflict', r.hostPortFrom === 0
              ? 'all ports are allocated'
              : `Bind for ${r.hostIp}:${r.hostPortFrom}-${r.hostPortTo} failed: port is already allocated`);
          }
          got.push(found);
          continue;
        }
        const p: PublishedPort = { proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: r.hostPortFrom };
        if (this.#taken(p)) throw new BerthError('conflict', `Bind for ${p.hostIp}:${p.hostPort} failed: port is already allocated`);
        const res = await this.reserve(p, to);
        if (!res) throw new BerthError('conflict', `failed to bind host port for ${p.hostIp}:${p.hostPort}:${target}:${p.containerPort}/${p.proto}: address already in use`);
        list.push({ port: p, reservation: res });
        got.push(p);
      }
      return got;
    } catch (err) {
      this.release(owner);
      throw err;
    }
  }

  /** Give back every port `owner` holds (no-op when none). */
  release(owner: string): void {
    for (const h of this.#held.get(owner) ?? []) h.reservation.close();
    this.#held.delete(owner);
  }
}
