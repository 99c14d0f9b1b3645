import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/index.ts';
import { Router } from './router.ts';
import type { Backends } from './backends.ts';
import { systemRoutes } from './routes/system.ts';
import { containerRoutes } from './routes/containers.ts';
import { imageRoutes } from './routes/images.ts';
import { volumeRoutes } from './routes/volumes.ts';
import { execRoutes } from './routes/exec.ts';
import { networkRoutes } from './routes/networks.ts';
import { buildRoutes } from './routes/build.ts';

export type { Backends } from './backends.ts';
export { API_VERSION, MIN_API_VERSION } from './router.ts';

/** The Engine API as a request handler, over whatever backends it is given. */
export function createApiRouter(b: Backends, log: Logger): Router {
  const r = new Router(log);
  systemRoutes(r, b);
  containerRoutes(r, b);
  imageRoutes(r, b);
  volumeRoutes(r, b);
  execRoutes(r, b);
  networkRoutes(r, b);
  buildRoutes(r, b);
  return r;
}

/** An http.Server for the Engine API; upgraded requests (attach, exec start) get the raw socket. */
export function createApiServer(b: Backends, log: Logger): Server {
  const router = createApiRouter(b, log);
  const server = createServer({ keepAlive: true }, (req, res) => void router.handle(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const res = new ServerResponse(req);
    res.assignSocket(socket as import('node:net').Socket);
    // compat: the docker CLI sends exec start's JSON body on the upgraded connection; node hands it
    // over in `head`, so split it off before the rest becomes the container's stdin
    const length = Number(req.headers['content-length'] ?? 0);
    void readUpgradeBody(socket, head, Number.isFinite(length) ? Math.min(length, 1 << 20) : 0).then(
      ({ body, rest }) => router.handle(req, res, { socket, head: rest, body }),
      () => socket.destroy(),
    );
  });
  // compat: the docker CLI half-closes attach connections when its stdin ends
  server.on('connection', (s) => (s.allowHalfOpen = true));
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  return server;
}

async function readUpgradeBody(socket: Duplex, head: Buffer, length: number): Promise<{ body: Buffer; rest: Buffer }> {
  let buf = head;
  while (buf.length < length) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (d: Buffer): void => {
        socket.pause();
        cleanup();
        resolve(d);
      };
      const onEnd = (): void => {
        cleanup();
        resolve(null);
      };
      const cleanup = (): void => {
        socket.off('data', onData);
        socket.off('end', onEnd);
      };
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.resume();
    });
    if (!chunk) break;
    buf = Buffer.concat([buf, chunk]);
  }
  return { body: buf.subarray(0, length), rest: buf.subarray(length) };
}
