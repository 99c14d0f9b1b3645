import { totalmem } from 'node:os';
import type { WebSocket } from 'ws';
import { BerthError, invalid, messageOf } from '../../common/index.ts';
import type { Router } from '../router.ts';
import { hijack } from '../router.ts';
import { checkFilters, parseFilters, qBool, qInt, readJson, sendJson, sendNoContent, type Req } from '../http.ts';
import type { Backends } from '../backends.ts';
import { healthStatusOf, resourcesFrom, specFromCreate, statusText, toContainerInspect, toContainerSummary } from '../convert.ts';
import type { ContainerRecord, Resources } from '../../engine/index.ts';
import { DEFAULT_DETACH_KEYS, parseDetachKeys, relay } from '../detach.ts';
import { applyChanges, attachmentsOf, logSettings, rfc3339ToNs, type LogBatch } from '../../engine/index.ts';

const timeParam = (v: string | null): bigint | undefined => {
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) {
    const [s = '0', frac = ''] = v.split('.');
    return BigInt(s) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9) || '0');
  }
  const ns = rfc3339ToNs(v);
  if (ns === 0n) throw invalid(`invalid value for time: ${v}`);
  return ns;
};

export function containerRoutes(r: Router, b: Backends): void {
  const c = b.containers;

  r.get('/containers/json', async (req) => {
    const all = qBool(req.query, 'all');
    const limit = qInt(req.query, 'limit') ?? -1;
    const size = qBool(req.query, 'size');
    const f = parseFilters(req.query);
    checkFilters(f, ['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume']);
    let list = c.list();
    const matchAny = (k: string, pred: (v: string) => boolean): boolean => !f.has(k) || f.get(k)!.some(pred);
    const boundary = (k: 'before' | 'since'): string | undefined => (f.has(k) ? c.get(f.get(k)![0]!).created : undefined);
    const before = boundary('before');
    const since = boundary('since');
    for (const s of f.get('status') ?? []) {
      if (!['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'].includes(s)) throw invalid(`invalid filter 'status=${s}'`);
    }
    for (const h of f.get('health') ?? []) {
      if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h)) throw invalid(`Unrecognised filter value for health: ${h}`);
    }
    const ancestors = new Set<string>();
    for (const a of f.get('ancestor') ?? []) {
      try {
        ancestors.add(b.images.resolve(a));
      } catch {
        /* unknown image: matches nothing */
      }
    }
    list = list.filter((x) => {
      if (!all && !f.has('status') && !f.has('exited') && x.state.status !== 'running' && x.state.status !== 'paused' && x.state.status !== 'restarting') return false;
      if (!matchAny('status', (s) => s === x.state.status)) return false;
      if (!matchAny('id', (s) => x.id.startsWith(s))) return false;
      if (!matchAny('name', (s) => new RegExp(s).test(x.name))) return false;
      if (!matchAny('exited', (s) => x.state.status === 'exited' && x.state.exitCode === Number(s))) return false;
      if (!matchAny('health', (s) => s === healthStatusOf(x))) return false;
      // compat: a network by name or id; dockerd matches the endpoints a running container has
      if (!matchAny('network', (s) => attachmentsOf(x).some((n) => n.networkName === s || n.networkId.startsWith(s)))) return false;
      if (f.has('label') && !f.get('label')!.every((l) => {
        const [k = '', v] = l.split('=');
        return v === undefined ? k in x.labels : x.labels[k] === v;
      })) return false;
      if (f.has('ancestor') && !ancestors.has(x.imageId)) return false;
      if (f.has('volume') && !x.mountPoints.some((m) => f.get('volume')!.includes(m.name) || f.get('volume')!.includes(m.destination))) return false;
      if (before && x.created >= before) return false;
      if (since && x.created <= since) return false;
      return true;
    });
    if (limit > 0) list = list.slice(0, limit);
    const out = await Promise.all(list.map(async (x) => toContainerSummary(x, statusText(x), size ? await sizes(b, x) : undefined)));
    sendJson(req.res, 200, out);
  });

  r.post('/containers/create', async (req) => {
    const body = await readJson(req);
    const spec = specFromCreate(body);
    const name = req.query.get('name') ?? undefined;
    const res = await c.create(spec, name);
    sendJson(req.res, 201, { Id: res.id, Warnings: res.warnings });
  });

  r.get('/containers/{id}/json', async (req) => {
    const x = c.get(req.params.id!);
    sendJson(req.res, 200, toContainerInspect(x, b.system.version.storageDriver, qBool(req.query, 'size') ? await sizes(b, x) : undefined, b.exec.idsOf(x.id)));
  });

  r.get('/containers/{id}/top', async (req) => {
    const t = await c.top(req.params.id!, req.query.get('ps_args') ?? '');
    sendJson(req.res, 200, { Titles: t.titles, Processes: t.processes });
  });

  r.get('/containers/{id}/logs', async (req) => {
    const stdout = qBool(req.query, 'stdout');
    const stderr = qBool(req.query, 'stderr');
    if (!stdout && !stderr) throw invalid('Bad parameters: you must choose at least one stream');
    const x = c.get(req.params.id!);
    const tailS = req.query.get('tail');
    const tail = !tailS || tailS === 'all' ? -1 : Number(tailS);
    if (Number.isNaN(tail)) throw invalid(`invalid value for "tail": ${tailS}`);
    const ts = qBool(req.query, 'timestamps');
    const gen = c.logs(x.id, {
      follow: qBool(req.query, 'follow'), since: timeParam(req.query.get('since')), until: timeParam(req.query.get('until')),
      tail, stdout, stderr, signal: req.signal,
    });
    const first = await gen.next(); // errors before any byte keep their status
    req.res.writeHead(200, { 'Content-Type': x.spec.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
    req.res.flushHeaders();
    // compat: --details puts the log's extra attributes (labels=, env= log opts) before each line, `k=v,k2=v2 `
    const details = qBool(req.query, 'details') ? `${detailsText(logSettings(x.spec.host.logConfig, { labels: x.labels, env: x.env }).attrs)} ` : undefined;
    const enc = { frame: !x.spec.tty, ts, prefix: details === undefined ? undefined : Buffer.from(details) };
    try {
      if (!first.done) await writeOut(req.res, encodeLogBatch(first.value, enc));
      for await (const b of gen) await writeOut(req.res, encodeLogBatch(b, enc));
    } catch (err) {
      if (!req.signal.aborted) throw err;
    }
    req.res.end();
  });

  r.get('/containers/{id}/changes', async (req) => {
    const ch = await c.changes(req.params.id!);
    sendJson(req.res, 200, ch.length ? ch.map((x) => ({ Path: x.path, Kind: x.kind === 'C' ? 0 : x.kind === 'A' ? 1 : 2 })) : null);
  });

  r.get('/containers/{id}/export', async (req) => {
    const s = await c.export(req.params.id!);
    req.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    s.pipe(req.res);
    await new Promise<void>((resolve) => req.res.on('close', () => resolve()));
  });

  r.get('/containers/{id}/stats', async (req) => {
    const stream = qBool(req.query, 'stream', true);
    const oneShot = qBool(req.query, 'one-shot');
    let prev = await sample(b, req.params.id!);
    if (!stream) {
      if (!oneShot && prev.running) {
        await new Promise((res) => setTimeout(res, 1000));
        const next = await sample(b, req.params.id!);
        sendJson(req.res, 200, statsJson(next, prev));
      } else sendJson(req.res, 200, statsJson(prev, undefined));
      return;
    }
    req.res.writeHead(200, { 'Content-Type': 'application/json' });
    req.res.write(JSON.stringify(statsJson(prev, undefined)) + '\n');
    while (!req.signal.aborted) {
      await new Promise((res) => setTimeout(res, 1000));
      if (req.signal.aborted) break;
      let next;
      try {
        next = await sample(b, req.params.id!);
      } catch {
        break; // removed
      }
      req.res.write(JSON.stringify(statsJson(next, prev)) + '\n');
      prev = next;
    }
    req.res.end();
  });

  r.post('/containers/{id}/resize', async (req) => {
    const h = qInt(req.query, 'h') ?? 0;
    const w = qInt(req.query, 'w') ?? 0;
    await c.resize(req.params.id!, h, w);
    req.res.writeHead(200, { 'Content-Type': 'text/plain' }).end();
  });

  r.post('/containers/{id}/start', async (req) => {
    await c.start(req.params.id!);
    sendNoContent(req.res);
  });

  r.post('/containers/{id}/stop', async (req) => {
    await c.stop(req.params.id!, { signal: req.query.get('signal') || undefined, timeout: qInt(req.query, 't') });
    sendNoContent(req.res);
  });

  r.post('/containers/{id}/restart', async (req) => {
    await c.restart(req.params.id!, { signal: req.query.get('signal') || undefined, timeout: qInt(req.query, 't') });
    sendNoContent(req.res);
  });

  r.post('/containers/{id}/kill', async (req) => {
    await c.kill(req.params.id!, req.query.get('signal') || 'SIGKILL');
    sendNoContent(req.res);
  });

  r.post('/containers/{id}/update', async (req) => {
    const body = (await readJson(req)) ?? {};
    if (typeof body !== 'object' || body === null) throw invalid('invalid update request');
    const h = body as Record<string, unknown>;
    const full = resourcesFrom(h);
    const partial: Partial<Resources> = {};
    const keys: [keyof Resources, string][] = [['memory', 'Memory'], ['memorySwap', 'MemorySwap'], ['memoryReservation', 'MemoryReservation'], ['nanoCpus', 'NanoCpus'], ['cpuShares', 'CpuShares'], ['cpuQuota', 'CpuQuota'], ['cpuPeriod', 'CpuPeriod'], ['cpusetCpus', 'CpusetCpus'], ['cpusetMems', 'CpusetMems'], ['pidsLimit', 'PidsLimit'], ['blkioWeight', 'BlkioWeight']];
    for (const [k, wire] of keys) if (h[wire] !== undefined && h[wire] !== null && h[wire] !== 0 && h[wire] !== '') (partial as Record<string, unknown>)[k] = full[k];
    const rp = h.RestartPolicy as { Name?: string; MaximumRetryCount?: number } | undefined;
    const warnings = await c.update(req.params.id!, partial, rp?.Name ? { name: rp.Name as 'no', maximumRetryCount: rp.MaximumRetryCount ?? 0 } : undefined);
    sendJson(req.res, 200, { Warnings: warnings });
  });

  r.post('/containers/{id}/rename', async (req) => {
    const name = req.query.get('name');
    if (!name) throw invalid('Neither old nor new names may be empty');
    await c.rename(req.params.id!, name);
    sendNoContent(req.res);
  });

  r.post('/containers/{id}/pause', async (req) => {
    await c.pause(req.params.id!);
    sendNoContent(req.res);
  });
  r.post('/containers/{id}/unpause', async (req) => {
    await c.unpause(req.params.id!);
    sendNoContent(req.res);
  });

  r.post('/containers/{id}/attach', async (req) => attach(req, b));
  r.get('/containers/{id}/attach/ws', async (req) => attachWebsocket(req, b));

  r.post('/containers/{id}/wait', async (req) => {
    const cond = req.query.get('condition') || 'not-running';
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw invalid(`invalid condition: "${cond}"`);
    const id = c.resolve(req.params.id!);
    // compat: the CLI waits for these headers before it calls start, even for `run -d`
    req.res.writeHead(200, { 'Content-Type': 'application/json' });
    req.res.flushHeaders();
    try {
      const w = await c.wait(id, cond as 'not-running', req.signal);
      req.res.end(JSON.stringify({ StatusCode: w.statusCode, Error: w.error ? { Message: w.error } : null }) + '\n');
    } catch (err) {
      if (req.signal.aborted) return;
      req.res.end(JSON.stringify({ StatusCode: -1, Error: { Message: messageOf(err) } }) + '\n');
    }
  });

  r.delete('/containers/{id}', async (req) => {
    await c.remove(req.params.id!, { force: qBool(req.query, 'force'), volumes: qBool(req.query, 'v') });
    sendNoContent(req.res);
  });

  r.post('/containers/prune', async (req) => {
    const f = parseFilters(req.query);
    checkFilters(f, ['label', 'label!', 'until']);
    const until = f.get('until')?.[0];
    const untilMs = until ? (/^\d+$/.test(until) ? Number(until) * 1000 : Date.now() - durationMs(until)) : undefined;
    const res = await c.prune((x) => labelMatch(f, x.labels) && (untilMs === undefined || Date.parse(x.created) < untilMs));
    sendJson(req.res, 200, { ContainersDeleted: res.deleted, SpaceReclaimed: res.spaceReclaimed });
  });

  r.post('/commit', async (req) => {
    const container = req.query.get('container');
    if (!container) throw invalid('missing container');
    const body = (await readJson(req)) as Record<string, unknown> | undefined;
    const repo = req.query.get('repo') ?? '';
    const tag = req.query.get('tag') ?? '';
    const changes = req.query.getAll('changes').flatMap((x) => x.split('\n'));
    const base = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
    const cfg: Record<string, unknown> = {};
    for (const k of ['Cmd', 'Entrypoint', 'Env', 'ExposedPorts', 'Labels', 'User', 'WorkingDir', 'Volumes', 'StopSignal', 'OnBuild']) {
      if (base[k] !== undefined && base[k] !== null && !(Array.isArray(base[k]) && (base[k] as unknown[]).length === 0 && k !== 'Cmd')) cfg[k] = base[k];
    }
    const withChanges = applyChanges(cfg, changes);
    const id = await c.commit(container, {
      ref: repo ? (tag ? `${repo}:${tag}` : repo) : undefined, comment: req.query.get('comment') ?? '', author: req.query.get('author') ?? '',
      pause: qBool(req.query, 'pause', true), config: withChanges,
    });
    sendJson(req.res, 201, { Id: id });
  });

  // docker cp
  const pathStat = (st: object): string => Buffer.from(JSON.stringify(st)).toString('base64');
  const archivePath = (req: Req): string => {
    const p = req.query.get('path');
    if (!p) throw invalid('path is required');
    return p;
  };
  r.head('/containers/{id}/archive', async (req) => {
    const st = await b.archive.stat(req.params.id!, archivePath(req));
    req.res.writeHead(200, { 'X-Docker-Container-Path-Stat': pathStat(st), 'Content-Type': 'application/json' }).end();
  });
  r.get('/containers/{id}/archive', async (req) => {
    await b.archive.get(req.params.id!, archivePath(req), (st) => {
      req.res.writeHead(200, { 'X-Docker-Container-Path-Stat': pathStat(st), 'Content-Type': 'application/x-tar' });
      return req.res;
    });
  });
  r.put('/containers/{id}/archive', async (req) => {
    await b.archive.put(req.params.id!, archivePath(req), req.raw, { copyUIDGID: qBool(req.query, 'copyUIDGID'), noOverwriteDirNonDir: qBool(req.query, 'noOverwriteDirNonDir') });
    req.res.writeHead(200).end();
  });
}

export function labelMatch(f: Map<string, string[]>, labels: Record<string, string>): boolean {
  const test = (l: string): boolean => {
    const [k = '', v] = l.split('=');
    return v === undefined ? k in labels : labels[k] === v;
  };
  return (f.get('label') ?? []).every(test) && !(f.get('label!') ?? []).some(test);
}

export function durationMs(s: string): number {
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(h|m|s|ms)/g)) ms += Number(m[1]) * ({ h: 3600e3, m: 60e3, s: 1e3, ms: 1 } as Record<string, number>)[m[2]!]!;
  if (ms === 0 && !/^0/.test(s)) throw invalid(`invalid filter 'until=${s}'`);
  return ms;
}

