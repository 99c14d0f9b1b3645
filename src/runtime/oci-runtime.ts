/** What runc/crun report for one container. */
export interface OciState {
  id: string;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  pid: number;
  bundle: string;
}

/** Thin wrapper over crun/runc. It knows no lifecycle rules: the engine decides what is legal. */
export interface OciRuntime {
  /** Binary name ("runc", "crun") as `docker info` shows it. */
  readonly name: string;
  /** Path of the binary, and the args conmon must pass it (e.g. --root). */
  readonly path: string;
  readonly globalArgs: string[];
  /** True when the runtime holds state for `id` (cheap: no process is spawned). */
  exists(id: string): Promise<boolean>;
  /** Ids the runtime holds state for. */
  list(): Promise<string[]>;
  /** Start a created container. Throws when the runtime refuses. */
  start(id: string): Promise<void>;
  /** Send a signal to the init process (or all processes). */
  kill(id: string, signal: string, opts?: { all?: boolean }): Promise<void>;
  /** Delete the runtime's state; `force` kills a running container first. Succeeds when unknown. */
  delete(id: string, opts?: { force?: boolean }): Promise<void>;
  /** The runtime's view; not-found when it does not know the id. */
  state(id: string): Promise<OciState>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Pids of every process in the container. */
  pids(id: string): Promise<number[]>;
  /** Apply new resource limits (the OCI `linux.resources` object) to a running container. */
  update(id: string, resources: object): Promise<void>;
}
