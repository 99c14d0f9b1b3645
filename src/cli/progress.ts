// Displays the daemon's JSON progress streams (pull, push, load, import) as the docker CLI's
// jsonmessage does: on a terminal one line per layer, redrawn in place with its progress bar; for
// anything else one line per message, progress bars left out.
import type { Writable } from 'node:stream';
import type { ProgressMessage } from '../api/index.ts';
// units.ts, not format/index.ts, which would bring the template engine into every verb that shows progress.
import { humanSize } from './format/units.ts';

/**
 * Writes each message; throws an Error with the daemon's message for an error message. `terminal`
 * defaults to whether `out` is a TTY; `width` to its columns (200 when unknown, as docker).
 */
export async function displayProgress(messages: AsyncIterable<ProgressMessage>, out: (Writable & { isTTY?: boolean; columns?: number }) | undefined, opts: { terminal?: boolean; width?: number } = {}): Promise<ProgressMessage[]> {
  const seen: ProgressMessage[] = [];
  const terminal = opts.terminal ?? !!out?.isTTY;
  const width = opts.width ?? out?.columns ?? 200;
  // jsonmessage's DisplayJSONMessagesStream: each id with progress gets a line, counted from the top
  let ids = new Map<string, number>();
  for await (const m of messages) {
    seen.push(m);
    if (m.errorDetail?.message || m.error) throw new Error(m.errorDetail?.message || m.error);
    if (!out) continue;
    if (!terminal) {
      const line = formatProgress(m);
      if (line !== undefined) out.write(line);
      continue;
    }
    if (m.aux !== undefined && m.aux !== null) continue;
    let diff = 0;
    const hasProgress = m.progressDetail !== undefined && m.progressDetail !== null;
    if (m.id && (hasProgress || m.progress)) {
      let line = ids.get(m.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(m.id, line);
        out.write('\n');
      }
      diff = ids.size - line;
      if (diff > 0) out.write(`\x1b[${diff}A`);
    } else {
      // anything else starts afresh: later progress must not redraw lines above it (pull -a)
      ids = new Map();
    }
    out.write(terminalLine(m, width));
    if (m.id && diff > 0) out.write(`\x1b[${diff}B`);
  }
  return seen;
}

/** One message as jsonmessage's Display draws it on a terminal (the line is cleared and rewritten for progress). */
export function terminalLine(m: ProgressMessage, width: number): string {
  const hasProgress = m.progressDetail !== undefined && m.progressDetail !== null;
  let s = '';
  let endl = '';
  if (!m.stream && hasProgress) {
    s += '\x1b[2K\r';
    endl = '\r';
  }
  if (m.id) s += `${m.id}: `;
  if (hasProgress) return `${s}${m.status ?? ''} ${progressString(m.progressDetail?.current ?? 0, m.progressDetail?.total ?? 0, width)}${endl}`;
  if (m.progress) return `${s}${m.status ?? ''} ${m.progress}${endl}`;
  if (m.stream) return `${s}${m.stream}${endl}`;
  return `${s}${m.status ?? ''}${endl}\n`;
}

/** jsonmessage's JSONProgress.String(): `[====>     ]  1.2MB/3.4MB`, the bar only past 110 columns. */
export function progressString(current: number, total: number, width: number): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current, 4).padStart(8);
  const pct = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = width > 110 ? `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] ` : '';
  const numbers = current > total ? humanSize(current, 4).padStart(8) : `${humanSize(current, 4).padStart(8)}/${humanSize(total, 4)}`;
  return bar + numbers;
}

/** One message as the non-terminal jsonmessage prints it, or undefined when it prints nothing. */
export function formatProgress(m: ProgressMessage): string | undefined {
  const detail = m.progressDetail;
  // compat: with a progress bar to draw (current or total set) a non-terminal prints nothing.
  if (!m.stream && detail && ((detail.current ?? 0) > 0 || (detail.total ?? 0) > 0)) return undefined;
  let s = '';
  if (m.id) s += `${m.id}: `;
  if (m.progress && !m.stream) return `${s}${m.status ?? ''} ${m.progress}\n`;
  if (m.stream) return `${s}${m.stream}`;
  if (m.status === undefined && !m.id) return undefined;
  return `${s}${m.status ?? ''}\n`;
}

/** `busybox` → `busybox:latest`; digests and tags are kept. */
export function normalizeRef(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref : `${ref}:latest`;
}

/** Splits a reference into the `fromImage` and `tag` query values the docker CLI sends. */
export function splitRef(ref: string): { fromImage: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { fromImage: ref.slice(0, at), tag: ref.slice(at + 1) };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { fromImage: ref, tag: 'latest' };
}
