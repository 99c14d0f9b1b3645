/** How a container's process ended, as conmon recorded it. */
export interface ExitInfo {
  code: number;
  oomKilled: boolean;
  finishedAt: Date;
}

export interface MonitorIo {
  tty: boolean;
  /** Keep a stdin pipe open for attach clients (`-i`). */
  stdin: boolean;
  /** Close the container's stdin when the first attach client half-closes (`docker run -i`'s StdinOnce). */
  stdinOnce?: boolean;
  logPath: string;
  /** Rotate the log at this size (bytes); 0 = no limit. */
  logSizeMax?: number;
}

/** A prepared exec session: its attach socket is ready; the process runs once `start` is called. */
export interface ExecHandle {
  /** SOCK_SEQPACKET attach socket of the session (connect before `start` to miss no output). */
  readonly attachSocket: string;
  /** Let the process run. Resolves with its pid; rejects with the runtime's message (e.g. exec: "x": executable file not found). */
  start(): Promise<number>;
  /** Resolves with the exit code once the process ended. */
  readonly exited: Promise<number>;
  resize(rows: number, cols: number): Promise<void>;
}

/** Per-container supervisor (conmon): outlives berthd, holds stdio, writes the exit file. */
export interface Monitor {
  /**
   * Prepare an exec session in running container `id`: `dir` is the session's own directory
   * (process.json, attach socket, exit file); `process` the OCI process to run.
   */
  exec(id: string, execId: string, dir: string, process: object, io: { tty: boolean; stdin: boolean }): Promise<ExecHandle>;
  /**
   * Spawn the monitor, which runs `<runtime> create`. Resolves with the container's init pid once
   * it exists (not yet started). Throws with the runtime's message when create fails.
   */
  create(id: string, bundle: string, io: MonitorIo): Promise<{ pid: number }>;
  /** The exit record, or undefined while the process has not exited. */
  exit(id: string): Promise<ExitInfo | undefined>;
  /** Forget a container's exit record (after the engine folded it in). */
  clearExit(id: string): Promise<void>;
  /** Path of the SOCK_SEQPACKET attach socket of a created container. */
  attachSocket(bundle: string): string;
  /** Ask the monitor to resize the terminal. */
  resize(bundle: string, rows: number, cols: number): Promise<void>;
  /** Calls `fn(id)` whenever an exit record appears. Returns a stop function. */
  watchExits(fn: (id: string) => void): () => void;
}
