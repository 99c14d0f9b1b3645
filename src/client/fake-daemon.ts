// A fake Engine API daemon for unit tests of client/ and cli/: an http.Server on a temporary unix
// socket that records every request and answers from a route table. Not exported from index.ts.
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';

export interface RecordedRequest {
  method: string;
  /** Path without the `/v1.xx` prefix and without the query. */
  path: string;
  /** Version prefix as sent (`1.45`), or undefined. */
  version: string | undefined;
  query: Record<string, string | string[]>;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, the raw text for other bodies, undefined for none. */
  body: unknown;
  raw: Buffer;
}

export type Reply =
  | { status?: number; json?: unknown; text?: string; headers?: Record<string, string> }
  | ((req: RecordedRequest, res: http.ServerResponse) => void | Promise<void>);

export type UpgradeHandler = (req: RecordedRequest, socket: Duplex) => void;

/** `'GET /containers/json'` or a RegExp tested against `'<METHOD> <path>'`. */
export type Route = [string | RegExp, Reply];

export class FakeDaemon {
  readonly requests: RecordedRequest[] = [];
  socketPath = '';
  #dir = '';
  #server: http.Server;
  #routes: Route[] = [];
  #upgrades: [string | RegExp, UpgradeHandler][] = [];
  #sockets = new Set<Duplex>();

  constructor(routes: Route[] = []) {
    this.#routes = routes;
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    this.#server.on('upgrade', (req, socket, head) => void this.#upgrade(req, socket, head));
  }

  /** Adds routes; later routes win over earlier ones. */
  route(match: string | RegExp, reply: Reply): this {
    this.#routes.unshift([match, reply]);
    return this;
  }

  /** Handles hijacked requests (attach, exec start) after a `101 UPGRADED` was written. */
  upgrade(match: string | RegExp, handler: UpgradeHandler): this {
    this.#upgrades.unshift([match, handler]);
    return this;
  }

  async start(): Promise<this> {
    this.#dir = await mkdtemp(path.join(tmpdir(), 'berth-fake-'));
    this.socketPath = path.join(this.#dir, 'api.sock');
    await new Promise<void>((resolve) => this.#server.listen(this.socketPath, resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await rm(this.#dir, { recursive: true, force: true });
  }

  /** The recorded `"<METHOD> <path>"` lines, for assertions. */
  get calls(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  async #record(req: http.IncomingMessage): Promise<RecordedRequest> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    let body: unknown;
    if (raw.length) {
      const type = req.headers['content-type'] ?? '';
      if (type.includes('json')) body = JSON.parse(raw.toString('utf8'));
      else body = raw.toString('utf8');
    }
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(m ? (m[2] ?? '/') : url.pathname),
      version: m?.[1],
      query,
      headers: req.headers,
      body,
      raw,
    };
    this.requests.push(rec);
    return rec;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rec = await this.#record(req);
    const key = `${rec.method} ${rec.path}`;
    res.setHeader('Api-Version', '1.45');
    res.setHeader('Ostype', 'linux');
    const route = this.#routes.find(([m]) => (typeof m === 'string' ? m === key : m.test(key)));
    if (!route) {
      if (rec.path === '/_ping') {
        res.end('OK');
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: `page not found` }));
      return;
    }
    const reply = route[1];
    if (typeof reply === 'function') {
      await reply(rec, res);
      return;
    }
    const status = reply.status ?? (reply.json === undefined && reply.text === undefined ? 204 : 200);
    if (reply.json !== undefined) {
      res.writeHead(status, { 'Content-Type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.json) + '\n');
    } else {
      res.writeHead(status, reply.headers);
      res.end(reply.text ?? '');
    }
  }

  async #upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (head.length) socket.unshift(head);
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const query: Record<string, string> = Object.fromEntries(url.searchParams);
    const rec: RecordedRequest = {
      method: req.method ?? 'POST',
      path: m ? (m[2] ?? '/') : url.pathname,
      version: m?.[1],
      query,
      headers: req.headers,
      body: undefined,
      raw: Buffer.alloc(0),
    };
    this.requests.push(rec);
    const key = `${rec.method} ${rec.path}`;
    const found = this.#upgrades.find(([mm]) => (typeof mm === 'string' ? mm === key : mm.test(key)));
    if (!found) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{"message":"no such route"}');
      return;
    }
    socket.write(
      'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
    );
    found[1](rec, socket);
  }
}
