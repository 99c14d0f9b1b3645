import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, type EngineEvent } from './events.ts';

test('EventBus replays past events since a time, then streams live ones until aborted', () => {
  const bus = new EventBus(3);
  bus.emit('container', 'create', 'a');
  bus.emit('container', 'start', 'a');
  const got: EngineEvent[] = [];
  const ac = new AbortController();
  bus.subscribe({ since: 0n, match: (e) => e.action !== 'start' }, (e) => got.push(e), ac.signal);
  assert.deepEqual(got.map((e) => e.action), ['create']);
  bus.emit('image', 'tag', 'i');
  ac.abort();
  bus.emit('image', 'untag', 'i');
  assert.deepEqual(got.map((e) => e.action), ['create', 'tag']);
});

test('EventBus keeps only the last `capacity` events', () => {
  const bus = new EventBus(2);
  for (const a of ['1', '2', '3']) bus.emit('volume', a, 'v');
  const got: string[] = [];
  bus.subscribe({ since: 0n }, (e) => got.push(e.action), new AbortController().signal);
  assert.deepEqual(got, ['2', '3']);
});
