import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetachProxy, parseDetachKeys } from './detach.ts';

test('parseDetachKeys follows docker: ctrl-<x> and single characters', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('ctrl-a,x')], [1, 120]);
  assert.deepEqual([...parseDetachKeys('ctrl-[')], [27]);
  assert.throws(() => parseDetachKeys('ctrl-pp'), /Invalid detach keys \(ctrl-pp\) provided/);
});

test('DetachProxy holds partial matches, forwards failed ones and swallows the sequence', () => {
  const p = new DetachProxy(parseDetachKeys('ctrl-p,ctrl-q'));
  assert.deepEqual(p.feed(Buffer.from('ab\x10')), { forward: Buffer.from('ab'), detached: false });
  assert.deepEqual(p.feed(Buffer.from('c')), { forward: Buffer.from('\x10c'), detached: false });
  assert.deepEqual(p.feed(Buffer.from('\x10\x10')), { forward: Buffer.from('\x10'), detached: false });
  assert.deepEqual(p.feed(Buffer.from('\x11rest')), { forward: Buffer.alloc(0), detached: true });
});