async function sizes(b: Backends, x: ContainerRecord): Promise<{ rw: number; rootFs: number }> {
  const rw = await b.containers.sizeRw(x).catch(() => 0);
  const img = await b.images.get(x.imageId).catch(() => undefined);
  return { rw, rootFs: rw + (img?.record.size ?? 0) };
}

interface Sample {
  rec: ContainerRecord;
  running: boolean;
  read: string;
  s: Awaited<ReturnType<Backends['containers']['stats']>>;
}
async function sample(b: Backends, id: string): Promise<Sample> {
  const s = await b.containers.stats(id);
  return { rec: s.rec, running: !!s.stats, read: new Date().toISOString(), s };
}

function statsJson(cur: Sample, prev: Sample | undefined): object {
  const zero = '0001-01-01T00:00:00Z';
  const cpu = (x: Sample | undefined): object => {
    const st = x?.s.stats;
    return {
      cpu_usage: { total_usage: st?.cpuUsageNs ?? 0, ...(st?.perCpuNs.length ? { percpu_usage: st.perCpuNs } : {}), usage_in_kernelmode: st?.systemNs ?? 0, usage_in_usermode: st?.userNs ?? 0 },
      ...(x && st ? { system_cpu_usage: Math.round(x.s.systemNs), online_cpus: x.s.onlineCpus } : {}),
      throttling_data: { periods: st?.periods ?? 0, throttled_periods: st?.throttledPeriods ?? 0, throttled_time: st?.throttledTime ?? 0 },
    };
  };
  const st = cur.s.stats;
  return {
    read: cur.running ? cur.read : zero, preread: prev?.running ? prev.read : zero,
    pids_stats: st ? { current: st.pids, ...(st.pidsLimit ? { limit: st.pidsLimit } : {}) } : {},
    blkio_stats: {
      io_service_bytes_recursive: st ? [{ major: 0, minor: 0, op: 'read', value: st.blkioRead }, { major: 0, minor: 0, op: 'write', value: st.blkioWrite }] : null,
      io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    },
    num_procs: 0, storage_stats: {},
    cpu_stats: cpu(cur), precpu_stats: cpu(prev),
    memory_stats: st ? { usage: st.memoryUsage, stats: st.memoryStats, limit: st.memoryLimit > 2 ** 60 || !st.memoryLimit ? hostMem() : st.memoryLimit } : {},
    name: `/${cur.rec.name}`, id: cur.rec.id,
  };
}

