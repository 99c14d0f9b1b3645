import http from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { ClientError, ConnectionError, messageFromBody } from './errors.ts';

/** Where the daemon listens. Only unix sockets are supported. */
export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

/**
 * Resolves the daemon address: `-H` first, then `BERTH_HOST`, then `DOCKER_HOST`, then the default.
 * Returns the socket path; throws an invalid-argument ClientError for non-unix hosts.
 */
export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): { host: string; socketPath: string } {
  const host = flag || env['BERTH_HOST'] || env['DOCKER_HOST'] || DEFAULT_HOST;
  if (host.startsWith('unix://')) return { host, socketPath: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { host: `unix://${host}`, socketPath: host };
  throw new ClientError(400, `unsupported host ${JSON.stringify(host)}: only unix:// sockets are supported`);
}

export type QueryValue = string | number | boolean | undefined | null | string[] | Record<string, string[]>;
export type Query = Record<string, QueryValue>;

/** Builds a query string: booleans as 1/0 (Docker's form), arrays as repeated keys, objects as JSON. */
export function buildQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) {
      // Repeated keys, as Go's url.Values encodes them (`changes=…&changes=…`).
      for (const item of v) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(item)}`);
      continue;
    }
    let s: string;
    if (typeof v === 'boolean') s = v ? '1' : '0';
    else if (typeof v === 'object') s = JSON.stringify(v);
    else s = String(v);
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(s)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export interface RequestOptions {
  method: string;
  /** Path without the version prefix: `/containers/json`. */
  path: string;
  query?: Query;
  /** JSON-encoded unless a Buffer or a stream (sent as-is, `application/x-tar` by default). */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Do not prefix the path with `/v<version>` (for `/_ping`). */
  unversioned?: boolean;
}

export interface Hijacked {
  /** The raw connection: read the daemon's output, write stdin, `end()` to half-close. */
  socket: Duplex;
  /** The response's Content-Type (`application/vnd.docker.multiplexed-stream` or `…raw-stream`). */
  contentType: string | undefined;
}

/**
 * HTTP/1.1 over a unix socket with node:http (undici costs ~140 ms of start-up per CLI call).
 * Answers with status >= 400 become ClientError carrying the daemon's message; socket failures
 * become ConnectionError. Everything else is returned unread to the caller.
 */
/** Node's agent reads `servername` (a TLS option) on any request; its types leave it out of http's. */
type UnixRequestOptions = http.RequestOptions & { servername: string };

export class Transport {
  readonly host: string;
  readonly socketPath: string;
  /** The version prefix; lowered once if the daemon says ours is too new. */
  version: string;
  #agent: http.Agent;
  #negotiated = false;

  constructor(opts: { host: string; socketPath: string; version: string }) {
    this.host = opts.host;
    this.socketPath = opts.socketPath;
    this.version = opts.version;
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  }

  /** Sends a request; resolves with the response once headers arrive and the status is < 400. */
  async request(opts: RequestOptions): Promise<http.IncomingMessage> {
    try {
      return await this.#send(opts);
    } catch (err) {
      if (this.#shouldRenegotiate(err, opts)) {
        await this.#renegotiate();
        return this.#send(opts);
      }
      throw err;
    }
  }

  /** Sends a request and parses the JSON reply (undefined for an empty body). */
  async json<T>(opts: RequestOptions): Promise<T> {
    const res = await this.request(opts);
    const text = await readText(res);
    if (!text.trim()) return undefined as T;
    return JSON.parse(text) as T;
  }

  /** Sends a request and discards the reply body. */
  async empty(opts: RequestOptions): Promise<void> {
    const res = await this.request(opts);
    res.resume();
    await new Promise<void>((resolve, reject) => {
      res.on('end', resolve);
      res.on('error', reject);
    });
  }

  /**
   * Opens a hijacked connection (`Connection: Upgrade`, `Upgrade: tcp`) as attach and exec start
   * use. A 101 hands over the socket; a daemon that answers 200 instead (older API) gets its
   * response body as a read-only stream.
   */
  hijack(opts: RequestOptions): Promise<Hijacked> {
    return new Promise<Hijacked>((resolve, reject) => {
      const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'tcp', ...opts.headers };
      const payload = encodeBody(opts.body, headers);
      const req = http.request(<UnixRequestOptions>{
        socketPath: this.socketPath,
        // plain HTTP on a unix socket: no TLS server name to work out (Node's agent would derive
        // one from the Host header through net.isIP, whose first call builds a large regex: ~8 ms)
        servername: '',
        method: opts.method,
        path: this.#path(opts),
        headers,
        agent: false,
        signal: opts.signal,
      });
      req.on('upgrade', (res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve({ socket, contentType: res.headers['content-type'] });
      });
      req.on('response', (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          void readText(res).then((t) => reject(new ClientError(res.statusCode ?? 500, messageFromBody(res.statusCode ?? 500, t))), reject);
          return;
        }
        resolve({ socket: res as unknown as Duplex, contentType: res.headers['content-type'] });
      });
      req.on('error', (err) => reject(this.#connectionError(err)));
      if (payload === undefined) req.end();
      else req.end(payload);
    });
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }

  #path(opts: RequestOptions): string {
    const prefix = opts.unversioned ? '' : `/v${this.version}`;
    return `${prefix}${opts.path}${buildQuery(opts.query)}`;
  }

  #send(opts: RequestOptions): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...opts.headers };
      const isStream = isReadable(opts.body);
      const payload = isStream ? undefined : encodeBody(opts.body, headers);
      if (isStream && !headers['Content-Type']) headers['Content-Type'] = 'application/x-tar';
      const req = http.request(<UnixRequestOptions>{
        socketPath: this.socketPath,
        servername: '', // see hijack()
        method: opts.method,
        path: this.#path(opts),
        headers,
        agent: this.#agent,
        signal: opts.signal,
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 500;
        if (status >= 400) {
          readText(res).then((t) => reject(new ClientError(status, messageFromBody(status, t))), reject);
          return;
        }
        resolve(res);
      });
      req.on('error', (err) => reject(this.#connectionError(err)));
      if (isStream) {
        const body = opts.body as Readable;
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      } else if (payload === undefined) req.end();
      else req.end(payload);
    });
  }

  #connectionError(err: unknown): unknown {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' || code === 'ENOTSOCK') {
      return new ConnectionError(this.host, { cause: err });
    }
    return err;
  }

  #shouldRenegotiate(err: unknown, opts: RequestOptions): boolean {
    // compat: an older daemon rejects /v1.45 with 400 "client version 1.45 is too new"; the docker
    // CLI pings first and lowers its version. We ping only when that happens.
    return (
      !this.#negotiated &&
      !opts.unversioned &&
      !isReadable(opts.body) &&
      err instanceof ClientError &&
      err.status === 400 &&
      /client version .* is too new/i.test(err.message)
    );
  }

  async #renegotiate(): Promise<void> {
    this.#negotiated = true;
    const res = await this.#send({ method: 'GET', path: '/_ping', unversioned: true });
    res.resume();
    const v = res.headers['api-version'];
    if (typeof v === 'string' && /^\d+\.\d+$/.test(v)) this.version = v;
  }
}

function isReadable(body: unknown): body is Readable {
  return typeof body === 'object' && body !== null && typeof (body as Readable).pipe === 'function';
}

function encodeBody(body: unknown, headers: Record<string, string>): Buffer | undefined {
  if (body === undefined) return undefined;
  if (Buffer.isBuffer(body)) {
    headers['Content-Type'] ??= 'application/x-tar';
    return body;
  }
  headers['Content-Type'] ??= 'application/json';
  return Buffer.from(JSON.stringify(body));
}

/** Reads a response body as UTF-8 text. */
export async function readText(res: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
