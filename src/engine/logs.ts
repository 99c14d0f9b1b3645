// Container logs: conmon's k8s-file log (`<ts> stdout|stderr F|P <text>` lines), the json-file
// options docker accepts for it, berthd's own rotation of it, and a reader that reads across
// the rotated files and follows the live one.
//
// Rotation, and why berthd does it rather than conmon (measured with conmon 2.1.6):
// - `--log-size-max N` makes conmon, once N bytes were written since its last size-triggered
//   reopen, open `<log>.tmp` with O_TRUNC and rename it over `<log>`: the old content is gone
//   (only a reader that holds an fd on the old inode can still read it). Its byte counter is
//   NOT reset by REOPEN_LOGS, so it cannot serve as a backstop next to our own rotation either:
//   it would fire every N bytes of total output and drop a file's worth of lines each time.
// - A ctl-fifo message `2 0 0\n` (REOPEN_LOGS) makes conmon close its fd, then open `<log>.tmp`
//   and rename it to `<log>`. Until it reads the message, conmon keeps writing to the inode it
//   holds, whatever its name. conmon is single-threaded: once a new inode sits at `<log>`, the
//   old one is closed and final.
// So berthd rotates: rename `<log>` → `<log>.1` (shifting `.1` → `.2` …, dropping the oldest),
// then REOPEN_LOGS. Nothing is lost: lines written between the rename and the reopen land at the
// end of `<log>.1`. A follower holds the inode it reads; when `<log>` becomes another inode it
// reads its inode to the end, then any rotated files newer than it, then the new `<log>`.
// Edges: a file may exceed max-size by what the container writes while it rotates: berthd's
// reaction (an inotify event, a stat, renames) plus conmon's reopen, measured at 1-8 ms under a
// fast writer (conmon drains the container's pipe before it reads the ctl fifo); at 3 MB/s that
// is some 10-30 KB per file. While berthd is down nothing
// rotates, so the live file grows without bound until berthd starts again and rotates it
// (pass nothing to conmon's --log-size-max for the reason above).
import { open, stat, rename, unlink, type FileHandle } from 'node:fs/promises';
import { constants, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { invalid, type Logger } from '../common/index.ts';

// ---------------------------------------------------------------------------------------------
// options (`--log-driver`, `--log-opt`)

/** Defaults (unlike docker, rotation is on by default): at most 3 × 20 MiB per container. */
export const DEFAULT_LOG_MAX_SIZE = 20 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILE = 3;

/** What the engine does with a container's output, from its LogConfig. */
export interface LogSettings {
  driver: 'json-file' | 'none';
  /** Rotate the live file once it reaches this many bytes. */
  maxSize: number;
  /** Files kept, the live one included (`<log>`, `<log>.1`, … `<log>.<maxFile-1>`). */
  maxFile: number;
  /** Extra attributes shown by `logs --details` (labels=, env=, their -regex forms, tag=). */
  attrs: Record<string, string>;
}

const JSON_FILE_OPTS = new Set(['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']);
// compat: docker accepts these for every driver (daemon/logger.ValidateLogOpts)
const BUILTIN_OPTS = new Set(['mode', 'max-buffer-size']);

/**
 * Validate a container's LogConfig as docker does at create, and resolve it. Throws
 * invalid-argument with docker's messages (`unknown log opt 'x' for json-file log driver`,
 * `logger: no log driver named 'x' is registered`, size parse errors).
 */
export function logSettings(cfg: { type: string; config: Record<string, string> }, ctr: { labels?: Record<string, string>; env?: string[] } = {}): LogSettings {
  const type = cfg.type || 'json-file';
  const opts = cfg.config;
  if (type === 'none') return { driver: 'none', maxSize: 0, maxFile: 0, attrs: {} };
  const mode = opts.mode ?? '';
  if (mode !== '' && mode !== 'blocking' && mode !== 'non-blocking') throw invalid(`logger: logging mode not supported: ${mode}`);
  if (opts['max-buffer-size'] !== undefined) {
    if (mode !== 'non-blocking') throw invalid("logger: max-buffer-size option is only supported with 'mode=non-blocking'");
    parseSize(opts['max-buffer-size']);
  }
  if (type !== 'json-file') throw invalid(`logger: no log driver named '${type}' is registered`);
  for (const k of Object.keys(opts)) {
    if (!JSON_FILE_OPTS.has(k) && !BUILTIN_OPTS.has(k)) throw invalid(`unknown log opt '${k}' for json-file log driver`);
  }
  let maxSize = DEFAULT_LOG_MAX_SIZE;
  if (opts['max-size'] !== undefined) {
    maxSize = parseSize(opts['max-size']);
    if (maxSize <= 0) throw invalid('max-size must be a positive number');
  }
  let maxFile = DEFAULT_LOG_MAX_FILE;
  if (opts['max-file'] !== undefined) {
    const v = opts['max-file'];
    if (!/^[+-]?\d+$/.test(v)) throw invalid(`strconv.Atoi: parsing "${v}": invalid syntax`);
    maxFile = Number(v);
    if (maxFile < 1) throw invalid('max-file cannot be less than 1');
  }
  if (opts.compress !== undefined && !/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(opts.compress)) {
    throw invalid(`error reading compress log option: strconv.ParseBool: parsing "${opts.compress}": invalid syntax`);
  }
  return { driver: 'json-file', maxSize, maxFile, attrs: extraAttributes(opts, ctr.labels ?? {}, ctr.env ?? []) };
}

/** docker's logger.Info.ExtraAttributes, plus `tag` as json-file adds it (taken literally: no templates). */
function extraAttributes(opts: Record<string, string>, labels: Record<string, string>, env: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const regex = (s: string): RegExp => {
    try {
      return new RegExp(s);
    } catch (err) {
      throw invalid(`error parsing regexp: ${(err as Error).message}`);
    }
  };
  for (const l of (opts.labels ?? '').split(',')) if (l && labels[l] !== undefined) out[l] = labels[l];
  if (opts['labels-regex']) {
    const re = regex(opts['labels-regex']);
    for (const [k, v] of Object.entries(labels)) if (re.test(k)) out[k] = v;
  }
  const envMap = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) envMap.set(e.slice(0, i), e.slice(i + 1));
  }
  for (const k of (opts.env ?? '').split(',')) if (k && envMap.has(k)) out[k] = envMap.get(k)!;
  if (opts['env-regex']) {
    const re = regex(opts['env-regex']);
    for (const [k, v] of envMap) if (re.test(k)) out[k] = v;
  }
  if (opts.tag) out.tag = opts.tag;
  return out;
}

