// Raw Engine API calls over the unix socket, timed phase by phase, mirroring what `docker run --rm` sends.
import { request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

interface Resp {
  status: number;
  body: string;
}

function call(sock: string, method: string, path: string, body?: unknown, timeout = 20_000): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({ socketPath: sock, method, path, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}, timeout }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** Millisecond offsets from t0 (the ping request) of each step of one `run --rm busybox true`. */
export interface RunTimeline {
  ping: number;
  create: number;
  attach: number;
  waitHeaders: number;
  start: number;
  exit: number;
}

export const PHASES: { key: keyof RunTimeline; label: string }[] = [
  { key: 'ping', label: 'GET /_ping' },
  { key: 'create', label: 'POST /containers/create' },
  { key: 'attach', label: 'POST /attach → 101' },
  { key: 'waitHeaders', label: 'POST /wait?condition=removed → headers' },
  { key: 'start', label: 'POST /start → 204' },
  { key: 'exit', label: 'start → /wait body (exit + auto-remove)' },
];

/** One `run --rm busybox true` through the raw API; returns per-phase durations (not offsets). */
export async function apiRunOnce(sock: string, timeout = 20_000): Promise<RunTimeline> {
  const t: Partial<Record<keyof RunTimeline, number>> = {};
  let mark = now();
  const lap = (k: keyof RunTimeline): void => {
    const n = now();
    t[k] = n - mark;
    mark = n;
  };
  const ping = await call(sock, 'GET', '/_ping', undefined, timeout);
  if (ping.status !== 200) throw new Error(`_ping: ${ping.status}`);
  lap('ping');
  const cr = await call(sock, 'POST', '/containers/create', {
    Image: 'busybox', Cmd: ['true'], AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, OpenStdin: false,
    HostConfig: { AutoRemove: true },
  }, timeout);
  if (cr.status !== 201) throw new Error(`create: ${cr.status} ${cr.body}`);
  const id = (JSON.parse(cr.body) as { Id: string }).Id;
  lap('create');
  try {
    return await attachWaitStart(sock, id, timeout, lap, t);
  } catch (e) {
    await call(sock, 'DELETE', `/containers/${id}?force=1`, undefined, timeout).catch(() => undefined);
    throw e;
  }
}

async function attachWaitStart(sock: string, id: string, timeout: number, lap: (k: keyof RunTimeline) => void, t: Partial<Record<keyof RunTimeline, number>>): Promise<RunTimeline> {
  // attach: hijacked stream (101 Upgrade: tcp)
  const attachSock = await new Promise<Socket>((resolve, reject) => {
    const req = request({ socketPath: sock, method: 'POST', path: `/containers/${id}/attach?stream=1&stdout=1&stderr=1`, headers: { Connection: 'Upgrade', Upgrade: 'tcp' }, timeout });
    req.on('upgrade', (_res: IncomingMessage, s: Socket) => resolve(s));
    req.on('response', (res: IncomingMessage) => reject(new Error(`attach: no upgrade, status ${res.statusCode}`)));
    req.on('timeout', () => req.destroy(new Error('attach timed out')));
    req.on('error', reject);
    req.end();
  });
  attachSock.resume();
  const attachEnded = new Promise<void>((r) => {
    attachSock.on('end', () => r());
    attachSock.on('close', () => r());
    attachSock.on('error', () => r());
  });
  lap('attach');

  // wait: headers are flushed at once; the body comes when the container is gone
  // (the body promise is wrapped in an object: resolving with a bare promise would adopt it)
  const waitBody = await new Promise<{ body: Promise<Resp> }>((resolve, reject) => {
    const req = request({ socketPath: sock, method: 'POST', path: `/containers/${id}/wait?condition=removed`, timeout }, (res) => {
      const body = new Promise<Resp>((res2, rej2) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => res2({ status: res.statusCode ?? 0, body: b }));
        res.on('error', rej2);
      });
      body.catch(() => undefined); // handled where awaited
      resolve({ body });
    });
    req.on('timeout', () => req.destroy(new Error('wait timed out')));
    req.on('error', reject);
    req.end();
  });
  lap('waitHeaders');

  const st = await call(sock, 'POST', `/containers/${id}/start`, undefined, timeout);
  if (st.status !== 204) throw new Error(`start: ${st.status} ${st.body}`);
  lap('start');
  const w = await waitBody.body;
  if (w.status !== 200) throw new Error(`wait: ${w.status} ${w.body}`);
  const code = (JSON.parse(w.body) as { StatusCode?: number }).StatusCode;
  if (code !== 0) throw new Error(`container exited ${code}: ${w.body}`);
  lap('exit');
  await Promise.race([attachEnded, new Promise((r) => setTimeout(r, 2000))]);
  attachSock.destroy();
  return t as RunTimeline;
}
