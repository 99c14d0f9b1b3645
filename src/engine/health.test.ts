import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../common/index.ts';
import {
  HealthMonitor, ProbeOutput, applyProbeResult, goDuration, healthFromImage, healthToWire, mergeHealthcheck, nextProbeDelayMs,
  parseGoDuration, parseHealthcheckInstruction, probeCommand, timeoutOutput, validateHealthcheck,
  type HealthConfig, type HealthProber, type HealthState, type HealthStatus, type ProbeOutcome,
} from './health.ts';

const MS = 1_000_000;
const S = 1_000_000_000;
const cfg = (o: Partial<HealthConfig> = {}): HealthConfig => ({ test: [], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0, ...o });
const entry = (exitCode: number, startMs = 0): { start: string; end: string; exitCode: number; output: string } => ({
  start: new Date(startMs).toISOString(), end: new Date(startMs).toISOString(), exitCode, output: '',
});

describe('healthcheck config', () => {
  it('validates as dockerd does: 1ms floor on durations, no negative retries', () => {
    validateHealthcheck(null);
    validateHealthcheck(cfg({ interval: MS, timeout: 0, retries: 0 }));
    assert.throws(() => validateHealthcheck(cfg({ interval: -10 * MS })), { message: 'Interval in Healthcheck cannot be less than 1ms' });
    assert.throws(() => validateHealthcheck(cfg({ interval: 500_000 })), { message: 'Interval in Healthcheck cannot be less than 1ms' });
    assert.throws(() => validateHealthcheck(cfg({ timeout: -100 * MS })), { message: 'Timeout in Healthcheck cannot be less than 1ms' });
    assert.throws(() => validateHealthcheck(cfg({ retries: -10 })), { message: 'Retries in Healthcheck cannot be negative' });
    assert.throws(() => validateHealthcheck(cfg({ startPeriod: 100 })), { message: 'StartPeriod in Healthcheck cannot be less than 1ms' });
    assert.throws(() => validateHealthcheck(cfg({ startInterval: 100 })), { message: 'StartInterval in Healthcheck cannot be less than 1ms' });
    try {
      validateHealthcheck(cfg({ retries: -1 }));
    } catch (err) {
      assert.equal((err as { kind: string }).kind, 'invalid-argument');
    }
  });

  it('merges with the image field by field; NONE keeps the image fields; nothing when neither has one', () => {
    const image = cfg({ test: ['CMD', 'true'], interval: 5 * S, timeout: 2 * S, startPeriod: S, startInterval: 3 * S, retries: 4 });
    assert.equal(mergeHealthcheck(null, undefined), undefined);
    assert.deepEqual(mergeHealthcheck(null, image), image);
    assert.deepEqual(mergeHealthcheck(cfg({ interval: S }), undefined), cfg({ interval: S }));
    assert.deepEqual(mergeHealthcheck(cfg({ test: ['CMD-SHELL', 'x'], retries: 1 }), image), { ...image, test: ['CMD-SHELL', 'x'], retries: 1 });
    assert.deepEqual(mergeHealthcheck(cfg({ interval: 10 * S }), image), { ...image, interval: 10 * S });
    assert.deepEqual(mergeHealthcheck(cfg({ test: ['NONE'] }), image), { ...image, test: ['NONE'] });
    const own = cfg({ test: ['CMD', 'x'] });
    mergeHealthcheck(own, image)!.test.push('y');
    assert.deepEqual(own.test, ['CMD', 'x'], 'the merge copies');
  });

  it('reads an image config Healthcheck leniently and writes the wire form without zero fields', () => {
    assert.equal(healthFromImage(undefined), undefined);
    assert.equal(healthFromImage('x'), undefined);
    assert.deepEqual(healthFromImage({ Test: ['CMD', 'true'], Interval: 5 * S, Retries: 2, Timeout: 'x' }), cfg({ test: ['CMD', 'true'], interval: 5 * S, retries: 2 }));
    assert.deepEqual(healthToWire(cfg({ test: ['NONE'] })), { Test: ['NONE'] });
    assert.deepEqual(healthToWire(cfg({ interval: S, startInterval: 2 * S, retries: 3 })), { Interval: S, StartInterval: 2 * S, Retries: 3 });
  });

  it('probes CMD directly and CMD-SHELL through /bin/sh -c; NONE, empty and unknown types run nothing', () => {
    assert.deepEqual(probeCommand(cfg({ test: ['CMD', 'test', '-e', '/x'] })), ['test', '-e', '/x']);
    assert.deepEqual(probeCommand(cfg({ test: ['CMD-SHELL', 'test -e /x'] })), ['/bin/sh', '-c', 'test -e /x']);
    assert.equal(probeCommand(cfg({ test: ['NONE'] })), undefined);
    assert.equal(probeCommand(cfg({ test: [] })), undefined);
    assert.equal(probeCommand(cfg({ test: ['HTTP', 'x'] })), undefined);
    assert.equal(probeCommand(undefined), undefined);
  });
});

