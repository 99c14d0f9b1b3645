import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesSize, containerStatus, ellipsis, humanDuration, humanSize, timeAgo, truncateId } from './units.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('humanSize (go-units HumanSizeWithPrecision)', () => {
  it('uses decimal units and 3 significant digits by default', () => {
    assert.equal(humanSize(0), '0B');
    assert.equal(humanSize(100), '100B');
    assert.equal(humanSize(999), '999B');
    assert.equal(humanSize(1000), '1kB');
    assert.equal(humanSize(4260), '4.26kB');
    assert.equal(humanSize(1024 * 1024 * 1.5), '1.57MB');
    assert.equal(humanSize(7_800_000), '7.8MB');
    assert.equal(humanSize(12.3e9), '12.3GB');
    assert.equal(humanSize(1e15), '1PB');
  });

  it('rounds like Go: half to even on exact ties, and may print an exponent', () => {
    assert.equal(humanSize(1125), '1.12kB');
    assert.equal(humanSize(1135), '1.14kB');
    assert.equal(humanSize(999_950), '1e+03kB');
  });

  it('takes another precision (go-units HumanSize uses 4)', () => {
    assert.equal(humanSize(2_746_000, 4), '2.746MB');
    assert.equal(humanSize(796_000, 4), '796kB');
  });
});

describe('bytesSize (go-units BytesSize)', () => {
  it('uses binary units and %.4g, as docker stats does', () => {
    assert.equal(bytesSize(0), '0B');
    assert.equal(bytesSize(1023), '1023B');
    assert.equal(bytesSize(1024), '1KiB');
    assert.equal(bytesSize(2_048_000), '1.953MiB');
    assert.equal(bytesSize(25_136_365_568), '23.41GiB');
    assert.equal(bytesSize(1024 * 1024 * 1.5), '1.5MiB');
  });
});

describe('humanDuration (go-units HumanDuration)', () => {
  it('covers every threshold', () => {
    const cases: Array<[number, string]> = [
      [-5 * SEC, 'Less than a second'],
      [999, 'Less than a second'],
      [SEC, '1 second'],
      [2 * SEC, '2 seconds'],
      [59 * SEC, '59 seconds'],
      [60 * SEC, 'About a minute'],
      [119 * SEC, 'About a minute'],
      [2 * MIN, '2 minutes'],
      [59 * MIN, '59 minutes'],
      [60 * MIN, 'About an hour'],
      [89 * MIN, 'About an hour'],
      [90 * MIN, '2 hours'],
      [47 * HOUR, '47 hours'],
      [48 * HOUR - 31 * MIN, '47 hours'],
      [48 * HOUR - 30 * MIN, '2 days'],
      [13 * DAY, '13 days'],
      [14 * DAY, '2 weeks'],
      [59 * DAY, '8 weeks'],
      [60 * DAY, '2 months'],
      [729 * DAY, '24 months'],
      [730 * DAY, '2 years'],
      [3 * 365 * DAY, '3 years'],
    ];
    for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, `${ms}ms`);
  });

  it('timeAgo appends "ago"', () => {
    const now = Date.UTC(2024, 5, 1, 12, 0, 0);
    assert.equal(timeAgo(new Date(now - 5 * MIN), now), '5 minutes ago');
    assert.equal(timeAgo('2024-06-01T11:00:00Z', now), 'About an hour ago');
  });
});

describe('containerStatus (docker ps STATUS)', () => {
  const now = Date.UTC(2024, 5, 1, 12, 0, 0);
  const ago = (ms: number): string => new Date(now - ms).toISOString();
  const zero = '0001-01-01T00:00:00Z';

  it('running, paused, restarting, healthy', () => {
    assert.equal(containerStatus({ Running: true, StartedAt: ago(5 * MIN), FinishedAt: zero }, now), 'Up 5 minutes');
    assert.equal(containerStatus({ Running: true, Paused: true, StartedAt: ago(5 * MIN) }, now), 'Up 5 minutes (Paused)');
    assert.equal(
      containerStatus({ Running: true, Restarting: true, ExitCode: 1, StartedAt: ago(MIN), FinishedAt: ago(2 * SEC) }, now),
      'Restarting (1) 2 seconds ago',
    );
    assert.equal(containerStatus({ Running: true, StartedAt: ago(2 * HOUR), Health: { Status: 'healthy' } }, now), 'Up 2 hours (healthy)');
    assert.equal(containerStatus({ Running: true, StartedAt: ago(3 * SEC), Health: { Status: 'starting' } }, now), 'Up 3 seconds (health: starting)');
  });

  it('exited, created, dead, removing', () => {
    assert.equal(containerStatus({ Running: false, ExitCode: 0, StartedAt: ago(MIN), FinishedAt: ago(3 * SEC) }, now), 'Exited (0) 3 seconds ago');
    assert.equal(containerStatus({ Status: 'exited', ExitCode: 137, StartedAt: ago(DAY), FinishedAt: ago(3 * DAY) }, now), 'Exited (137) 3 days ago');
    assert.equal(containerStatus({ Status: 'created', StartedAt: zero, FinishedAt: zero }, now), 'Created');
    assert.equal(containerStatus({ Status: 'dead', Dead: true }, now), 'Dead');
    assert.equal(containerStatus({ Status: 'removing', StartedAt: ago(MIN) }, now), 'Removal In Progress');
    assert.equal(containerStatus({ Status: 'exited', StartedAt: ago(MIN), FinishedAt: zero }, now), '');
  });
});

describe('truncateId and ellipsis', () => {
  it('truncateId strips the algorithm and keeps 12 characters', () => {
    assert.equal(truncateId('sha256:0123456789abcdef0123'), '0123456789ab');
    assert.equal(truncateId('0123456789abcdef'), '0123456789ab');
    assert.equal(truncateId('abc'), 'abc');
  });

  it('ellipsis truncates to a display width, ending with …', () => {
    assert.equal(ellipsis('docker-entrypoint.sh postgres', 20), 'docker-entrypoint.s…');
    assert.equal(ellipsis('short', 20), 'short');
    assert.equal(ellipsis('abcdefghijklmnopqrst', 20), 'abcdefghijklmnopqrst');
    assert.equal(ellipsis('abc', 1), 'a');
    assert.equal(ellipsis('abc', 0), '');
    assert.equal(ellipsis('你好世界abc', 5), '你好…');
    assert.equal(ellipsis('你好', 4), '你好');
  });
});
