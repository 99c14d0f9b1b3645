// The embedded DNS server of user-defined networks. Docker listens on 127.0.0.11 inside every
// container's namespace (a socket opened in the netns by a locked OS thread, plus iptables DNAT of
// port 53 in that namespace); berth listens once per network, on the bridge's gateway address, so a
// container costs nothing extra (no socket, no process, no iptables run per start). The address a
// query arrives on names the network and the source address names the container.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { isErrno, type Logger } from '../common/index.ts';
import { DNS_RCODE, encodeError, encodeResponse, parseQuery, type DnsAnswer, type DnsQuestion } from './dns.ts';

/** What the server asks its owner (the network service). */
export interface DnsResolver {
  /**
   * Answer `q` from the networks of the container at `client` (reached through the listener on
   * `local`): records, or an rcode with none. undefined means "not a name of ours": forward it.
   */
  answer(local: string, client: string, q: DnsQuestion): { rcode: number; answers: DnsAnswer[] } | undefined;
  /** The servers to forward other names to, for this client (`ip` or `ip:port`). */
  upstreams(local: string, client: string): Promise<string[]>;
}

const FORWARD_TIMEOUT_MS = 2000;
const MAX_TCP_CLIENTS = 64;

interface Listener {
  udp: UdpSocket;
  tcp: Server;
}

const hostPort = (s: string): { host: string; port: number } => {
  const m = /^(.*):(\d+)$/.exec(s);
  return m && !m[1]!.includes(':') ? { host: m[1]!, port: Number(m[2]) } : { host: s, port: 53 };
};

/**
 * UDP and TCP listeners on chosen addresses (port 53 by default). Names of the querying
 * container's networks are answered by the resolver; everything else is relayed, byte for byte,
 * to the upstream servers (UDP for UDP, TCP for TCP), trying each in turn.
 */
export class EmbeddedDns {
  readonly #listeners = new Map<string, Listener>();
  #tcpClients = 0;

  constructor(readonly resolver: DnsResolver, readonly log: Logger, readonly port = 53) {}

  /** Addresses being served. */
  get addresses(): string[] {
    return [...this.#listeners.keys()];
  }

  /**
   * Serve on `address` (idempotent). Throws the bind error (EADDRINUSE when something else
   * holds port 53 there, EADDRNOTAVAIL when the address is not the host's); nothing stays open then.
   */
  async listen(address: string): Promise<void> {
    if (this.#listeners.has(address)) return;
    const udp = createSocket({ type: 'udp4', reuseAddr: true });
    const tcp = createServer((c) => this.#onTcp(address, c));
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address, port: this.port, exclusive: true }, () => resolve());
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: address, port: this.port, exclusive: true }, () => resolve());
      });
    } catch (err) {
      udp.close();
      tcp.close();
      throw err;
    }
    udp.on('error', (err) => this.log.warn({ err, address }, 'dns socket error'));
    tcp.on('error', (err) => this.log.warn({ err, address }, 'dns listener error'));
    udp.on('message', (msg, rinfo) => void this.#onUdp(address, udp, msg, rinfo.address, rinfo.port));
    udp.unref();
    tcp.unref();
    this.#listeners.set(address, { udp, tcp });
  }

  /** Stop serving on `address` (no-op when not served). */
  close(address: string): void {
    const l = this.#listeners.get(address);
    if (!l) return;
    this.#listeners.delete(address);
    l.udp.close();
    l.tcp.close();
  }

  closeAll(): void {
    for (const a of [...this.#listeners.keys()]) this.close(a);
  }

  /** The answer to one message, or undefined to stay silent. */
  async #handle(local: string, client: string, msg: Buffer, tcp: boolean): Promise<Buffer | undefined> {
    let q;
    try {
      q = parseQuery(msg);
    } catch {
      return encodeError(msg, DNS_RCODE.FORMERR);
    }
    const own = this.resolver.answer(local, client, q.question);
    this.log.debug({ client, name: q.question.name, type: q.question.type, answers: own?.answers.length }, own ? 'dns: answered' : 'dns: forwarding');
    if (own) return encodeResponse(q, own.rcode, own.answers);
    const ups = await this.resolver.upstreams(local, client);
    for (const u of ups) {
      const r = await (tcp ? forwardTcp(u, msg) : forwardUdp(u, msg)).catch((err: unknown) => {
        this.log.debug({ err, upstream: u, name: q.question.name }, 'dns: upstream failed');
        return undefined;
      });
      if (r) return r;
    }
    return encodeError(msg, DNS_RCODE.SERVFAIL);
  }

  async #onUdp(local: string, sock: UdpSocket, msg: Buffer, client: string, port: number): Promise<void> {
    const out = await this.#handle(local, client, msg, false).catch((err: unknown) => {
      this.log.warn({ err }, 'dns query failed');
      return encodeError(msg, DNS_RCODE.SERVFAIL);
    });
    if (out && this.#listeners.get(local)?.udp === sock) sock.send(out, port, client);
  }

  #onTcp(local: string, c: Socket): void {
    if (this.#tcpClients >= MAX_TCP_CLIENTS) {
      c.destroy();
      return;
    }
    this.#tcpClients++;
    c.on('close', () => this.#tcpClients--);
    c.on('error', () => c.destroy());
    c.setTimeout(10_000, () => c.destroy());
    const client = c.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    let buf = Buffer.alloc(0);
    let busy = Promise.resolve();
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        // answers go out in the order the questions came
        busy = busy.then(async () => {
          const out = await this.#handle(local, client, msg, true).catch(() => encodeError(msg, DNS_RCODE.SERVFAIL));
          if (out && !c.destroyed) c.write(Buffer.concat([lengthPrefix(out.length), out]));
        });
      }
    });
  }
}

const lengthPrefix = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
};

/** One UDP exchange with `server`; rejects on timeout. The reply must carry the query's id. */
function forwardUdp(server: string, msg: Buffer): Promise<Buffer> {
  const { host, port } = hostPort(server);
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const done = (err?: Error, reply?: Buffer): void => {
      clearTimeout(timer);
      s.close();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => done(new Error(`dns: ${server} did not answer`)), FORWARD_TIMEOUT_MS);
    s.on('error', (err) => done(err));
    s.on('message', (reply) => {
      if (reply.length >= 2 && reply.readUInt16BE(0) === msg.readUInt16BE(0)) done(undefined, reply);
    });
    // connected, so an ICMP "port unreachable" fails at once (ECONNREFUSED) instead of timing out
    s.connect(port, host, () => s.send(msg, (err) => {
      if (err) done(err);
    }));
  });
}

/** One TCP exchange (2-byte length prefix) with `server`; rejects on timeout or a short reply. */
function forwardTcp(server: string, msg: Buffer): Promise<Buffer> {
  const { host, port } = hostPort(server);
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => s.destroy(new Error(`dns: ${server} did not answer`)), FORWARD_TIMEOUT_MS);
    s.on('connect', () => s.end(Buffer.concat([lengthPrefix(msg.length), msg])));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        s.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`dns: ${server} closed the connection`));
    });
  });
}

/** True for the errors `listen` throws when port 53 cannot be had on an address. */
export const isBindError = (err: unknown): boolean => isErrno(err, 'EADDRINUSE') || isErrno(err, 'EADDRNOTAVAIL') || isErrno(err, 'EACCES');
