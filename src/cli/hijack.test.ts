import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DETACH_KEYS, EscapeProxy, parseDetachKeys } from './hijack.ts';

describe('parseDetachKeys (moby/term ToBytes)', () => {
  it('reads ctrl-<key>, single characters and DEL', () => {
    assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
    assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-_,a,DEL')], [0, 27, 28, 31, 97, 127]);
  });
  it('rejects unknown keys', () => {
    assert.throws(() => parseDetachKeys('ctrl-1'), /Unknown character: 'ctrl-1'/);
    assert.throws(() => parseDetachKeys('abc'), /Unknown character: 'abc'/);
  });
});

describe('EscapeProxy', () => {
  const feed = (p: EscapeProxy, s: string): [string, boolean] => {
    const r = p.feed(Buffer.from(s, 'latin1'));
    return [r.forward.toString('latin1'), r.detached];
  };

  it('passes ordinary input through untouched', () => {
    assert.deepEqual(feed(new EscapeProxy(DEFAULT_DETACH_KEYS), 'ls -l\r'), ['ls -l\r', false]);
  });
  it('detaches on the sequence, in one chunk or split across reads, dropping what follows', () => {
    assert.deepEqual(feed(new EscapeProxy(DEFAULT_DETACH_KEYS), 'ab\x10\x11cd'), ['ab', true]);
    const p = new EscapeProxy(DEFAULT_DETACH_KEYS);
    assert.deepEqual(feed(p, 'x\x10'), ['x', false]);
    assert.deepEqual(feed(p, '\x11'), ['', true]);
  });
  it('sends the held keys when the sequence breaks', () => {
    const p = new EscapeProxy(DEFAULT_DETACH_KEYS);
    assert.deepEqual(feed(p, '\x10'), ['', false]);
    assert.deepEqual(feed(p, 'a'), ['\x10a', false]);
    assert.deepEqual(feed(p, '\x10\x10\x11'), ['\x10', true]);
  });
  it('handles custom and single-key sequences', () => {
    assert.deepEqual(feed(new EscapeProxy(parseDetachKeys('ctrl-x,x')), 'axx\x18x'), ['axx', true]);
    assert.deepEqual(feed(new EscapeProxy(parseDetachKeys('ctrl-a')), 'q\x01'), ['q', true]);
  });
});
