import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch } from 'node:fs';

/** One log record from conmon's k8s-file log. */
export interface LogRecord {
  stream: 1 | 2;
  time: string; // RFC3339Nano as conmon wrote it
  timeNs: bigint;
  data: Buffer; // the line, with its newline unless partial
}

/** Parse `2026-…Z stdout F hello` lines; `P` marks a partial line (no newline added). */
export function parseLogLine(line: string): LogRecord | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const time = line.slice(0, a);
  const stream = line.slice(a + 1, b) === 'stderr' ? 2 : 1;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const msg = c < 0 ? '' : line.slice(c + 1);
  return { stream, time, timeNs: rfc3339ToNs(time), data: Buffer.from(tag.includes('P') ? msg : msg + '\n') };
}

export function rfc3339ToNs(t: string): bigint {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return 0n;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return 0n;
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

export interface LogOptions {
  follow: boolean;
  since?: bigint;
  until?: bigint;
  tail?: number; // -1 = all
  signal: AbortSignal;
  /** While following: is the writer still alive? */
  isLive: () => boolean;
}

/** Read (and with `follow`, keep reading) a k8s-file log. */
export async function* readLog(path: string, opts: LogOptions): AsyncGenerator<LogRecord> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
  } catch {
    if (!opts.follow) return;
    // the log appears when the container starts
    while (!opts.signal.aborted && opts.isLive()) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        fh = await open(path, 'r');
        break;
      } catch {
        /* not yet */
      }
    }
    if (!fh) return;
  }
  const file: FileHandle = fh;
  fh = undefined;
  let cur = file;
  try {
    const ok = (r: LogRecord): boolean => (opts.since === undefined || r.timeNs >= opts.since) && (opts.until === undefined || r.timeNs <= opts.until);
    let pos = 0;
    let rest = '';
    const buf = Buffer.alloc(1 << 16);
    const drain = async function* (): AsyncGenerator<LogRecord> {
      for (;;) {
        const { bytesRead } = await cur.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) return;
        pos += bytesRead;
        const text = rest + buf.subarray(0, bytesRead).toString('utf8');
        const lines = text.split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) {
          const r = parseLogLine(l);
          if (r && ok(r)) yield r;
        }
      }
    };
    if (opts.tail !== undefined && opts.tail >= 0) {
      const all: LogRecord[] = [];
      for await (const r of drain()) all.push(r);
      for (const r of opts.tail === 0 ? [] : all.slice(-opts.tail)) yield r;
    } else {
      yield* drain();
    }
    if (!opts.follow) return;
    while (!opts.signal.aborted) {
      const live = opts.isLive();
      yield* drain();
      if (!live) return;
      // rotation: the file shrank or was replaced
      const st = await stat(path).catch(() => undefined);
      if (st && st.size < pos) {
        await cur.close();
        cur = await open(path, 'r');
        pos = 0;
      }
      if (opts.until !== undefined && BigInt(Date.now()) * 1_000_000n > opts.until) return;
      await waitForChange(path, 250, opts.signal);
    }
  } finally {
    await cur.close();
  }
}

function waitForChange(path: string, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let w: ReturnType<typeof watch> | undefined;
    const done = (): void => {
      clearTimeout(t);
      w?.close();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    try {
      w = watch(path, done);
    } catch {
      /* poll */
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
