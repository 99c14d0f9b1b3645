import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, conflict, discard, invalid, newId, notFound, type Logger } from '../common/index.ts';
import type { RuntimeSpec } from '../oci/index.ts';
import { AttachConnection, type ExecHandle, type Monitor, type OutputFrame } from '../runtime/index.ts';
import type { EventBus } from './events.ts';
import { mergeEnv, type ContainerService } from './containers.ts';
import { ProbeOutput, type HealthProber, type ProbeOutcome } from './health.ts';
import { resolveUser } from '../runtime/index.ts';

/** What `docker exec` asks for (Docker's ExecConfig, camelCase). */
export interface ExecConfig {
  cmd: string[];
  env: string[];
  user: string;
  workingDir: string;
  tty: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  privileged: boolean;
  detachKeys: string;
  consoleSize?: [number, number];
}

export interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
}

/** A started exec session: output frames, stdin; `done` settles with the exit code. */
export interface ExecSession {
  tty: boolean;
  onFrame(fn: (f: OutputFrame) => void): void;
  writeStdin(data: Buffer): void;
  closeStdin(): void;
  /** Resolves with the exit code when the process ends. */
  done: Promise<number>;
  /** Stop relaying (client went away or detached); the process keeps running. */
  close(): void;
}

/**
 * Exec sessions, in memory as Docker keeps them: each runs under its own conmon (`-e --exec-attach`)
 * with its own directory under the exec root. Sessions of a removed container are gone.
 */
export class ExecService implements HealthProber {
  readonly #execs = new Map<string, ExecRecord & { handle?: ExecHandle }>();

  constructor(
    private readonly d: {
      containers: ContainerService;
      monitor: Monitor;
      events: EventBus;
      log: Logger;
      /** <exec-root>/exec */
      root: string;
      hostCaps?: ReadonlySet<string>;
    },
  ) {}

  /** POST /containers/{id}/exec. conflict when the container is not running or paused. */
  create(idOrName: string, config: ExecConfig): string {
    const c = this.d.containers.get(idOrName);
    if (c.state.status === 'paused') throw conflict(`Container ${c.id} is paused, unpause the container before exec`);
    if (c.state.status !== 'running') throw conflict(`Container ${c.id} is not running`);
    if (config.cmd.length === 0) throw invalid('No exec command specified');
    const id = newId();
    this.#execs.set(id, { id, containerId: c.id, config, running: false, started: false, exitCode: null, pid: 0 });
    this.d.events.emit('container', `exec_create: ${commandText(config.cmd)}`, c.id, { execID: id, name: c.name, image: c.imageRef });
    return id;
  }

  /** The session; not-found `No such exec instance: x` (also once its container is gone). */
  get(id: string): ExecRecord {
    const e = this.#execs.get(id);
    if (!e) throw notFound('exec instance', id);
    try {
      this.d.containers.get(e.containerId);
    } catch {
      this.#execs.delete(id);
      throw notFound('exec instance', id);
    }
    return e;
  }

