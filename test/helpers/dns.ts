// A tiny authoritative DNS server on a loopback address, port 53 (resolv.conf cannot name a port):
// the "host resolver" of a test daemon, so forwarding is tested without the internet.
import { createSocket, type Socket } from 'node:dgram';
import { DNS_RCODE, DNS_TYPE, encodeResponse, parseQuery } from '../../src/network/index.ts';

export class TinyDns {
  /** Names asked for, in order (lower-case). */
  readonly queries: string[] = [];
  address = '';
  #sock?: Socket;

  /** `records`: name → IPv4 address; every other name is NXDOMAIN. */
  constructor(readonly records: Record<string, string>) {}

  /** Bind a free 127.53.x.y:53. */
  async start(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const addr = `127.53.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
      const s = createSocket('udp4');
      const ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.bind(53, addr, () => resolve(true));
      });
      if (!ok) {
        s.close();
        continue;
      }
      s.on('message', (msg, r) => {
        try {
          const q = parseQuery(msg);
          this.queries.push(q.question.name);
          const ip = this.records[q.question.name];
          const out = ip && q.question.type === DNS_TYPE.A
            ? encodeResponse(q, DNS_RCODE.NOERROR, [{ type: 'A', ttl: 60, ip }])
            : encodeResponse(q, ip ? DNS_RCODE.NOERROR : DNS_RCODE.NXDOMAIN, []);
          s.send(out, r.port, r.address);
        } catch {
          // not a query: stay silent
        }
      });
      this.#sock = s;
      this.address = addr;
      return;
    }
    throw new Error('no free loopback address for the test DNS server');
  }

  close(): void {
    this.#sock?.close();
  }
}
