// Interactive I/O over a hijacked connection (attach, exec start), as the docker CLI's
// hijackedIOStreamer does it: raw mode, the detach-key escape proxy, output copy, tty size.
import type { Hijacked } from '../client/index.ts';
import { copyOutput } from '../client/index.ts';
import type { CliContext } from './context.ts';

/** ctrl-p ctrl-q, docker's default detach sequence. */
export const DEFAULT_DETACH_KEYS = Buffer.from([16, 17]);

/** What the docker CLI prints (and exits 1 with) when `attach` or `exec` is detached. */
export const DETACHED_MESSAGE = 'read escape sequence';

const CTRL = ['@', ...'abcdefghijklmnopqrstuvwxyz', '[', '\\', ']', '^', '_'];

/**
 * moby/term ToBytes: a comma-separated list of `ctrl-<c>` (c in a-z @ [ \ ] ^ _), `DEL`, or
 * single characters. Throws on anything else.
 */
export function parseDetachKeys(keys: string): Buffer {
  const codes: number[] = [];
  for (const key of keys.split(',')) {
    if (key.length === 1) {
      codes.push(key.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/.exec(key);
    const code = m ? CTRL.indexOf(m[1] ?? '') : -1;
    if (code >= 0) codes.push(code);
    else if (key === 'DEL') codes.push(127);
    else throw new Error(`Unknown character: '${key}'`);
  }
  return Buffer.from(codes);
}

/**
 * Watches keyboard input for the detach sequence (moby/term's escape proxy). Bytes that start the
 * sequence are held back until it either completes (detach; what follows is dropped) or breaks
 * (the held bytes are sent after all).
 */
export class EscapeProxy {
  #pos = 0;

  constructor(readonly keys: Buffer) {}

  feed(chunk: Buffer): { forward: Buffer; detached: boolean } {
    const first = this.keys[0];
    if (this.#pos === 0 && (first === undefined || !chunk.includes(first))) return { forward: chunk, detached: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (this.#pos > 0 && b !== this.keys[this.#pos]) {
        out.push(...this.keys.subarray(0, this.#pos));
        this.#pos = 0;
      }
      if (b === this.keys[this.#pos]) {
        this.#pos++;
        if (this.#pos === this.keys.length) {
          this.#pos = 0;
          return { forward: Buffer.from(out), detached: true };
        }
        continue;
      }
      out.push(b);
    }
    return { forward: Buffer.from(out), detached: false };
  }
}

export interface StreamPlan {
  /** Copy local stdin to the connection (half-closing it at EOF). */
  stdin: boolean;
  /** The stream is a raw tty stream: stdin goes raw and is watched for the detach keys. */
  tty: boolean;
  /** `--detach-keys`; invalid keys fall back to the default, with a warning, as docker does. */
  detachKeys?: string;
}

/** How a hijacked stream ended: the output ended, or the user typed the detach sequence. */
export type StreamEnd = 'ended' | 'detached';

/**
 * Pumps stdin to `hijacked` and its output to stdout/stderr until the output ends or the user
 * detaches. With a tty and stdin the local terminal is in raw mode meanwhile; it is restored on
 * every way out (end, detach, error). Output errors (a daemon error frame) reject. The socket is
 * closed on return.
 */
export async function streamHijacked(ctx: CliContext, hijacked: Hijacked, plan: StreamPlan): Promise<StreamEnd> {
  const { socket } = hijacked;
  const stdin = ctx.io.stdin;
  // A write after the daemon closed the connection must not crash the CLI.
  socket.on('error', () => undefined);
  const cleanups: (() => void)[] = [];
  const raw = plan.stdin && plan.tty && !!stdin.isTTY && typeof stdin.setRawMode === 'function';
  if (raw) {
    stdin.setRawMode?.(true);
    cleanups.push(() => stdin.setRawMode?.(false));
  }
  try {
    const output = copyOutput(socket, ctx.io.stdout, ctx.io.stderr, !plan.tty).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ECONNRESET' && code !== 'ERR_STREAM_PREMATURE_CLOSE' && code !== 'EPIPE') throw err;
    });
    if (!plan.stdin) {
      await output;
      return 'ended';
    }
    let keys: Buffer = DEFAULT_DETACH_KEYS;
    if (plan.detachKeys) {
      try {
        keys = parseDetachKeys(plan.detachKeys);
      } catch (err) {
        ctx.err(`invalid detach escape keys, using default: ${(err as Error).message}\n`);
      }
    }
    const proxy = plan.tty ? new EscapeProxy(keys) : undefined;
    let done = false;
    const input = new Promise<StreamEnd | 'eof'>((resolve) => {
      const onData = (chunk: Buffer | string): void => {
        if (done) return;
        let data: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        let detached = false;
        if (proxy) ({ forward: data, detached } = proxy.feed(data));
        if (data.length && socket.writable && !socket.write(data)) {
          stdin.pause();
          socket.once('drain', () => done || stdin.resume());
        }
        if (detached) {
          done = true;
          resolve('detached');
        }
      };
      const onEnd = (): void => {
        // compat: the docker CLI half-closes at EOF and keeps reading the output.
        if (socket.writable) socket.end();
        resolve('eof');
      };
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdin.once('error', onEnd);
      cleanups.push(() => {
        done = true;
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.off('error', onEnd);
        stdin.pause();
      });
      if (stdin.readableEnded) onEnd();
      else stdin.resume();
    });
    const ended = output.then(() => 'ended' as const);
    const first = await Promise.race([ended, input]);
    if (first === 'eof') {
      await ended;
      return 'ended';
    }
    return first;
  } finally {
    for (const c of cleanups.reverse()) c();
    socket.destroy();
  }
}

/** The local terminal's size (`[rows, columns]`), or undefined when stdout is not a terminal. */
export function ttySize(ctx: CliContext): [number, number] | undefined {
  const out = ctx.io.stdout as CliContext['io']['stdout'] & { getWindowSize?: () => [number, number] };
  if (!out.isTTY) return undefined;
  // getWindowSize asks the kernel, so a SIGWINCH handler that runs before Node's sees the new size.
  const [columns, rows] = typeof out.getWindowSize === 'function' ? out.getWindowSize() : [out.columns ?? 0, out.rows ?? 0];
  return rows && columns ? [rows, columns] : undefined;
}

/**
 * docker's MonitorTtySize: resizes the remote tty to the local one now (retrying up to 10 times
 * while the process starts, then warning) and on every SIGWINCH. Returns the remover.
 */
export function monitorTtySize(ctx: CliContext, resize: (height: number, width: number) => Promise<void>): () => void {
  let stopped = false;
  const apply = async (): Promise<boolean> => {
    const size = ttySize(ctx);
    if (!size) return true;
    try {
      await resize(size[0], size[1]);
      return true;
    } catch {
      return false;
    }
  };
  void (async () => {
    if (await apply()) return;
    for (let retry = 0; retry < 10 && !stopped; retry++) {
      await new Promise((r) => setTimeout(r, (retry + 1) * 10).unref());
      if (await apply()) return;
    }
    if (!stopped) ctx.err('failed to resize tty, using default size\n');
  })();
  const remove = ctx.io.onSignal?.('SIGWINCH', () => void apply());
  return () => {
    stopped = true;
    remove?.();
  };
}

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** docker's ForwardAllSignals (for the signals Node can catch): sends each to the container. */
export function proxySignals(ctx: CliContext, id: string): () => void {
  const removers = PROXIED.map((sig) => ctx.io.onSignal?.(sig, () => void ctx.client.containerKill(id, sig).catch(() => undefined)));
  return () => removers.forEach((r) => r?.());
}