const SIZE_RE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const UNIT: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** go-units RAMInBytes (binary units: 10k = 10240, 1g = 2^30), as docker parses max-size. */
export function parseSize(s: string): number {
  const m = SIZE_RE.exec(s);
  if (!m) throw invalid(`invalid size: '${s}'`);
  const n = Number.parseFloat(m[1]!);
  return Math.trunc(n * (m[2] ? UNIT[m[2].toLowerCase()]! : 1));
}

// ---------------------------------------------------------------------------------------------
// parsing

/** One log record from conmon's k8s-file log. */
export interface LogRecord {
  stream: 1 | 2;
  time: string; // RFC3339Nano as conmon wrote it
  timeNs: bigint;
  data: Buffer; // the line, with its newline unless partial
}

/**
 * Records parsed from one read of a log file, pointing into `buf` (no copies). Record `i` has
 * its timestamp at `[timeStart(i), timeEnd(i))` and its message at `[msgStart(i), msgEnd(i))`,
 * without the newline, which a full (non-partial) record implies.
 */
export class LogBatch {
  #lastTime = -1;
  #lastTimeStr = '';
  constructor(
    readonly buf: Buffer,
    readonly count: number,
    /** 4 per record: time start, time end, message start, message end. */
    readonly index: Int32Array,
    /** Per record: bits 0-1 the stream (1 stdout, 2 stderr), bit 2 partial. */
    readonly flags: Uint8Array,
  ) {}

