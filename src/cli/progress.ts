// Displays the daemon's JSON progress streams (pull, load, import) as the docker CLI's
// jsonmessage does for a non-terminal: one line per message, progress bars left out.
import type { Writable } from 'node:stream';
import type { ProgressMessage } from '../api/index.ts';

/** Writes each message; throws an Error with the daemon's message for an error message. */
export async function displayProgress(messages: AsyncIterable<ProgressMessage>, out: Writable | undefined): Promise<ProgressMessage[]> {
  const seen: ProgressMessage[] = [];
  for await (const m of messages) {
    seen.push(m);
    if (m.errorDetail?.message || m.error) throw new Error(m.errorDetail?.message || m.error);
    if (!out) continue;
    const line = formatProgress(m);
    if (line !== undefined) out.write(line);
  }
  return seen;
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
