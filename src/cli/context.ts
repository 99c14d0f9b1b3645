import type { Readable, Writable } from 'node:stream';
import { EngineClient } from '../client/index.ts';

/** The process edges a command may touch; tests pass fakes. */
export interface CliIO {
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  /** Registers a process signal handler; returns its remover. Tests pass a no-op. */
  onSignal?: (signal: NodeJS.Signals, handler: () => void) => () => void;
}

/** Shared state of one CLI invocation: IO, the global `-H` flag, the lazily made client. */
export class CliContext {
  /** From `-H/--host`; falls back to BERTH_HOST, DOCKER_HOST, then the default socket. */
  host: string | undefined;
  /** The process exit code once the command returns (a command may set it without throwing). */
  exitCode = 0;
  readonly programName: string;
  #client: EngineClient | undefined;

  constructor(
    readonly io: CliIO,
    programName = 'berth',
  ) {
    this.programName = programName;
  }

  /** The Engine API client, made on first use so `--help` never touches the socket. */
  get client(): EngineClient {
    this.#client ??= new EngineClient({ host: this.#resolvedHost() });
    return this.#client;
  }

  /** Closes idle connections (the CLI exits right after anyway). */
  close(): void {
    this.#client?.close();
  }

  out(text: string): void {
    this.io.stdout.write(text);
  }

  err(text: string): void {
    this.io.stderr.write(text);
  }

  #resolvedHost(): string | undefined {
    return this.host || this.io.env['BERTH_HOST'] || this.io.env['DOCKER_HOST'] || undefined;
  }
}