  stream(i: number): 1 | 2 {
    return (this.flags[i]! & 3) as 1 | 2;
  }
  partial(i: number): boolean {
    return (this.flags[i]! & 4) !== 0;
  }
  msgStart(i: number): number {
    return this.index[i * 4 + 2]!;
  }
  msgEnd(i: number): number {
    return this.index[i * 4 + 3]!;
  }
  /** The message with its newline (unless partial), copied. */
  data(i: number): Buffer {
    const m = this.buf.subarray(this.msgStart(i), this.msgEnd(i));
    return this.partial(i) ? Buffer.from(m) : Buffer.concat([m, NL]);
  }
  rawTime(i: number): string {
    return this.buf.toString('latin1', this.index[i * 4]!, this.index[i * 4 + 1]!);
  }
  /** The timestamp as docker prints it (`logs -t`): UTC, nine fraction digits, `Z`. */
  time(i: number): string {
    const s = this.index[i * 4]!;
    const e = this.index[i * 4 + 1]!;
    // conmon stamps every line of one read alike: reuse the last conversion
    if (this.#lastTime >= 0) {
      const ls = this.index[this.#lastTime * 4]!;
      const le = this.index[this.#lastTime * 4 + 1]!;
      if (e - s === le - ls && this.buf.compare(this.buf, ls, le, s, e) === 0) return this.#lastTimeStr;
    }
    this.#lastTime = i;
    this.#lastTimeStr = dockerTime(this.buf.toString('latin1', s, e));
    return this.#lastTimeStr;
  }
  record(i: number): LogRecord {
    const time = this.rawTime(i);
    return { stream: this.stream(i), time, timeNs: rfc3339ToNs(time), data: this.data(i) };
  }
  /** Keep only the records `keep` accepts. */
  filter(keep: (b: LogBatch, i: number) => boolean): LogBatch {
    const idx = new Int32Array(this.count * 4);
    const fl = new Uint8Array(this.count);
    let n = 0;
    for (let i = 0; i < this.count; i++) {
      if (!keep(this, i)) continue;
      idx.set(this.index.subarray(i * 4, i * 4 + 4), n * 4);
      fl[n++] = this.flags[i]!;
    }
    return n === this.count ? this : new LogBatch(this.buf, n, idx, fl);
  }
}

const NL = Buffer.from('\n');
const SP = 0x20;
const LF = 0x0a;

/**
 * Parse the complete lines of `buf[start, end)`. Returns the batch and the offset just past the
 * last newline (bytes after it are an incomplete line). Lines that are not k8s-file records are skipped.
 */
export function parseLogChunk(buf: Buffer, start: number, end: number): { batch: LogBatch; consumed: number } {
  let cap = Math.max(16, ((end - start) / 48) | 0);
  let index = new Int32Array(cap * 4);
  let flags = new Uint8Array(cap);
  let n = 0;
  let ls = start;
  for (;;) {
    let le = buf.indexOf(LF, ls);
    if (le < 0 || le >= end) break;
    const a = buf.indexOf(SP, ls);
    if (a > ls && a < le) {
      // "stdout" / "stderr": both six bytes
      let b = a + 7;
      if (b >= le || buf[b] !== SP) b = buf.indexOf(SP, a + 1);
      if (b > a && b < le) {
        const stream = buf[a + 4] === 0x65 /* e: stderr */ ? 2 : 1;
        let c = buf.indexOf(SP, b + 1);
        if (c < 0 || c > le) c = le;
        let partial = 0;
        for (let k = b + 1; k < c; k++) if (buf[k] === 0x50 /* P */) partial = 4;
        if (n === cap) {
          cap *= 2;
          const i2 = new Int32Array(cap * 4);
          i2.set(index);
          index = i2;
          const f2 = new Uint8Array(cap);
          f2.set(flags);
          flags = f2;
        }
        const o = n * 4;
        index[o] = ls;
        index[o + 1] = a;
        index[o + 2] = c < le ? c + 1 : le;
        index[o + 3] = le;
        flags[n++] = stream | partial;
      }
    }
    ls = le + 1;
    le = -1;
  }
  return { batch: new LogBatch(buf, n, index, flags), consumed: ls };
}

/** Parse `2026-…Z stdout F hello` lines; `P` marks a partial line (no newline added). */
export function parseLogLine(line: string): LogRecord | undefined {
  const buf = Buffer.from(line + '\n');
  const { batch } = parseLogChunk(buf, 0, buf.length);
  return batch.count ? batch.record(0) : undefined;
}

export function rfc3339ToNs(t: string): bigint {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return 0n;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return 0n;
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

/** RFC3339 with nine fraction digits in UTC, docker's jsonmessage.RFC3339NanoFixed. */
export function formatTimeNs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const sec = new Date(ms - (((ms % 1000) + 1000) % 1000)).toISOString().slice(0, 19);
  const frac = (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0');
  return `${sec}.${frac}Z`;
}

/** conmon's `…T03:42:30.641091726+00:00` as docker prints it: `…T03:42:30.641091726Z`. */
export function dockerTime(raw: string): string {
  // fast path: already UTC with nine digits (conmon under TZ=UTC)
  if (raw.length === 35 && raw.endsWith('+00:00') && raw[19] === '.') return raw.slice(0, 29) + 'Z';
  if (raw.length === 30 && raw.endsWith('Z') && raw[19] === '.') return raw;
  const ns = rfc3339ToNs(raw);
  return ns === 0n ? raw : formatTimeNs(ns);
}

// ---------------------------------------------------------------------------------------------
// rotated files

/** Per log path: rotation and the opening of a consistent file set exclude each other. */
const locks = new Map<string, Promise<void>>();
async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(path) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = prev.then(() => mine);
  locks.set(path, chained);
  await prev;
  try {
    return await fn();
  } finally {
    release();
    if (locks.get(path) === chained) locks.delete(path);
  }
}

interface OpenFile {
  fh: FileHandle;
  ino: number;
  size: number;
}

const MAX_ROTATED = 1000;

async function openIfExists(p: string): Promise<OpenFile | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(p, 'r');
  } catch {
    return undefined;
  }
  const st = await fh.stat();
  return { fh, ino: st.ino, size: st.size };
}

