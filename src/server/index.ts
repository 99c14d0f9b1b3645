import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/index.ts';
import { Router } from './router.ts';
import type { Backends } from './backends.ts';
import { systemRoutes } from './routes/system.ts';
import { containerRoutes } from './routes/containers.ts';
import { imageRoutes } from './routes/images.ts';
import { volumeRoutes } from './routes/volumes.ts';

export type { Backends } from './backends.ts';
export { API_VERSION, MIN_API_VERSION } from './router.ts';

/** The Engine API as a request handler, over whatever backends it is given. */
export function createApiRouter(b: Backends, log: Logger): Router {
  const r = new Router(log);
  systemRoutes(r, b);
  containerRoutes(r, b);
  imageRoutes(r, b);
  volumeRoutes(r, b);
  return r;
}

/** An http.Server for the Engine API; upgraded requests (attach, exec start) get the raw socket. */
export function createApiServer(b: Backends, log: Logger): Server {
  const router = createApiRouter(b, log);
  const server = createServer({ keepAlive: true }, (req, res) => void router.handle(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const res = new ServerResponse(req);
    res.assignSocket(socket as import('node:net').Socket);
    void router.handle(req, res, { socket, head });
  });
  // compat: the docker CLI half-closes attach connections when its stdin ends
  server.on('connection', (s) => (s.allowHalfOpen = true));
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  return server;
}
