import { BerthError } from '../common/index.ts';
import { frame } from './http.ts';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** Docker's detach-key syntax: comma-separated `ctrl-<c>` or single characters → bytes. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const k = part.trim();
    if (k.length === 1) {
      out.push(k.charCodeAt(0));
    } else if (/^ctrl-.$/i.test(k)) {
      const c = k.slice(5);
      const code = c.toLowerCase().charCodeAt(0);
      if (code >= 97 && code <= 122) out.push(code - 96);
      else if ('@[\\]^_'.includes(c)) out.push('@[\\]^_'.indexOf(c) === 0 ? 0 : 27 + '[\\]^_'.indexOf(c));
      else throw new BerthError('invalid-argument', `Invalid detach keys (${spec}) provided`);
    } else {
      throw new BerthError('invalid-argument', `Invalid detach keys (${spec}) provided`);
    }
  }
  return Buffer.from(out);
}

/**
 * Watches a client's input for the detach sequence. `feed` returns the bytes to forward to the
 * container and whether the sequence completed; a partial match is held back until it either
 * completes (and is swallowed) or fails (and is forwarded), as Docker's escape proxy does.
 */
export class DetachProxy {
  #held = 0;
  constructor(private readonly keys: Buffer) {}

  feed(data: Buffer): { forward: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const byte of data) {
      if (this.keys.length && byte === this.keys[this.#held]) {
        this.#held++;
        if (this.#held === this.keys.length) return { forward: Buffer.from(out), detached: true };
        continue;
      }
      for (let i = 0; i < this.#held; i++) out.push(this.keys[i]!);
      this.#held = 0;
      if (this.keys.length && byte === this.keys[0]) {
        this.#held = 1;
        if (this.keys.length === 1) return { forward: Buffer.from(out), detached: true };
        continue;
      }
      out.push(byte);
    }
    return { forward: Buffer.from(out), detached: false };
  }
}

/** The stream side of a hijacked attach or exec session. */
export interface RelaySession {
  tty: boolean;
  onFrame(fn: (f: { stream: 1 | 2; data: Buffer }) => void): void;
  writeStdin(data: Buffer): void;
  closeStdin(): void;
  close(): void;
}

/**
 * Pump a hijacked connection: output frames out (Docker's 8-byte framing unless tty), client bytes
 * in as stdin through the detach-key proxy. On the detach sequence the session stops relaying and
 * the connection ends; the process keeps running (compat: docker's detach).
 */
export function relay(sock: import('node:stream').Duplex, session: RelaySession, opts: { stdin: boolean; detachKeys: string }): void {
  const detach = new DetachProxy(parseDetachKeys(opts.detachKeys || DEFAULT_DETACH_KEYS));
  session.onFrame((f) => {
    if (sock.writable) sock.write(session.tty ? f.data : frame(f.stream, f.data));
  });
  if (opts.stdin) {
    sock.on('data', (d: Buffer) => {
      const { forward, detached } = detach.feed(d);
      if (forward.length) session.writeStdin(forward);
      if (detached) {
        session.close();
        sock.end();
      }
    });
    sock.on('end', () => session.closeStdin());
  } else sock.resume();
}
