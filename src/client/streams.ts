import type { Readable, Writable } from 'node:stream';

/** Stream numbers of Docker's multiplexed framing (`stdcopy`). */
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
/** compat: API 1.42+ daemons send this frame type for system errors after the headers. */
export const SYSTEM_ERROR = 3;

export interface Frame {
  stream: number;
  data: Buffer;
}

/**
 * Splits a stream of concatenated JSON values (newline-delimited or not) into parsed values.
 * Docker's progress, events and stats streams are newline-delimited, but some daemons omit the
 * newline between objects, so this tracks nesting rather than splitting on `\n`.
 */
export async function* jsonStream<T = unknown>(
  source: AsyncIterable<Buffer | string>,
  transform: (text: string) => string = (t) => t,
): AsyncGenerator<T> {
  let buf = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let scanned = 0;
  for await (const chunk of source) {
    buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let i = scanned;
    for (; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) inString = false;
        continue;
      }
      if (c === 0x22) {
        inString = true;
      } else if (c === 0x7b || c === 0x5b) {
        if (depth === 0) start = i;
        depth++;
      } else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0 && start >= 0) {
          yield JSON.parse(transform(buf.slice(start, i + 1))) as T;
          buf = buf.slice(i + 1);
          i = -1;
          start = -1;
        }
      }
    }
    scanned = i;
  }
  const rest = buf.trim();
  if (rest) yield JSON.parse(transform(rest)) as T;
}

/**
 * Decodes Docker's 8-byte multiplexed framing: `[stream, 0, 0, 0, size(uint32 BE)]` then `size`
 * bytes. Yields one frame per header; a trailing partial frame is dropped.
 */
export async function* demux(source: AsyncIterable<Buffer>): AsyncGenerator<Frame> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of source) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let off = 0;
    while (pending.length - off >= 8) {
      const size = pending.readUInt32BE(off + 4);
      if (pending.length - off - 8 < size) break;
      const stream = pending[off] ?? STDOUT;
      yield { stream, data: pending.subarray(off + 8, off + 8 + size) };
      off += 8 + size;
    }
    pending = off === pending.length ? Buffer.alloc(0) : pending.subarray(off);
  }
}

/** Encodes one frame of the multiplexed framing (for tests and fake servers). */
export function frame(stream: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** Writes with backpressure: resolves once `out` accepts more. */
export function writeTo(out: Writable, data: Buffer | string): Promise<void> | undefined {
  if (out.write(data)) return undefined;
  return new Promise((resolve) => out.once('drain', resolve));
}

/**
 * Copies a daemon output stream to stdout and stderr: demultiplexed when `multiplexed`, else raw
 * (TTY containers). A SYSTEM_ERROR frame rejects with its text. Resolves when the source ends.
 */
export async function copyOutput(
  source: AsyncIterable<Buffer>,
  stdout: Writable,
  stderr: Writable,
  multiplexed: boolean,
): Promise<void> {
  if (!multiplexed) {
    for await (const chunk of source) await writeTo(stdout, chunk);
    return;
  }
  for await (const f of demux(source)) {
    if (f.stream === SYSTEM_ERROR) throw new Error(f.data.toString('utf8').trim());
    await writeTo(f.stream === STDERR ? stderr : stdout, f.data);
  }
}

/** Reads a whole stream into one buffer. */
export async function readAll(source: Readable | AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of source) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}