const hostMem = (): number => totalmem();

/** POST /containers/{id}/attach: hijack the connection and pump frames both ways. */
async function attach(req: Req, b: Backends): Promise<void> {
  const q = req.query;
  const stdin = qBool(q, 'stdin');
  const stdout = qBool(q, 'stdout');
  const stderr = qBool(q, 'stderr');
  const stream = qBool(q, 'stream');
  const logs = qBool(q, 'logs');
  const rec = b.containers.get(req.params.id!);
  const detachKeys = q.get('detachKeys') ?? '';
  parseDetachKeys(detachKeys || DEFAULT_DETACH_KEYS); // 400 before the hijack
  const ac = new AbortController();
  const session = await b.containers.attach(rec.id, { stdin, stdout, stderr, stream, logs, signal: ac.signal });
  const sock = hijack(req, session.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
  relay(sock, session, { stdin, detachKeys });
  sock.on('close', () => ac.abort());
  sock.on('error', () => ac.abort());
  await session.done;
  if (sock.writable) sock.end();
}

/** GET /containers/{id}/attach/ws: the same streams over a websocket (raw bytes, no framing). */
async function attachWebsocket(req: Req, b: Backends): Promise<void> {
  const up = req.upgrade;
  if (!up || (req.raw.headers.upgrade ?? '').toLowerCase() !== 'websocket') throw invalid('websocket upgrade required');
  const q = req.query;
  const rec = b.containers.get(req.params.id!);
  const ac = new AbortController();
  const session = await b.containers.attach(rec.id, {
    stdin: qBool(q, 'stdin'), stdout: qBool(q, 'stdout'), stderr: qBool(q, 'stderr'), stream: qBool(q, 'stream'), logs: qBool(q, 'logs'), signal: ac.signal,
  });
  // loaded on first use: an idle daemon need not carry the websocket library
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ noServer: true });
  const ws = await new Promise<WebSocket>((resolve) => wss.handleUpgrade(req.raw, up.socket as import('node:net').Socket, up.head, resolve));
  session.onFrame((f) => {
    if (ws.readyState === ws.OPEN) ws.send(f.data);
  });
  ws.on('message', (data: Buffer) => session.writeStdin(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer)));
  ws.on('close', () => ac.abort());
  await session.done;
  ws.close();
}

