import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BerthError, messageOf, type ProgressEvent } from '../common/index.ts';

export interface Req {
  raw: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Negotiated API version, e.g. "1.45". */
  version: string;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** Set for upgraded (hijackable) requests: the raw socket and bytes read past the head. */
  upgrade?: { socket: Duplex; head: Buffer; body?: Buffer };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

export function sendNoContent(res: ServerResponse, status = 204): void {
  res.writeHead(status).end();
}

const MAX_BODY = 4 * 1024 * 1024;

/** The request body parsed as JSON (`undefined` when empty). Malformed JSON is invalid-argument. */
export async function readJson(req: Req): Promise<unknown> {
  const chunks: Buffer[] = [];
  let n = 0;
  if (req.upgrade) {
    chunks.push(req.upgrade.body ?? Buffer.alloc(0));
  } else {
    for await (const c of req.raw) {
      n += (c as Buffer).length;
      if (n > MAX_BODY) throw new BerthError('invalid-argument', 'request body too large');
      chunks.push(c as Buffer);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // compat: docker's message for a bad body
    throw new BerthError('invalid-argument', `invalid JSON: ${messageOf(err)}`);
  }
}

export const qBool = (q: URLSearchParams, name: string, dflt = false): boolean => {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  return !(v === '0' || v.toLowerCase() === 'false');
};

export const qInt = (q: URLSearchParams, name: string): number | undefined => {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new BerthError('invalid-argument', `invalid value for ${name}: ${v}`);
  return n;
};

/** Docker's `filters` query parameter: `{"status":["running"]}` or the legacy `{"status":{"running":true}}`. */
export function parseFilters(q: URLSearchParams): Map<string, string[]> {
  const raw = q.get('filters');
  const out = new Map<string, string[]>();
  if (!raw) return out;
  let j: unknown;
  try {
    j = JSON.parse(raw);
  } catch {
    throw new BerthError('invalid-argument', `invalid filter '${raw}'`);
  }
  if (typeof j !== 'object' || j === null) throw new BerthError('invalid-argument', `invalid filter '${raw}'`);
  for (const [k, v] of Object.entries(j as Record<string, unknown>)) {
    if (Array.isArray(v)) out.set(k, v.map(String));
    else if (typeof v === 'object' && v !== null) out.set(k, Object.keys(v).filter((x) => (v as Record<string, unknown>)[x]));
    else throw new BerthError('invalid-argument', `invalid filter '${raw}'`);
  }
  return out;
}

export function checkFilters(f: Map<string, string[]>, allowed: string[]): void {
  for (const k of f.keys()) if (!allowed.includes(k)) throw new BerthError('invalid-argument', `invalid filter '${k}'`);
}

/** Newline-delimited JSON; nothing is written before the first event, so early errors keep a real status. */
export function jsonLines(res: ServerResponse): { write(e: ProgressEvent | object): void; fail(err: unknown): void; end(): void; readonly started: boolean } {
  let started = false;
  const start = (): void => {
    if (started) return;
    started = true;
    res.writeHead(200, { 'Content-Type': 'application/json' });
  };
  return {
    get started() {
      return started;
    },
    write(e) {
      start();
      res.write(JSON.stringify(toWireProgress(e)) + '\n');
    },
    fail(err) {
      start();
      const message = messageOf(err);
      res.write(JSON.stringify({ errorDetail: { message }, error: message }) + '\n');
    },
    end() {
      start();
      res.end();
    },
  };
}

function toWireProgress(e: ProgressEvent | object): object {
  if (!('status' in e) && !('stream' in e)) return e;
  const p = e as ProgressEvent;
  const out: Record<string, unknown> = {};
  if (p.stream !== undefined && p.status && p.status === p.stream.trim()) return { stream: p.stream };
  if (p.status) out.status = p.status;
  if (p.id) out.id = p.id;
  if (p.progress) {
    // compat: Go omits zero counts, so a status update carries `"progressDetail":{}`
    const { current, total } = p.progress;
    out.progressDetail = { ...(current ? { current } : {}), ...(total ? { total } : {}) };
    const bar = progressBar(current, total ?? 0);
    if (bar) out.progress = bar;
  }
  if (p.stream !== undefined && !p.status) out.stream = p.stream;
  if (p.aux !== undefined) out.aux = p.aux;
  return out;
}

/**
 * dockerd's rendered bar (jsonmessage JSONProgress.String at its 200-column default width):
 * `[=====>      ]  1.2MB/3.4MB`; empty without counts.
 */
export function progressBar(current: number, total: number): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  const pct = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] `;
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

/** go-units HumanSize: decimal units, 4 significant digits (`1.23MB`, `512B`). */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** Docker's 8-byte frame header: stream type, 0, 0, 0, big-endian length. */
export function frame(stream: 0 | 1 | 2, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}
