import { BerthError } from '../common/index.ts';

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
