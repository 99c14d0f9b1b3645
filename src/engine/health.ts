// Container health checks as dockerd runs them (daemon/health.go): the config and its merge with
// the image's, the probe schedule, the state machine over probe results, and the monitor that
// runs probes while a container runs.
import { invalid, messageOf, parseGoDuration, type Logger } from '../common/index.ts';

/** A healthcheck as a client or an image gives it. Durations in nanoseconds; 0 = inherit / default. */
export interface HealthConfig {
  /** `[]` (inherit), `["NONE"]`, `["CMD", arg…]` or `["CMD-SHELL", command]`. */
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe run (inspect's State.Health.Log). */
export interface HealthLogEntry {
  start: string;
  end: string;
  exitCode: number;
  output: string;
}

/** A container's health (inspect's State.Health); kept in the container record. */
export interface HealthState {
  status: HealthStatus;
  failingStreak: number;
  /** The last MAX_LOG_ENTRIES probes, oldest first. */
  log: HealthLogEntry[];
}

/** How one probe process ended. `timedOut`: it was killed at the timeout (exitCode is then -1). */
export interface ProbeOutcome {
  exitCode: number;
  output: string;
  timedOut: boolean;
}

/** Runs probe commands in containers (the exec service). */
export interface HealthProber {
  /**
   * Run `cmd` as an exec in running container `containerId` and collect its output (see
   * ProbeOutput). Kills it after `timeoutMs` or when `signal` aborts. Rejects when the process
   * cannot be started (the caller records the message as a failed probe).
   */
  probe(containerId: string, cmd: string[], opts: { timeoutMs: number; signal: AbortSignal }): Promise<ProbeOutcome>;
}

const MS = 1_000_000;
const SECOND = 1_000_000_000;
/** dockerd's defaults (daemon/health.go) and floor (container.MinimumDuration). */
export const HEALTH_DEFAULTS = { interval: 30 * SECOND, timeout: 30 * SECOND, startPeriod: 0, startInterval: 5 * SECOND, retries: 3 } as const;
const MINIMUM_DURATION = MS;
export const MAX_LOG_ENTRIES = 5;
export const MAX_OUTPUT_BYTES = 4096;

/** The checks dockerd makes on a create request's healthcheck (before the merge). invalid-argument. */
export function validateHealthcheck(h: HealthConfig | null): void {
  if (!h) return;
  const floor = (ns: number, what: string): void => {
    if (ns !== 0 && ns < MINIMUM_DURATION) throw invalid(`${what} in Healthcheck cannot be less than ${goDuration(MINIMUM_DURATION)}`);
  };
  floor(h.interval, 'Interval');
  floor(h.timeout, 'Timeout');
  if (h.retries < 0) throw invalid('Retries in Healthcheck cannot be negative');
  floor(h.startPeriod, 'StartPeriod');
  floor(h.startInterval, 'StartInterval');
}

/**
 * The container's effective healthcheck, merged as dockerd merges it with the image's: without
 * one of its own the container takes the image's; otherwise each empty or zero field is taken
 * from the image's. Undefined when neither has one.
 */
export function mergeHealthcheck(own: HealthConfig | null, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!image) return own ? { ...own, test: [...own.test] } : undefined;
  if (!own) return { ...image, test: [...image.test] };
  return {
    test: own.test.length ? [...own.test] : [...image.test],
    interval: own.interval || image.interval,
    timeout: own.timeout || image.timeout,
    startPeriod: own.startPeriod || image.startPeriod,
    startInterval: own.startInterval || image.startInterval,
    retries: own.retries || image.retries,
  };
}

/** An image config's `Healthcheck` (wire casing, as stored) → HealthConfig; undefined when absent or malformed. */
export function healthFromImage(v: unknown): HealthConfig | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const n = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  const test = Array.isArray(o.Test) && o.Test.every((x) => typeof x === 'string') ? (o.Test as string[]) : [];
  return { test: [...test], interval: n(o.Interval), timeout: n(o.Timeout), startPeriod: n(o.StartPeriod), startInterval: n(o.StartInterval), retries: n(o.Retries) };
}

/** HealthConfig → the wire object (image config, inspect's Config.Healthcheck): zero fields left out, as Go's omitempty does. */
export function healthToWire(h: HealthConfig): Record<string, unknown> {
  return {
    ...(h.test.length ? { Test: h.test } : {}),
    ...(h.interval ? { Interval: h.interval } : {}),
    ...(h.timeout ? { Timeout: h.timeout } : {}),
    ...(h.startPeriod ? { StartPeriod: h.startPeriod } : {}),
    ...(h.startInterval ? { StartInterval: h.startInterval } : {}),
    ...(h.retries ? { Retries: h.retries } : {}),
  };
}

/** The command a probe runs, or undefined when the healthcheck runs nothing (none, `NONE`, an unknown type). */
export function probeCommand(h: HealthConfig | undefined): string[] | undefined {
  const [kind, ...args] = h?.test ?? [];
  if (kind === 'CMD') return args;
  // compat: dockerd runs CMD-SHELL with the container's Shell, which only an API client can set; /bin/sh -c otherwise
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', ...args];
  return undefined;
}

