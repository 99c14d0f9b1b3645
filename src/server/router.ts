import type { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { BerthError, type Logger } from '../common/index.ts';
import { sendError } from './errors.ts';
import type { Req } from './http.ts';

export const API_VERSION = '1.45';
export const MIN_API_VERSION = '1.24';

export type Handler = (req: Req) => Promise<void> | void;
export interface RouteOpts {
  /** The API version that introduced this route. */
  since?: string;
}
interface Route {
  method: string;
  re: RegExp;
  keys: string[];
  handler: Handler;
  opts: RouteOpts;
}

const cmpVersion = (a: string, b: string): number => {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
};

export class Router {
  readonly #routes: Route[] = [];
  constructor(private readonly log: Logger) {}

  add(method: string, path: string, handler: Handler, opts: RouteOpts = {}): void {
    const keys: string[] = [];
    // `{name}` matches one segment, except a trailing `{name*}` which matches the rest (image names have slashes)
    const re = new RegExp(
      '^' + path.replace(/\{(\w+)(\*?)\}/g, (_m, k: string, star: string) => {
        keys.push(k);
        return star ? '(.+?)' : '([^/]+)';
      }) + '/?$',
    );
    this.#routes.push({ method, re, keys, handler, opts });
  }
  get(p: string, h: Handler, o?: RouteOpts): void {
    this.add('GET', p, h, o);
  }
  post(p: string, h: Handler, o?: RouteOpts): void {
    this.add('POST', p, h, o);
  }
  delete(p: string, h: Handler, o?: RouteOpts): void {
    this.add('DELETE', p, h, o);
  }
  head(p: string, h: Handler, o?: RouteOpts): void {
    this.add('HEAD', p, h, o);
  }
  put(p: string, h: Handler, o?: RouteOpts): void {
    this.add('PUT', p, h, o);
  }

  /** Dispatch one request. Strips `/v1.xx`, checks the version and the route table. */
  async handle(raw: IncomingMessage, res: ServerResponse, upgrade?: Req['upgrade']): Promise<void> {
    const ac = new AbortController();
    const t0 = performance.now();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    res.on('finish', () => this.log.debug({ method: raw.method, url: raw.url, status: res.statusCode, ms: Math.round((performance.now() - t0) * 10) / 10 }, 'request'));
    upgrade?.socket.on('close', () => ac.abort());
    try {
      const url = new URL(raw.url ?? '/', 'http://berth');
      let path = url.pathname;
      let version = API_VERSION;
      const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
      if (m) {
        version = m[1]!;
        path = m[2]!;
        if (cmpVersion(version, API_VERSION) > 0) {
          throw new BerthError('invalid-argument', `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
        }
        if (cmpVersion(version, MIN_API_VERSION) < 0) {
          throw new BerthError('invalid-argument', `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
        }
      }
      const method = raw.method === 'HEAD' && !this.#routes.some((r) => r.method === 'HEAD' && r.re.test(path)) ? 'GET' : (raw.method ?? 'GET');
      let pathMatched = false;
      for (const r of this.#routes) {
        const mm = r.re.exec(path);
        if (!mm) continue;
        pathMatched = true;
        if (r.method !== method) continue;
        if (r.opts.since && cmpVersion(version, r.opts.since) < 0) break;
        const params: Record<string, string> = {};
        r.keys.forEach((k, i) => (params[k] = decodeURIComponent(mm[i + 1]!)));
        await r.handler({ raw, res, params, query: url.searchParams, version, signal: ac.signal, upgrade });
        return;
      }
      if (pathMatched) throw new BerthError('not-found', 'page not found');
      throw new BerthError('not-found', 'page not found');
    } catch (err) {
      sendError(res, err, this.log);
    }
  }
}

/**
 * Take over the connection for raw bytes. On an upgraded request (the docker CLI sends
 * `Connection: Upgrade`, `Upgrade: tcp`), answer 101 and hand back the socket; otherwise stream
 * over an ordinary 200 response (stdin is then not possible).
 */
export function hijack(req: Req, contentType: string): Duplex {
  const up = req.upgrade;
  if (up) {
    // compat: the docker CLI requires 101 UPGRADED; a 200 is rejected
    up.socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    if (up.head.length) up.socket.unshift(up.head);
    (up.socket as import('node:net').Socket).setTimeout(0);
    return up.socket;
  }
  req.res.writeHead(200, { 'Content-Type': contentType });
  req.res.flushHeaders();
  const res = req.res;
  const raw = req.raw;
  return new Duplex({
    write(chunk: Buffer, _enc, cb) {
      res.write(chunk, cb);
    },
    final(cb) {
      res.end(cb);
    },
    read() {
      raw.resume();
    },
    destroy(err, cb) {
      res.destroy(err ?? undefined);
      cb(err);
    },
  });
}
