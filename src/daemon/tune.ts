// Memory tuning for a daemon that idles most of the time (issue #2: idle RSS ≤ 60 MiB). The figures
// are from the bench VM (docs/status.md): what berthd's idle RSS grows by without that measure alone.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '../common/index.ts';
import { clearCloexec, execve, mallocTrim } from '../sys/index.ts';

/**
 * Node flags berthd runs with. They only take effect at start-up (v8.setFlagsFromString is too late
 * for the heap layout), hence the re-exec below.
 * - `--max-semi-space-size=1`: a 1 MiB young-generation semi-space instead of one growing to 16 MiB
 *   (~2.2 MiB); `docker logs` throughput and run latency are unchanged.
 * - `--no-sparkplug`: no baseline-compiler tier (~1.3 MiB: its code space and its own pages); hot
 *   code still reaches TurboFan.
 * - `--expose-gc`: the idle reclaimer's GC without keeping a V8 context around to get `gc` from (0.2 MiB).
 */
const NODE_FLAGS = ['--max-semi-space-size=1', '--no-sparkplug', '--expose-gc'];

/** One malloc arena: each thread (libuv pool, V8 workers) would otherwise keep its own (~1.3 MiB). */
const MALLOC_ENV: Record<string, string> = { MALLOC_ARENA_MAX: '1' };

/** Set in the re-executed process: the names of the MALLOC_ENV variables to drop again (children must not inherit them). */
const MARK = 'BERTHD_REEXEC';

const flagName = (arg: string): string => arg.replace(/^--(no-)?/, '').split('=')[0]!.replaceAll('_', '-');

/**
 * What a re-exec would add: the NODE_FLAGS whose option the user did not give (on the command line
 * or in NODE_OPTIONS, in either polarity) and the MALLOC_ENV variables not set already.
 */
export function missingTuning(execArgv: readonly string[], env: NodeJS.ProcessEnv): { flags: string[]; vars: string[] } {
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].filter((a) => a.startsWith('--')).map(flagName));
  return {
    flags: NODE_FLAGS.filter((f) => !given.has(flagName(f))),
    vars: Object.keys(MALLOC_ENV).filter((k) => env[k] === undefined),
  };
}

/**
 * Re-execute berthd in place (execve: same pid, same stdio) with NODE_FLAGS and MALLOC_ENV, unless
 * it already runs with them. Call it first, before any other work: everything done before is lost;
 * it costs one more Node start-up (0.1–0.2 s here). Returns when nothing is missing, in the re-executed
 * process (after removing what its children must not inherit), with `BERTHD_NO_REEXEC=1`, or when
 * the exec fails (berthd then runs untuned, with a warning on stderr).
 */
export function reexecTuned(): void {
  const env = process.env;
  const mark = env[MARK];
  if (mark !== undefined) {
    for (const k of mark.split(',').filter(Boolean)) delete env[k];
    delete env[MARK];
    return;
  }
  if (env.BERTHD_NO_REEXEC === '1') return;
  const { flags, vars } = missingTuning(process.execArgv, env);
  if (!flags.length && !vars.length) return;
  try {
    for (const fd of [0, 1, 2]) {
      try {
        clearCloexec(fd);
      } catch {
        // a closed stdio fd: Node opens /dev/null for it again after the exec
      }
    }
    const childEnv: Record<string, string> = { [MARK]: vars.join(',') };
    for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
    for (const k of vars) childEnv[k] = MALLOC_ENV[k]!;
    execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], childEnv);
  } catch (err) {
    process.stderr.write(`berthd: could not re-execute with ${[...flags, ...vars].join(' ')} (running untuned): ${(err as Error).message}\n`);
  }
}

/**
 * Hands memory back once berthd goes quiet. V8 keeps a burst's garbage (and the malloc'd buffers it
 * holds) until its next full GC, which an idle daemon may not reach for a long time, and its memory
 * reducer only starts ~8 s after a full GC. So, once no request has started or ended for `delayMs`:
 * one full, compacting GC (~3.8 MiB of idle RSS, 1.2 of it from compacting), then malloc_trim once
 * the GC's concurrent sweeper has freed the array buffers. A reclaim is a ~40 ms pause and up to
 * ~0.3 s of CPU with what follows it (a request right after it is slower too), so reclaims are at
 * least `minIntervalMs` apart: a client busy every few seconds only pays for one now and then.
 */
export class IdleReclaimer {
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #last = -Infinity;
  #gc: (() => void) | undefined;

  constructor(private readonly opts: { delayMs: number; minIntervalMs: number; log: Logger }) {}

  /** Activity (a request starts or ends): (re)start the quiet-period countdown. */
  touch(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    const wait = Math.max(this.opts.delayMs, this.#last + this.opts.minIntervalMs - performance.now());
    this.#timer = setTimeout(() => this.#reclaim(), wait).unref();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #reclaim(): void {
    const { log } = this.opts;
    const t0 = performance.now();
    this.#last = t0;
    const rss = process.memoryUsage.rss();
    try {
      this.#fullGc();
    } catch (err) {
      log.warn({ err }, 'idle memory reclaim failed');
    }
    const gcMs = performance.now() - t0;
    // array buffers die with the GC but are freed by a concurrent sweeper task shortly after
    setTimeout(() => {
      if (this.#stopped) return;
      try {
        mallocTrim();
      } catch (err) {
        log.warn({ err }, 'malloc_trim failed');
      }
      log.debug({ gcMs: Math.round(gcMs), rssBefore: rss, rssAfter: process.memoryUsage.rss() }, 'idle memory reclaimed');
    }, 200).unref();
  }

  #fullGc(): void {
    this.#gc ??= (globalThis as { gc?: () => void }).gc;
    if (!this.#gc) {
      // not re-executed with --expose-gc: the flag still applies to contexts created after it is set
      setFlagsFromString('--expose-gc');
      this.#gc = runInNewContext('gc') as () => void;
    }
    // compact the fragmented pages too (V8's own memory-reducing GCs do; ~1.2 MiB): the flag lasts for this call only
    setFlagsFromString('--compact-on-every-full-gc');
    try {
      this.#gc();
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc');
    }
  }
}