/**
 * Open `<log>.N` … `<log>.1`, `<log>` (oldest first) as one consistent set; the live file may be
 * missing (mid-rotation, or never started). With `newerThan`, only the files newer than that inode
 * (all of them if it is no longer among the rotated files).
 */
async function openSet(path: string, newerThan?: number): Promise<OpenFile[]> {
  return withLock(path, async () => {
    const rotated: OpenFile[] = [];
    for (let i = 1; i <= MAX_ROTATED; i++) {
      const f = await openIfExists(`${path}.${i}`);
      if (!f) break;
      rotated.push(f);
    }
    const live = await openIfExists(path);
    let files = [...rotated.reverse()];
    if (newerThan !== undefined) {
      const at = files.findIndex((f) => f.ino === newerThan);
      if (at >= 0) {
        await Promise.all(files.slice(0, at + 1).map((f) => f.fh.close()));
        files = files.slice(at + 1);
      }
    }
    if (live && live.ino !== newerThan) files.push(live);
    else await live?.fh.close();
    return files;
  });
}

/** Rotated file names of a log, for removal with the container. */
export async function logFiles(path: string): Promise<string[]> {
  const out = [path];
  for (let i = 1; i <= MAX_ROTATED; i++) {
    const p = `${path}.${i}`;
    if (!(await stat(p).catch(() => undefined))) break;
    out.push(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// reading

export interface LogOptions {
  follow: boolean;
  since?: bigint;
  until?: bigint;
  tail?: number; // -1 = all
  signal: AbortSignal;
  /** While following: is the writer still alive? */
  isLive: () => boolean;
}

const CHUNK = 1 << 20;

/** Whether the k8s-file record at `pos` ends a line (`F`) or is a partial piece of one (`P`). */
async function endsLine(fh: FileHandle, pos: number): Promise<boolean> {
  const head = Buffer.allocUnsafe(96);
  const { bytesRead } = await fh.read(head, 0, head.length, pos);
  const a = head.indexOf(0x20);
  const b = a < 0 ? -1 : head.indexOf(0x20, a + 1);
  const c = b < 0 ? -1 : head.indexOf(0x20, b + 1);
  if (b < 0 || b >= bytesRead) return true;
  const tag = head.subarray(b + 1, c < 0 || c > bytesRead ? bytesRead : c).toString('latin1');
  return !tag.includes('P');
}

/**
 * Where `--tail n` starts: file index and offset of the first record of the n-th last line,
 * counting back from the snapshot ends. Lines, not records: conmon splits a line it happens to
 * read in two pieces into P and F records, and `docker logs --tail` counts whole lines.
 */
async function tailStart(files: OpenFile[], n: number): Promise<{ file: number; pos: number }> {
  if (n === 0) return { file: files.length - 1, pos: files.at(-1)?.size ?? 0 };
  const buf = Buffer.allocUnsafe(1 << 16);
  let lines = 0;
  for (let f = files.length - 1; f >= 0; f--) {
    const file = files[f]!;
    // the newline ending the record found last; an incomplete last line is not a record yet
    let lastLf = -1;
    // a record (recStart .. lastLf) is complete: does it end the (n+1)-th line from the end?
    const record = async (recStart: number): Promise<{ file: number; pos: number } | undefined> => {
      if (await endsLine(file.fh, recStart)) {
        if (lines === n) return { file: f, pos: lastLf + 1 };
        lines++;
      }
      return undefined;
    };
    let end = file.size;
    while (end > 0) {
      const start = Math.max(0, end - buf.length);
      const { bytesRead } = await file.fh.read(buf, 0, end - start, start);
      let i = bytesRead;
      while (i > 0) {
        const j = buf.lastIndexOf(LF, i - 1);
        if (j < 0) break;
        if (lastLf >= 0) {
          const hit = await record(start + j + 1);
          if (hit) return hit;
        }
        lastLf = start + j;
        i = j;
      }
      end = start;
    }
    // the file start begins a record
    if (lastLf >= 0) {
      const hit = await record(0);
      if (hit) return hit;
    }
  }
  return { file: 0, pos: 0 };
}

/**
 * Read (and with `follow`, keep reading) a container's log across its rotated files, oldest
 * first, in batches of records. Follows the live file across rotations without losing or
 * repeating records; ends when the writer is gone (`isLive`), `until` passed, or on abort.
 */
export async function* readLogBatches(path: string, opts: LogOptions): AsyncGenerator<LogBatch> {
  let files = await openSet(path);
  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  let changed = false;
  try {
    if (!files.length) {
      if (!opts.follow) return;
      // the log appears when the container starts
      while (!opts.signal.aborted && opts.isLive()) {
        await new Promise((r) => setTimeout(r, 50));
        files = await openSet(path);
        if (files.length) break;
      }
      if (!files.length) return;
    }
    let cur = 0;
    let pos = 0;
    if (opts.tail !== undefined && opts.tail >= 0) ({ file: cur, pos } = await tailStart(files, opts.tail));
    for (let f = 0; f < cur; f++) await files[f]!.fh.close();
    const filter = opts.since !== undefined || opts.until !== undefined ? timeFilter(opts.since, opts.until) : undefined;
    let rest: Buffer | undefined;
    let pastUntil = false;
    /** Read `file` from `pos` to `limit` (or its end), yielding batches. */
    const drain = async function* (file: OpenFile, limit = Infinity): AsyncGenerator<LogBatch> {
      for (;;) {
        const want = Math.min(CHUNK, limit - pos);
        if (want <= 0) return;
        const carry = rest?.length ?? 0;
        const buf = Buffer.allocUnsafe(carry + want);
        if (rest) rest.copy(buf, 0);
        const { bytesRead } = await file.fh.read(buf, carry, want, pos);
        if (bytesRead === 0) return;
        pos += bytesRead;
        const end = carry + bytesRead;
        const { batch, consumed } = parseLogChunk(buf, 0, end);
        rest = consumed < end ? buf.subarray(consumed, end) : undefined;
        let out = batch;
        if (filter) {
          const r = filter(batch);
          out = r.batch;
          if (r.pastUntil) pastUntil = true;
        }
        if (out.count) yield out;
        if (pastUntil) return;
      }
    };
    // the older files, in full; then the newest up to its size now (`--tail` counted up to there)
    for (; cur < files.length - 1; cur++) {
      yield* drain(files[cur]!);
      if (pastUntil) return;
      await files[cur]!.fh.close();
      rest = undefined;
      pos = 0;
    }
    let live = files[cur]!;
    files = files.slice(cur);
    if (!opts.follow) {
      yield* drain(live, live.size);
      return;
    }
    yield* drain(live);
    if (pastUntil) return;
    try {
      watcher = watch(dirname(path), () => {
        changed = true;
        wake?.();
      });
    } catch {
      /* poll */
    }
    const until = opts.until;
    while (!opts.signal.aborted) {
      const alive = opts.isLive();
      changed = false;
      yield* drain(live);
      if (pastUntil) return;
      // rotated: a new inode at <log> means conmon closed ours, which is final now
      const st = await stat(path).catch(() => undefined);
      if (st && st.ino !== live.ino) {
        yield* drain(live);
        if (pastUntil) return;
        const next = await openSet(path, live.ino);
        await live.fh.close();
        files = next;
        for (let i = 0; i < next.length - 1; i++) {
          rest = undefined;
          pos = 0;
          yield* drain(next[i]!);
          await next[i]!.fh.close();
          if (pastUntil) {
            await Promise.all(next.slice(i + 1).map((f) => f.fh.close()));
            return;
          }
        }
        if (!next.length) return; // cannot happen: <log> exists
        live = next.at(-1)!;
        rest = undefined;
        pos = 0;
        continue;
      }
      if (!alive) return;
      if (until !== undefined && BigInt(Date.now()) * 1_000_000n > until) return;
      if (changed) continue;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          wake = undefined;
          opts.signal.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, 200);
        wake = done;
        opts.signal.addEventListener('abort', done, { once: true });
      });
    }
  } finally {
    watcher?.close();
    await Promise.all(files.map((f) => f.fh.close().catch(() => {})));
  }
}

