import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLogLine, rfc3339ToNs } from './logs.ts';

test('parseLogLine reads conmon k8s-file lines, full and partial', () => {
  const full = parseLogLine('2026-11-28T02:40:20.910968291+00:00 stdout F hello world');
  assert.equal(full?.stream, 1);
  assert.equal(full?.data.toString(), 'hello world\n');
  const part = parseLogLine('2026-11-28T02:40:20.910968291+00:00 stderr P no newline');
  assert.equal(part?.stream, 2);
  assert.equal(part?.data.toString(), 'no newline');
  assert.equal(parseLogLine('garbage'), undefined);
});

test('rfc3339ToNs keeps nanoseconds and zones', () => {
  assert.equal(rfc3339ToNs('1970-01-01T00:00:01.000000002Z'), 1_000_000_002n);
  assert.equal(rfc3339ToNs('1970-01-01T01:00:01.5+01:00'), 1_500_000_000n);
  assert.equal(rfc3339ToNs('nonsense'), 0n);
});
