import { createRequire } from 'node:module';
import type { SeqpacketSocket } from 'node-unix-socket';
import { EventEmitter } from 'node:events';

/** Output frames from a container: 1 = stdout, 2 = stderr (Docker's stream numbers). */
export interface OutputFrame {
  stream: 1 | 2;
  data: Buffer;
}

// Loaded on first attach: the native module costs ~3 MiB of RSS that an idle berthd need not carry.
let SeqpacketCtor: typeof SeqpacketSocket | undefined;
function seqpacket(): typeof SeqpacketSocket {
  SeqpacketCtor ??= (createRequire(import.meta.url)('node-unix-socket') as { SeqpacketSocket: typeof SeqpacketSocket }).SeqpacketSocket;
  return SeqpacketCtor;
}

/**
 * One connection to conmon's SOCK_SEQPACKET attach socket. Packets from conmon start with one
 * byte (2 = stdout, 3 = stderr); bytes written go to the container's stdin. Emits 'frame'
 * (OutputFrame) and 'end' once (conmon closed it: the container exited, or we closed).
 */
export class AttachConnection extends EventEmitter {
  #sock: SeqpacketSocket;
  #ended = false;
  private constructor(sock: SeqpacketSocket) {
    super();
    this.#sock = sock;
    sock.on('data', (b: Buffer) => {
      if (b.length < 1) return;
      const t = b[0];
      if (t === 2 || t === 3) this.emit('frame', { stream: t === 2 ? 1 : 2, data: Buffer.from(b.subarray(1)) } satisfies OutputFrame);
    });
    // The socket closes only once both sides are done (node-unix-socket): when conmon ends the
    // stream, destroy it here, or its handle, its fd and every listener on this connection (a
    // build's whole context, through a RUN step's output callback) stay alive for good.
    const end = (): void => {
      sock.destroy();
      if (this.#ended) return;
      this.#ended = true;
      this.emit('end');
    };
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', end);
  }

  static connect(path: string): Promise<AttachConnection> {
    return new Promise((resolve, reject) => {
      const sock = new (seqpacket())();
      const onErr = (e: Error): void => reject(e);
      sock.once('error', onErr);
      sock.connect(path, () => {
        sock.off('error', onErr);
        resolve(new AttachConnection(sock));
      });
    });
  }

  get ended(): boolean {
    return this.#ended;
  }

  write(data: Buffer): void {
    if (!this.#ended) this.#sock.write(data);
  }

  /** Half-close: conmon then closes the container's stdin (unless it was told to leave it open). */
  closeWrite(): void {
    if (!this.#ended) this.#sock.end();
  }

  close(): void {
    this.#sock.destroy();
    if (this.#ended) return;
    this.#ended = true;
    this.emit('end');
  }
}