/** since/until on raw timestamps; the time of a run of equal stamps is parsed once. */
function timeFilter(since: bigint | undefined, until: bigint | undefined): (b: LogBatch) => { batch: LogBatch; pastUntil: boolean } {
  let lastRaw = '';
  let lastNs = 0n;
  return (b) => {
    let pastUntil = false;
    const batch = b.filter((x, i) => {
      if (pastUntil) return false;
      const raw = x.rawTime(i);
      if (raw !== lastRaw) {
        lastRaw = raw;
        lastNs = rfc3339ToNs(raw);
      }
      if (since !== undefined && lastNs < since) return false;
      if (until !== undefined && lastNs > until) {
        pastUntil = true;
        return false;
      }
      return true;
    });
    return { batch, pastUntil };
  };
}

/** Record by record (attach's log replay); see readLogBatches. */
export async function* readLog(path: string, opts: LogOptions): AsyncGenerator<LogRecord> {
  for await (const b of readLogBatches(path, opts)) {
    for (let i = 0; i < b.count; i++) yield b.record(i);
  }
}

// ---------------------------------------------------------------------------------------------
// rotation

/** How to rotate one container's log: its path, limits, and conmon's ctl fifo (REOPEN_LOGS). */
export interface RotationTarget {
  path: string;
  maxSize: number;
  maxFile: number;
  /** conmon's ctl fifo; undefined when no monitor runs. */
  ctl?: string;
}