/** docker's attrsByteSlice: sorted by key, each side query-escaped, comma-separated. */
function detailsText(attrs: Record<string, string>): string {
  const esc = (v: string): string => encodeURIComponent(v).replace(/%20/g, '+').replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.keys(attrs).sort().map((k) => `${esc(k)}=${esc(attrs[k]!)}`).join(',');
}

/**
 * One write for a batch of log records: the timestamp (`-t`), the details prefix, the message and
 * its newline (none for a partial line) per record; unless tty, inside Docker's 8-byte stream
 * frames. Consecutive records of one stream share a frame: the protocol allows any split, and the
 * docker CLI pays a write per frame (one frame per line made it the bottleneck at ~30 MB/s).
 */
function encodeLogBatch(b: LogBatch, o: { frame: boolean; ts: boolean; prefix?: Buffer }): Buffer {
  const src = b.buf;
  const pre = o.prefix;
  const preLen = pre?.length ?? 0;
  // bound: messages and stamps come from src; a normalized stamp is at most 31 bytes with its space
  const out = Buffer.allocUnsafe(src.length + b.count * (8 + 32 + preLen + 1));
  let off = 0;
  let head = -1;
  let stream = -1;
  const close = (): void => {
    if (head < 0) return;
    out[head] = stream;
    out[head + 1] = 0;
    out[head + 2] = 0;
    out[head + 3] = 0;
    out.writeUInt32BE(off - head - 8, head + 4);
  };
  for (let i = 0; i < b.count; i++) {
    if (o.frame && b.stream(i) !== stream) {
      close();
      head = off;
      stream = b.stream(i);
      off += 8;
    }
    if (o.ts) {
      off += out.write(b.time(i), off, 'latin1');
      out[off++] = 0x20;
    }
    if (pre) off += pre.copy(out, off);
    off += src.copy(out, off, b.msgStart(i), b.msgEnd(i));
    if (!b.partial(i)) out[off++] = 0x0a;
  }
  if (o.frame) close();
  return out.subarray(0, off);
}

/** Write with backpressure; settles early when the client is gone. */
function writeOut(res: Req['res'], chunk: Buffer): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
