// One HTTP(S) exchange with a registry, over node:http / node:https. The body of the answer is
// left to the caller to read (or drain) so blobs stream.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { BerthError } from '../../common/index.ts';
import type { TlsMaterial } from './hosts.ts';

// node:https loads node:tls, ~2 MiB of berthd's idle RSS: required on the first https exchange only
let httpsModule: typeof import('node:https') | undefined;
const https = (): typeof import('node:https') => (httpsModule ??= createRequire(import.meta.url)('node:https') as typeof import('node:https'));

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  url: URL;
}

export interface SendOptions {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A buffer, or a factory for a fresh stream (a request may be sent twice: after a 401, on another scheme). */
  body?: Buffer | (() => Readable);
  signal?: AbortSignal;
  tls?: TlsMaterial & { skipVerify?: boolean };
  /** Idle time after which the exchange fails (ms). */
  idleTimeout?: number;
}

/** Send one request; resolves once the answer's head is in. Network failures are 'unavailable'. */
export function send(o: SendOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    o.signal?.throwIfAborted();
    const isHttps = o.url.protocol === 'https:';
    const headers: Record<string, string> = { 'User-Agent': 'berth/0.1 (docker-compatible)', ...(o.headers ?? {}) };
    if (Buffer.isBuffer(o.body)) headers['Content-Length'] = String(o.body.length);
    const opts = {
      method: o.method,
      headers,
      signal: o.signal,
      ...(isHttps ? { ca: o.tls?.ca, cert: o.tls?.cert, key: o.tls?.key, rejectUnauthorized: !o.tls?.skipVerify } : {}),
    };
    const req = (isHttps ? https().request : httpRequest)(o.url, opts, (res) => {
      res.setTimeout(o.idleTimeout ?? 60_000, () => res.destroy(new BerthError('unavailable', `${o.method} ${o.url.href}: no data for ${Math.round((o.idleTimeout ?? 60_000) / 1000)} s`)));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: o.url });
    });
    req.setTimeout(o.idleTimeout ?? 60_000, () => req.destroy(new BerthError('unavailable', `${o.method} ${o.url.href}: timed out`)));
    req.on('error', (err: Error & { code?: string }) => {
      if (err.name === 'AbortError' || err instanceof BerthError) reject(err);
      else reject(new BerthError('unavailable', `${o.method} ${o.url.href}: ${err.message}`, { cause: err }));
    });
    if (o.body === undefined) {
      req.end();
    } else if (Buffer.isBuffer(o.body)) {
      req.end(o.body);
    } else {
      const s = o.body();
      s.on('error', (e) => req.destroy(e));
      s.pipe(req);
    }
  });
}

/** Read an answer's body whole, refusing more than `limit` bytes (invalid-argument). */
export async function readBody(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new BerthError('invalid-argument', `${what} is too large: ${declared} bytes (limit ${limit})`);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    n += (c as Buffer).length;
    if (n > limit) {
      res.body.destroy();
      throw new BerthError('invalid-argument', `${what} is too large: over ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Throw away an answer's body (so its connection can be reused). */
export async function drain(res: HttpResponse): Promise<void> {
  try {
    await readBody(res, 1 << 20, 'error body');
  } catch {
    res.body.destroy();
  }
}

/** The distribution-spec error body `{"errors":[{"code","message","detail"}]}` as text (`manifest unknown: manifest unknown`). */
export async function errorText(res: HttpResponse): Promise<string> {
  let raw: Buffer;
  try {
    raw = await readBody(res, 64 * 1024, 'error body');
  } catch {
    return `${res.status}`;
  }
  try {
    const j = JSON.parse(raw.toString()) as { errors?: { code?: unknown; message?: unknown }[]; details?: unknown; message?: unknown };
    // token servers answer `{"details": "incorrect username or password"}`
    if (typeof j.details === 'string' && j.details) return j.details;
    if (typeof j.message === 'string' && j.message && !Array.isArray(j.errors)) return j.message;
    if (Array.isArray(j.errors) && j.errors.length) {
      return j.errors.map((e) => {
        const code = typeof e.code === 'string' ? e.code.toLowerCase().replace(/_/g, ' ') : 'unknown';
        return typeof e.message === 'string' && e.message ? `${code}: ${e.message}` : code;
      }).join(', ');
    }
  } catch {
    // not JSON: fall through
  }
  const text = raw.toString('utf8').trim().slice(0, 200);
  if (text) return text;
  // a HEAD answer has no body: say what the distribution spec's codes would
  return ({ 401: 'unauthorized: authentication required', 403: 'denied: requested access to the resource is denied', 404: 'not found' } as Record<number, string>)[res.status] ?? `status ${res.status}`;
}