/**
 * Rotate `<log>` now: shift `<log>.i` → `<log>.i+1` (dropping the oldest past maxFile), rename
 * `<log>` → `<log>.1`, ask conmon to reopen. With `ifAtLeast`, only a file that large rotates. With maxFile 1 the old file is removed once conmon
 * reopened (readers holding it still read it to the end).
 */
export async function rotateLog(t: RotationTarget, opts: { ifAtLeast?: number } = {}): Promise<void> {
  const st = await stat(t.path).catch(() => undefined);
  if (!st || st.size < (opts.ifAtLeast ?? 0)) return;
  const keep = Math.max(1, t.maxFile);
  await withLock(t.path, async () => {
    if (keep > 1) {
      await unlink(`${t.path}.${keep - 1}`).catch(() => {});
      for (let i = keep - 2; i >= 1; i--) await rename(`${t.path}.${i}`, `${t.path}.${i + 1}`).catch(() => {});
    }
    await rename(t.path, `${t.path}.1`);
  });
  // no waiting for conmon's reopen: until it happened there is no <log> to rotate again, and the
  // new file's creation (a rename in the directory) wakes the rotator's watch
  const reopened = t.ctl ? await reopenLogs(t.ctl) : false;
  if (keep === 1) {
    if (reopened) await waitForNewInode(t.path, st.ino, 2000);
    await withLock(t.path, () => unlink(`${t.path}.1`).catch(() => {}));
  }
}

