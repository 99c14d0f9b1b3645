import { createServer, connect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { BerthError, isErrno } from '../common/index.ts';
import type { PortReservation, PublishedPort } from './ports.ts';

/**
 * Reserve a published host port by binding it in berthd, as dockerd does: nothing else on the
 * host can take it while the container runs, and a port in use is found before the container
 * starts. Kernel DNAT carries the traffic; a TCP connection that DNAT does not catch (one from a
 * container to the bridge's own address) reaches this socket and is relayed to the container.
 */
export async function reservePort(p: PublishedPort, target: { ip: string; port: number }): Promise<PortReservation | undefined> {
  try {
    if (p.proto === 'tcp') {
      // half-open both ways: a client that shuts down its sending side still gets the answer
      const server = createServer({ allowHalfOpen: true }, (c) => relay(c, target));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: p.hostIp, port: p.hostPort, exclusive: true }, () => resolve());
      });
      server.on('error', () => {});
      server.unref();
      return { close: () => void server.close() };
    }
    if (p.proto === 'udp') {
      const sock = createSocket({ type: 'udp4' });
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ address: p.hostIp, port: p.hostPort, exclusive: true }, () => resolve());
      });
      sock.on('error', () => {});
      sock.unref();
      return { close: () => sock.close() };
    }
    return { close: () => {} };
  } catch (err) {
    if (isErrno(err, 'EADDRINUSE')) return undefined;
    if (isErrno(err, 'EADDRNOTAVAIL')) throw new BerthError('invalid-argument', `cannot publish on ${p.hostIp}:${p.hostPort}: no such address on the host`);
    throw err;
  }
}

function relay(c: Socket, target: { ip: string; port: number }): void {
  const up = connect({ port: target.port, host: target.ip, allowHalfOpen: true });
  const done = (): void => {
    c.destroy();
    up.destroy();
  };
  c.on('error', done);
  up.on('error', done);
  c.on('close', () => up.destroySoon());
  up.on('close', () => c.destroySoon());
  c.pipe(up);
  up.pipe(c);
}
