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

/** Per-container supervisor (conmon): outlives berthd, holds stdio, writes the exit file. */
export interface Monitor {
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