describe('probe schedule and results', () => {
  it('waits the interval (30s by default); within the start period the start interval while starting', () => {
    assert.equal(nextProbeDelayMs(cfg(), 0, 'starting'), 30_000);
    assert.equal(nextProbeDelayMs(cfg({ interval: 200 * MS }), 0, 'starting'), 200);
    // start period 10s, interval 1s: the remaining period is not shorter, so starting uses the start interval (5s default)
    assert.equal(nextProbeDelayMs(cfg({ interval: S, startPeriod: 10 * S }), 0, 'starting'), 5000);
    assert.equal(nextProbeDelayMs(cfg({ interval: S, startPeriod: 10 * S, startInterval: 100 * MS }), 0, 'starting'), 100);
    assert.equal(nextProbeDelayMs(cfg({ interval: S, startPeriod: 10 * S, startInterval: 100 * MS }), 0, 'healthy'), 1000);
    // less of the start period left than an interval: the next probe runs when it ends
    assert.equal(nextProbeDelayMs(cfg({ interval: 30 * S, startPeriod: 10 * S }), 4000, 'starting'), 6000);
    assert.equal(nextProbeDelayMs(cfg({ interval: S, startPeriod: 10 * S }), 10_000, 'starting'), 1000);
  });

  it('counts failures to `retries` (3 by default) for unhealthy; a success resets; the start period forgives', () => {
    const start: HealthState = { status: 'starting', failingStreak: 0, log: [] };
    const o = { config: cfg({ retries: 2 }), startedAtMs: 0 };
    let h = applyProbeResult(start, entry(1), o);
    assert.deepEqual([h.status, h.failingStreak], ['starting', 1]);
    h = applyProbeResult(h, entry(1), o);
    assert.deepEqual([h.status, h.failingStreak], ['unhealthy', 2]);
    h = applyProbeResult(h, entry(0), o);
    assert.deepEqual([h.status, h.failingStreak], ['healthy', 0]);
    h = applyProbeResult(h, entry(-1), o);
    assert.deepEqual([h.status, h.failingStreak], ['healthy', 1]);
    let d = start;
    for (let i = 0; i < 3; i++) d = applyProbeResult(d, entry(1), { config: cfg(), startedAtMs: 0 });
    assert.equal(d.status, 'unhealthy');
    // within the start period a starting container's failures do not count; a healthy one's do
    const sp = { config: cfg({ retries: 1, startPeriod: 10 * S }), startedAtMs: 0 };
    assert.deepEqual(applyProbeResult(start, entry(1, 5000), sp).failingStreak, 0);
    assert.deepEqual(applyProbeResult(start, entry(1, 11_000), sp).status, 'unhealthy');
    assert.deepEqual(applyProbeResult({ ...start, status: 'healthy' }, entry(1, 5000), sp).status, 'unhealthy');
  });

  it('keeps the last 5 results', () => {
    let h: HealthState = { status: 'starting', failingStreak: 0, log: [] };
    for (let i = 0; i < 7; i++) h = applyProbeResult(h, { ...entry(0), output: String(i) }, { config: cfg(), startedAtMs: 0 });
    assert.deepEqual(h.log.map((l) => l.output), ['2', '3', '4', '5', '6']);
  });

  it('keeps 4096 bytes of output and marks the cut; words the timeout as dockerd', () => {
    const o = new ProbeOutput();
    o.write(Buffer.from('a'.repeat(4000)));
    o.write(Buffer.from('b'.repeat(200)));
    o.write(Buffer.from('c'));
    assert.equal(o.text(), `${'a'.repeat(4000)}${'b'.repeat(96)}...`);
    const small = new ProbeOutput();
    small.write(Buffer.from('ok\n'));
    assert.equal(small.text(), 'ok\n');
    assert.equal(timeoutOutput(200 * MS, ''), 'Health check exceeded timeout (200ms)');
    assert.equal(timeoutOutput(30 * S, 'partial'), 'Health check exceeded timeout (30s): partial');
  });

  it('formats and parses durations as Go does', () => {
    assert.deepEqual([0, 1, 1500, MS, 200 * MS, 1.5 * S, 30 * S, 60 * S, 90 * S, 3600 * S + 1].map(goDuration),
      ['0s', '1ns', '1.5µs', '1ms', '200ms', '1.5s', '30s', '1m0s', '1m30s', '1h0m0.000000001s']);
    assert.equal(parseGoDuration('1m30s'), 90 * S);
    assert.equal(parseGoDuration('200ms'), 200 * MS);
    assert.equal(parseGoDuration('-1.5s'), -1.5 * S);
    assert.throws(() => parseGoDuration('5'), { message: 'time: missing unit in duration "5"' });
    assert.throws(() => parseGoDuration('x'), { message: 'time: invalid duration "x"' });
  });
});