/** Milliseconds to the next probe, as dockerd's monitor computes them (start interval only while starting). */
export function nextProbeDelayMs(h: HealthConfig, elapsedMs: number, status: HealthStatus): number {
  const interval = (h.interval || HEALTH_DEFAULTS.interval) / MS;
  const startInterval = (h.startInterval || HEALTH_DEFAULTS.startInterval) / MS;
  const startPeriod = (h.startPeriod || HEALTH_DEFAULTS.startPeriod) / MS;
  if (elapsedMs >= startPeriod) return interval;
  // the first probe after the start period runs as soon as it ends
  const remaining = startPeriod - elapsedMs;
  if (remaining < interval) return remaining;
  return status === 'starting' ? startInterval : interval;
}

/**
 * The health after one probe: success makes it healthy and resets the streak; a failure adds to
 * the streak (except while starting within the start period), and `retries` of them in a row make
 * it unhealthy. The log keeps the last MAX_LOG_ENTRIES results.
 */
export function applyProbeResult(h: HealthState, r: HealthLogEntry, o: { config: HealthConfig; startedAtMs: number }): HealthState {
  const log = [...h.log, r].slice(-MAX_LOG_ENTRIES);
  if (r.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  const retries = o.config.retries > 0 ? o.config.retries : HEALTH_DEFAULTS.retries;
  const startPeriodMs = (o.config.startPeriod || HEALTH_DEFAULTS.startPeriod) / MS;
  if (h.status === 'starting' && Date.parse(r.start) - o.startedAtMs < startPeriodMs) return { ...h, log };
  const failingStreak = h.failingStreak + 1;
  return { status: failingStreak >= retries ? 'unhealthy' : h.status, failingStreak, log };
}

/** dockerd's message for a probe killed at its timeout. */
export function timeoutOutput(timeoutNs: number, output: string): string {
  const base = `Health check exceeded timeout (${goDuration(timeoutNs)})`;
  return output ? `${base}: ${output}` : base;
}

/** A probe's output: the first MAX_OUTPUT_BYTES bytes of stdout and stderr as they come, `...` when more was dropped. */
export class ProbeOutput {
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #truncated = false;

  write(data: Buffer): void {
    const keep = Math.min(MAX_OUTPUT_BYTES - this.#size, data.length);
    if (keep > 0) {
      this.#chunks.push(data.subarray(0, keep));
      this.#size += keep;
    }
    if (keep < data.length) this.#truncated = true;
  }

  text(): string {
    const s = Buffer.concat(this.#chunks).toString('utf8');
    return this.#truncated ? `${s}...` : s;
  }
}

/** Go's time.Duration.String(): `200ms`, `1.5s`, `1m30s`, `1h0m0s`. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let u = Math.abs(Math.trunc(ns));
  const frac = (v: number, unit: number, digits: number): string => {
    const whole = Math.floor(v / unit);
    const rest = String(v % unit).padStart(digits, '0').replace(/0+$/, '');
    return rest ? `${whole}.${rest}` : String(whole);
  };
  if (u < 1e3) return `${sign}${u}ns`;
  if (u < 1e6) return `${sign}${frac(u, 1e3, 3)}µs`;
  if (u < 1e9) return `${sign}${frac(u, 1e6, 6)}ms`;
  const h = Math.floor(u / 3600e9);
  u -= h * 3600e9;
  const m = Math.floor(u / 60e9);
  u -= m * 60e9;
  let s = `${frac(u, 1e9, 9)}s`;
  if (h || m) s = `${m}m${s}`;
  if (h) s = `${h}h${s}`;
  return sign + s;
}

export { parseGoDuration };

/**
 * A Dockerfile `HEALTHCHECK` instruction's arguments (`--interval=5s CMD test -e /x`, `NONE`,
 * `CMD ["true"]`) → the image config's Healthcheck (wire casing), with the builder's messages.
 */
export function parseHealthcheckInstruction(rest: string): Record<string, unknown> {
  let s = rest.trim();
  const flags = new Map<string, string>();
  for (let m = /^--([a-zA-Z-]+)(?:=(\S*))?\s*/.exec(s); m; m = /^--([a-zA-Z-]+)(?:=(\S*))?\s*/.exec(s)) {
    const name = m[1]!.toLowerCase();
    if (!['interval', 'timeout', 'start-period', 'start-interval', 'retries'].includes(name)) throw invalid(`Unknown flag: ${name}`);
    if (m[2] === undefined) throw invalid(`Missing a value on flag: --${name}`);
    flags.set(name, m[2]);
    s = s.slice(m[0].length);
  }
  if (!s) throw invalid('HEALTHCHECK requires at least one argument');
  const [head = '', ...more] = s.split(/\s+/);
  const type = head.toUpperCase();
  const args = s.slice(head.length).trim();
  if (type === 'NONE') {
    if (more.length) throw invalid('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (type !== 'CMD') throw invalid(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  let test: string[];
  const json = jsonArray(args);
  if (json) test = ['CMD', ...json];
  else test = args ? ['CMD-SHELL', args] : [];
  if (test.length <= 1) throw invalid('Missing command after HEALTHCHECK CMD');
  const interval = (name: string): number => {
    const v = flags.get(name);
    if (!v) return 0;
    let d: number;
    try {
      d = parseGoDuration(v);
    } catch (err) {
      throw invalid(messageOf(err));
    }
    if (d !== 0 && d < MINIMUM_DURATION) throw invalid(`Interval ${JSON.stringify(name)} cannot be less than ${goDuration(MINIMUM_DURATION)}`);
    return d;
  };
  const h: HealthConfig = { test, interval: interval('interval'), timeout: interval('timeout'), startPeriod: interval('start-period'), startInterval: interval('start-interval'), retries: 0 };
  const r = flags.get('retries');
  if (r) {
    if (!/^[+-]?\d+$/.test(r)) throw invalid(`strconv.ParseInt: parsing ${JSON.stringify(r)}: invalid syntax`);
    if (Number(r) < 0) throw invalid(`--retries cannot be negative (${Number(r)})`);
    h.retries = Number(r);
  }
  return healthToWire(h);
}

function jsonArray(s: string): string[] | undefined {
  if (!s.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(s) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // compat: a line that is not a JSON array of strings is the shell form
  }
  return undefined;
}

export interface HealthMonitorDeps {
  /** Persist a container's health after a probe changed it. */
  commit(id: string, health: HealthState): void;
  /** A status change: dockerd's `health_status: <status>` container event. */
  changed(id: string, status: HealthStatus): void;
  log: Logger;
}

interface Watch {
  id: string;
  config: HealthConfig;
  startedAtMs: number;
  health: HealthState;
  timer?: NodeJS.Timeout;
  abort: AbortController;
}

/**
 * Runs a container's probes while it runs, one at a time, on dockerd's schedule, and keeps its
 * health in memory (the live copy, which callers persist with every record they save). Probes
 * wait until a prober is attached (the exec service exists only after the daemon reconciled).
 */
export class HealthMonitor {
  #prober?: HealthProber;
  readonly #watches = new Map<string, Watch>();

  constructor(private readonly d: HealthMonitorDeps) {}

  /** Attach the prober that runs probe commands. */
  setProber(p: HealthProber): void {
    this.#prober = p;
  }

  /**
   * Probe container `id` from now on (replacing any earlier watch): `health` is where it starts
   * (`starting` for a fresh start, the recorded state when resuming), `startedAt` when the
   * container started (the start period counts from it). No-op when the config runs nothing.
   */
  watch(id: string, config: HealthConfig, startedAt: string, health: HealthState): void {
    this.unwatch(id);
    if (!probeCommand(config)) return;
    const w: Watch = { id, config, startedAtMs: Date.parse(startedAt) || Date.now(), health, abort: new AbortController() };
    this.#watches.set(id, w);
    this.#schedule(w);
  }

  /** Stop probing `id` (exit, stop, pause, remove); a probe in flight is killed and its result dropped. */
  unwatch(id: string): void {
    const w = this.#watches.get(id);
    if (!w) return;
    clearTimeout(w.timer);
    w.abort.abort();
    this.#watches.delete(id);
  }

  /** The live health of a watched container, undefined when it is not watched. */
  current(id: string): HealthState | undefined {
    return this.#watches.get(id)?.health;
  }

  close(): void {
    for (const id of [...this.#watches.keys()]) this.unwatch(id);
  }

  #schedule(w: Watch): void {
    const delay = nextProbeDelayMs(w.config, Date.now() - w.startedAtMs, w.health.status);
    // setTimeout fires at once past 2^31-1 ms
    w.timer = setTimeout(() => void this.#probe(w), Math.min(Math.max(0, delay), 2 ** 31 - 1));
    w.timer.unref();
  }

  async #probe(w: Watch): Promise<void> {
    const prober = this.#prober;
    const cmd = probeCommand(w.config);
    if (!prober || !cmd) {
      this.#schedule(w);
      return;
    }
    const start = new Date();
    const timeoutNs = w.config.timeout || HEALTH_DEFAULTS.timeout;
    let out: ProbeOutcome;
    try {
      out = await prober.probe(w.id, cmd, { timeoutMs: timeoutNs / MS, signal: w.abort.signal });
    } catch (err) {
      this.d.log.debug({ err, id: w.id }, 'health check error');
      out = { exitCode: -1, output: messageOf(err), timedOut: false };
    }
    // the container stopped or paused meanwhile: dockerd drops the result
    if (w.abort.signal.aborted || this.#watches.get(w.id) !== w) return;
    const entry: HealthLogEntry = {
      start: start.toISOString(), end: new Date().toISOString(), exitCode: out.exitCode,
      output: out.timedOut ? timeoutOutput(timeoutNs, out.output) : out.output,
    };
    const before = w.health.status;
    w.health = applyProbeResult(w.health, entry, { config: w.config, startedAtMs: w.startedAtMs });
    try {
      this.d.commit(w.id, w.health);
    } catch (err) {
      this.d.log.warn({ err, id: w.id }, 'saving health failed');
    }
    if (w.health.status !== before) this.d.changed(w.id, w.health.status);
    this.#schedule(w);
  }
}
