import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../common/index.ts';
import { IdleReclaimer, missingTuning } from './tune.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('missingTuning: everything when nothing is set', () => {
  assert.deepEqual(missingTuning([], {}), { flags: ['--max-semi-space-size=1', '--no-sparkplug', '--expose-gc'], vars: ['MALLOC_ARENA_MAX'] });
});

test('missingTuning: what the user set wins, on the command line or in NODE_OPTIONS, in either polarity or spelling', () => {
  const r = missingTuning(['--import', 'tsx', '--max_semi_space_size=8'], { NODE_OPTIONS: '--sparkplug  --expose-gc', MALLOC_ARENA_MAX: '4' });
  assert.deepEqual(r, { flags: [], vars: [] });
  assert.deepEqual(missingTuning(['--no-expose-gc'], {}).flags, ['--max-semi-space-size=1', '--no-sparkplug']);
});

test('IdleReclaimer: runs once after a quiet period, each touch restarts the countdown, stop cancels', async () => {
  const lines: string[] = [];
  const r = new IdleReclaimer({ delayMs: 300, minIntervalMs: 0, log: createLogger('debug', (l) => lines.push(l)) });
  const reclaims = (): number => lines.filter((l) => l.includes('idle memory reclaimed')).length;
  r.touch();
  await sleep(100);
  r.touch();
  await sleep(100);
  assert.equal(reclaims(), 0, 'a touch within the delay postpones the reclaim');
  await sleep(500); // the reclaim is logged 200 ms after its GC, with malloc_trim
  assert.equal(reclaims(), 1);
  await sleep(400);
  assert.equal(reclaims(), 1, 'once per quiet period');
  r.touch();
  r.stop();
  await sleep(400);
  assert.equal(reclaims(), 1, 'stop cancels a pending reclaim');
  r.touch();
  await sleep(400);
  assert.equal(reclaims(), 1, 'touch after stop does nothing');
});

test('IdleReclaimer: reclaims are at least minIntervalMs apart', async () => {
  const lines: string[] = [];
  const r = new IdleReclaimer({ delayMs: 100, minIntervalMs: 1200, log: createLogger('debug', (l) => lines.push(l)) });
  const reclaims = (): number => lines.filter((l) => l.includes('idle memory reclaimed')).length;
  r.touch();
  await sleep(400);
  assert.equal(reclaims(), 1);
  r.touch();
  await sleep(400);
  assert.equal(reclaims(), 1, 'too soon after the previous one');
  await sleep(1100);
  assert.equal(reclaims(), 2, 'once the interval has passed');
  r.stop();
});