describe('HEALTHCHECK instruction (commit --change)', () => {
  it('shell and exec forms, options, NONE', () => {
    assert.deepEqual(parseHealthcheckInstruction('--interval=5s --retries=2 CMD test -e /tmp/ok || exit 1'), { Test: ['CMD-SHELL', 'test -e /tmp/ok || exit 1'], Interval: 5 * S, Retries: 2 });
    assert.deepEqual(parseHealthcheckInstruction('cmd ["true"]'), { Test: ['CMD', 'true'] });
    assert.deepEqual(parseHealthcheckInstruction('--timeout=1m --start-period=2s --start-interval=100ms CMD ["a", "b"]'), { Test: ['CMD', 'a', 'b'], Timeout: 60 * S, StartPeriod: 2 * S, StartInterval: 100 * MS });
    assert.deepEqual(parseHealthcheckInstruction('NONE'), { Test: ['NONE'] });
  });

  it('refuses what the builder refuses', () => {
    assert.throws(() => parseHealthcheckInstruction('NONE x'), { message: 'HEALTHCHECK NONE takes no arguments' });
    assert.throws(() => parseHealthcheckInstruction('CMD'), { message: 'Missing command after HEALTHCHECK CMD' });
    assert.throws(() => parseHealthcheckInstruction('HTTP /'), { message: 'Unknown type "HTTP" in HEALTHCHECK (try CMD)' });
    assert.throws(() => parseHealthcheckInstruction('--interval=1us CMD true'), { message: 'Interval "interval" cannot be less than 1ms' });
    assert.throws(() => parseHealthcheckInstruction('--retries=-1 CMD true'), { message: '--retries cannot be negative (-1)' });
    assert.throws(() => parseHealthcheckInstruction('--bogus=1 CMD true'), { message: 'Unknown flag: bogus' });
    assert.throws(() => parseHealthcheckInstruction(''), { message: 'HEALTHCHECK requires at least one argument' });
  });
});

/** A prober whose outcomes the test scripts; it records the commands it ran. */
class FakeProber implements HealthProber {
  readonly calls: string[][] = [];
  next: (signal: AbortSignal) => Promise<ProbeOutcome> = async () => ({ exitCode: 1, output: 'no\n', timedOut: false });
  probe(_id: string, cmd: string[], opts: { timeoutMs: number; signal: AbortSignal }): Promise<ProbeOutcome> {
    this.calls.push(cmd);
    return this.next(opts.signal);
  }
}