  /** Exec ids of a container that have not ended (inspect's ExecIDs); ended ones stay inspectable by id. */
  idsOf(containerId: string): string[] {
    // compat: dockerd drops an exec from the container's list when it exits
    return [...this.#execs.values()].filter((e) => e.containerId === containerId && !(e.started && !e.running && e.exitCode !== null)).map((e) => e.id);
  }

  /**
   * POST /exec/{id}/start. Runs the process; with `attach`, output is relayed from before the
   * process starts. A process that cannot be run gets Docker's 126/127 exit code and the runtime's
   * message as the error.
   */
  /** The checks `start` makes before anything runs (so a server can answer them with a status code). */
  assertStartable(id: string): ExecRecord {
    const e = this.get(id);
    if (e.started) throw conflict(`Exec command ${id} is already running`);
    const c = this.d.containers.get(e.containerId);
    if (c.state.status === 'paused') throw conflict(`Container ${c.id} is paused, unpause the container before exec`);
    if (c.state.status !== 'running') throw conflict(`Container ${c.id} is not running`);
    return e;
  }

  async start(id: string, opts: { attach: boolean; tty?: boolean; consoleSize?: [number, number] }): Promise<ExecSession> {
    const e = this.assertStartable(id) as ExecRecord & { handle?: ExecHandle };
    const c = this.d.containers.get(e.containerId);
    e.started = true;
    const tty = opts.tty ?? e.config.tty;
    const bundle = this.d.containers.bundleDir(c.id);
    const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as RuntimeSpec;
    let user;
    try {
      user = await resolveUser(join(bundle, 'rootfs'), e.config.user || c.user);
    } catch (err) {
      // compat: moby gives 126 to an exec that fails before it starts
      e.exitCode = 126;
      throw err;
    }
    const env = mergeEnv(spec.process.env, e.config.env);
    const process = {
      ...spec.process,
      terminal: tty,
      args: e.config.cmd,
      env,
      cwd: e.config.workingDir || spec.process.cwd,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      ...(tty && (opts.consoleSize ?? e.config.consoleSize) ? { consoleSize: { height: (opts.consoleSize ?? e.config.consoleSize)![0], width: (opts.consoleSize ?? e.config.consoleSize)![1] } } : {}),
    } as RuntimeSpec['process'];
    if (!tty) delete process.consoleSize;
    if (e.config.privileged && this.d.hostCaps) {
      const all = [...this.d.hostCaps];
      process.capabilities = { bounding: all, effective: all, permitted: all };
    }
    const dir = join(this.d.root, id);
    await mkdir(this.d.root, { recursive: true });
    const handle = await this.d.monitor.exec(c.id, id, dir, process, { tty, stdin: e.config.attachStdin && opts.attach });
    e.handle = handle;
    const handlers: ((f: OutputFrame) => void)[] = [];
    const early: OutputFrame[] = []; // frames that arrive before the caller registers a handler
    let conn: AttachConnection | undefined;
    if (opts.attach) {
      conn = await AttachConnection.connect(handle.attachSocket);
      conn.on('frame', (f: OutputFrame) => {
        if ((f.stream === 1 && !e.config.attachStdout) || (f.stream === 2 && !e.config.attachStderr)) return;
        if (handlers.length === 0) early.push(f);
        for (const h of handlers) h(f);
      });
    }
    const finished = (code: number): void => {
      e.running = false;
      e.exitCode = code;
      e.handle = undefined;
      this.d.events.emit('container', 'exec_die', c.id, { execID: id, exitCode: String(code), name: c.name, image: c.imageRef });
      void discard(dir).catch(() => {});
    };
    try {
      e.pid = await handle.start();
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      conn?.close();
      finished(/executable file not found|no such file or directory/i.test(msg) ? 127 : 126);
      // compat: dockerd's wording for an exec the runtime refused
      throw new BerthError(/not found|no such file/i.test(msg) ? 'not-found' : 'invalid-argument', `OCI runtime exec failed: ${msg}: unknown`, { cause: err });
    }
    e.running = true;
    this.d.events.emit('container', `exec_start: ${commandText(e.config.cmd)}`, c.id, { execID: id, name: c.name, image: c.imageRef });
    // the output ends after the exit code is known only if the socket closes; wait for both
    const outputDone = conn ? new Promise<void>((r) => (conn!.ended ? r() : conn!.once('end', () => r()))) : Promise.resolve();
    const done = handle.exited.then(async (code) => {
      await Promise.race([outputDone, new Promise((r) => setTimeout(r, 2000))]);
      finished(code);
      return code;
    });
    return {
      tty,
      onFrame: (fn) => {
        handlers.push(fn);
        for (const f of early.splice(0)) fn(f);
      },
      writeStdin: (data) => conn?.write(data),
      closeStdin: () => conn?.closeWrite(),
      done,
      close: () => conn?.close(),
    };
  }

  /**
   * A health probe: `cmd` as an exec session (with dockerd's exec_create/exec_start/exec_die
   * events) in running container `containerId`, its stdout and stderr collected by ProbeOutput.
   * At `timeoutMs` or when `signal` aborts, the process is killed and the outcome has exit code -1.
   * The session is forgotten once it ends, so it never lingers in inspect's ExecIDs. Rejects when
   * the process cannot be started (not running, paused, no such executable).
   */
  async probe(containerId: string, cmd: string[], opts: { timeoutMs: number; signal: AbortSignal }): Promise<ProbeOutcome> {
    const id = this.create(containerId, {
      cmd, env: [], user: '', workingDir: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true, privileged: false, detachKeys: '',
    });
    try {
      const session = await this.start(id, { attach: true });
      const out = new ProbeOutput();
      session.onFrame((f) => out.write(f.data));
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const stopped = new Promise<'timeout' | 'aborted'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), opts.timeoutMs);
        onAbort = () => resolve('aborted');
        if (opts.signal.aborted) onAbort();
        else opts.signal.addEventListener('abort', onAbort, { once: true });
      });
      const first = await Promise.race([session.done, stopped]);
      clearTimeout(timer);
      if (onAbort) opts.signal.removeEventListener('abort', onAbort);
      if (typeof first === 'number') return { exitCode: first, output: out.text(), timedOut: false };
      const pid = this.#execs.get(id)?.pid ?? 0;
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      // as dockerd, wait for the killed probe to end so that dying probes do not pile up
      await Promise.race([session.done, new Promise((r) => setTimeout(r, 5000))]);
      session.close();
      return { exitCode: -1, output: out.text(), timedOut: first === 'timeout' };
    } finally {
      this.#execs.delete(id);
    }
  }

  async resize(id: string, rows: number, cols: number): Promise<void> {
    const e = this.get(id) as ExecRecord & { handle?: ExecHandle };
    if (!e.handle) throw conflict(`Exec ${id} is not running`);
    if (e.config.tty) await e.handle.resize(rows, cols);
  }
}

/** An exec's command in its events: dockerd writes the entrypoint, a space, then the arguments (so `true ` for `true`). */
function commandText(cmd: string[]): string {
  return `${cmd[0] ?? ''} ${cmd.slice(1).join(' ')}`;
}