/** conmon's ctl fifo, type 2 = REOPEN_LOGS. False when no conmon reads it (ENXIO: never block on a fifo). */
async function reopenLogs(ctl: string): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await open(ctl, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    await fh.write('2 0 0\n');
    return true;
  } catch {
    return false;
  } finally {
    await fh.close();
  }
}

async function waitForNewInode(path: string, ino: number, ms: number): Promise<void> {
  const t0 = Date.now();
  let delay = 1;
  while (Date.now() - t0 < ms) {
    const st = await stat(path).catch(() => undefined);
    if (st && st.ino !== ino) return;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}

/**
 * Watches the live logs of running containers and rotates each once it reaches its max-size.
 * One inotify watch per container directory; a stat per burst of writes.
 */
const REARM_MS = 20;

export class LogRotator {
  readonly #watched = new Map<string, { close(): void }>();
  constructor(private readonly log?: Logger) {}

  /** Start watching `t.path` (replacing an earlier watch of it); rotates at once if already full. */
  watch(t: RotationTarget): void {
    this.unwatch(t.path);
    let busy = false;
    let again = false;
    let closed = false;
    const check = async (): Promise<void> => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        do {
          again = false;
          if (!closed) await rotateLog(t, { ifAtLeast: t.maxSize });
        } while (again && !closed);
      } catch (err) {
        this.log?.warn({ err, path: t.path }, 'log rotation failed');
      } finally {
        busy = false;
      }
    };
    // inotify, re-armed at most every REARM_MS: every write is an event, and taking them all kept
    // berthd busy competing with conmon for the CPU (1.1 s of berthd CPU for 100 MB of output);
    // a plain size poll reacted too late (a fast writer overshot max-size by ~600 KB per file).
    // After an event the watch is dropped, the size checked, and the watch set again shortly
    // after, with one more check for what was written in between.
    const dir = dirname(t.path);
    const base = basename(t.path);
    let w: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      timer = undefined;
      if (closed) return;
      try {
        w = watch(dir, (_ev, name) => {
          if (name !== base || !w) return;
          w.close();
          w = undefined;
          void check().finally(() => {
            if (!closed) timer = setTimeout(arm, REARM_MS).unref();
          });
        });
        w.on('error', () => {});
      } catch (err) {
        this.log?.warn({ err, path: t.path }, 'cannot watch the log for rotation');
        return;
      }
      void check();
    };
    arm();
    this.#watched.set(t.path, {
      close: () => {
        closed = true;
        w?.close();
        if (timer) clearTimeout(timer);
      },
    });
  }

  /** Stop watching (the container stopped or is removed). */
  unwatch(path: string): void {
    this.#watched.get(path)?.close();
    this.#watched.delete(path);
  }

  close(): void {
    for (const w of this.#watched.values()) w.close();
    this.#watched.clear();
  }
}