function monitor(): { m: HealthMonitor; commits: HealthState[]; changes: HealthStatus[]; prober: FakeProber } {
  const commits: HealthState[] = [];
  const changes: HealthStatus[] = [];
  const prober = new FakeProber();
  const m = new HealthMonitor({ commit: (_id, h) => commits.push(h), changed: (_id, s) => changes.push(s), log: silentLogger });
  m.setProber(prober);
  return { m, commits, changes, prober };
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('HealthMonitor', () => {
  it('goes starting → unhealthy → healthy, committing each result and reporting each change', async () => {
    const { m, commits, changes, prober } = monitor();
    const c = cfg({ test: ['CMD-SHELL', 'test -e /tmp/ok'], interval: 10 * MS, retries: 2 });
    m.watch('c1', c, new Date().toISOString(), { status: 'starting', failingStreak: 0, log: [] });
    assert.equal(m.current('c1')?.status, 'starting');
    await until(() => changes.length === 1);
    assert.deepEqual(changes, ['unhealthy']);
    assert.equal(commits.length, 2);
    assert.deepEqual(prober.calls[0], ['/bin/sh', '-c', 'test -e /tmp/ok']);
    prober.next = async () => ({ exitCode: 0, output: '', timedOut: false });
    await until(() => changes.length === 2);
    assert.deepEqual(changes, ['unhealthy', 'healthy']);
    assert.equal(m.current('c1')?.failingStreak, 0);
    m.unwatch('c1');
    assert.equal(m.current('c1'), undefined);
    const n = prober.calls.length;
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(prober.calls.length, n, 'no probes once unwatched');
  });

  it('records a timeout and a probe that could not start as failures with exit code -1', async () => {
    const { m, commits, prober } = monitor();
    prober.next = async () => ({ exitCode: -1, output: '', timedOut: true });
    m.watch('c2', cfg({ test: ['CMD', 'sleep', '5'], interval: 5 * MS, timeout: 200 * MS }), new Date().toISOString(), { status: 'starting', failingStreak: 0, log: [] });
    await until(() => commits.length >= 1);
    prober.next = () => Promise.reject(new Error('OCI runtime exec failed: exec: "nope": executable file not found in $PATH: unknown'));
    await until(() => commits.length >= 2);
    m.close();
    const [a, b] = commits[1]!.log;
    assert.deepEqual([a!.exitCode, a!.output], [-1, 'Health check exceeded timeout (200ms)']);
    assert.deepEqual([b!.exitCode, b!.output], [-1, 'OCI runtime exec failed: exec: "nope": executable file not found in $PATH: unknown']);
    assert.ok(Date.parse(a!.end) >= Date.parse(a!.start));
  });

  it('drops the result of a probe in flight when unwatched, and aborts it', async () => {
    const { m, commits, prober } = monitor();
    let aborted = false;
    prober.next = (signal) => new Promise((resolve) => signal.addEventListener('abort', () => {
      aborted = true;
      resolve({ exitCode: -1, output: '', timedOut: false });
    }));
    m.watch('c3', cfg({ test: ['CMD', 'true'], interval: 5 * MS }), new Date().toISOString(), { status: 'healthy', failingStreak: 0, log: [] });
    await until(() => prober.calls.length === 1);
    m.unwatch('c3');
    await until(() => aborted);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(commits.length, 0);
  });

  it('waits for a prober; runs nothing for NONE', async () => {
    const commits: HealthState[] = [];
    const m = new HealthMonitor({ commit: (_id, h) => commits.push(h), changed: () => {}, log: silentLogger });
    m.watch('c4', cfg({ test: ['NONE'] }), new Date().toISOString(), { status: 'starting', failingStreak: 0, log: [] });
    assert.equal(m.current('c4'), undefined);
    m.watch('c5', cfg({ test: ['CMD', 'true'], interval: 5 * MS }), new Date().toISOString(), { status: 'starting', failingStreak: 0, log: [] });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(commits.length, 0);
    const prober = new FakeProber();
    prober.next = async () => ({ exitCode: 0, output: '', timedOut: false });
    m.setProber(prober);
    await until(() => commits.length >= 1);
    m.close();
    assert.equal(commits[0]!.status, 'healthy');
  });
});
