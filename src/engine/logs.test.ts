import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dockerTime, formatTimeNs, logSettings, parseLogChunk, parseLogLine, parseSize, readLogBatches, rfc3339ToNs, rotateLog,
  DEFAULT_LOG_MAX_FILE, DEFAULT_LOG_MAX_SIZE, type LogBatch,
} from './logs.ts';

test('parseLogLine reads conmon k8s-file lines, full and partial', () => {
  const full = parseLogLine('2026-11-28T02:40:20.910968291+00:00 stdout F hello world');
  assert.equal(full?.stream, 1);
  assert.equal(full?.data.toString(), 'hello world\n');
  const part = parseLogLine('2026-11-28T02:40:20.910968291+00:00 stderr P no newline');
  assert.equal(part?.stream, 2);
  assert.equal(part?.data.toString(), 'no newline');
  const empty = parseLogLine('2026-11-28T02:40:20.910968291+00:00 stdout F');
  assert.equal(empty?.data.toString(), '\n');
  assert.equal(parseLogLine('garbage'), undefined);
});

test('parseLogChunk stops at the last newline and skips lines that are no records', () => {
  const buf = Buffer.from('T1 stdout F a b\nnonsense\nT2 stderr P c\nT3 stdout F incompl');
  const { batch, consumed } = parseLogChunk(buf, 0, buf.length);
  assert.equal(batch.count, 2);
  assert.equal(consumed, buf.indexOf('T3'));
  assert.deepEqual([0, 1].map((i) => [batch.stream(i), batch.partial(i), batch.rawTime(i), batch.data(i).toString()]), [
    [1, false, 'T1', 'a b\n'],
    [2, true, 'T2', 'c'],
  ]);
  const only2 = batch.filter((b, i) => b.stream(i) === 2);
  assert.equal(only2.count, 1);
  assert.equal(only2.data(0).toString(), 'c');
});

test('rfc3339ToNs keeps nanoseconds and zones', () => {
  assert.equal(rfc3339ToNs('1970-01-01T00:00:01.000000002Z'), 1_000_000_002n);
  assert.equal(rfc3339ToNs('1970-01-01T01:00:01.5+01:00'), 1_500_000_000n);
  assert.equal(rfc3339ToNs('nonsense'), 0n);
});

test('timestamps print as docker does: UTC, nine fraction digits, Z', () => {
  assert.equal(dockerTime('2026-11-28T02:40:20.910968291+00:00'), '2026-11-28T02:40:20.910968291Z');
  assert.equal(dockerTime('2026-11-28T03:40:20.91+01:00'), '2026-11-28T02:40:20.910000000Z');
  assert.equal(formatTimeNs(1_000_000_002n), '1970-01-01T00:00:01.000000002Z');
});

test('parseSize follows go-units RAMInBytes', () => {
  assert.equal(parseSize('10k'), 10240);
  assert.equal(parseSize('20m'), 20 * 2 ** 20);
  assert.equal(parseSize('1g'), 2 ** 30);
  assert.equal(parseSize('1.5MB'), 1.5 * 2 ** 20);
  assert.equal(parseSize('123'), 123);
  assert.throws(() => parseSize('ten'), /invalid size: 'ten'/);
});

test('logSettings: defaults, docker errors, attributes for --details', () => {
  assert.deepEqual(logSettings({ type: '', config: {} }), { driver: 'json-file', maxSize: DEFAULT_LOG_MAX_SIZE, maxFile: DEFAULT_LOG_MAX_FILE, attrs: {} });
  assert.equal(logSettings({ type: 'none', config: {} }).driver, 'none');
  assert.throws(() => logSettings({ type: 'json-file', config: { foo: 'bar' } }), { message: "unknown log opt 'foo' for json-file log driver" });
  assert.throws(() => logSettings({ type: 'gelf2', config: {} }), { message: "logger: no log driver named 'gelf2' is registered" });
  assert.throws(() => logSettings({ type: 'json-file', config: { 'max-file': '0' } }), { message: 'max-file cannot be less than 1' });
  assert.throws(() => logSettings({ type: 'json-file', config: { 'max-size': 'x' } }), { message: "invalid size: 'x'" });
  const s = logSettings({ type: 'json-file', config: { 'max-size': '10k', 'max-file': '2', labels: 'a,missing', env: 'E', mode: 'non-blocking' } }, { labels: { a: '1', b: '2' }, env: ['E=x=y', 'F=2'] });
  assert.deepEqual(s, { driver: 'json-file', maxSize: 10240, maxFile: 2, attrs: { a: '1', E: 'x=y' } });
});

// ---------- reading across rotated files ----------

const line = (n: number, stream = 'stdout'): string => `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.000000000+00:00 ${stream} F line${n}\n`;
const lines = (from: number, to: number): string => Array.from({ length: to - from }, (_, i) => line(from + i)).join('');

async function collect(gen: AsyncGenerator<LogBatch>): Promise<string[]> {
  const out: string[] = [];
  for await (const b of gen) for (let i = 0; i < b.count; i++) out.push(b.data(i).toString().trimEnd());
  return out;
}
const names = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `line${from + i}`);

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const never = new AbortController().signal;

test('readLogBatches reads rotated files oldest first; --tail and --since span them', async (t) => {
  const log = join(await tmp(t), 'c-json.log');
  await writeFile(`${log}.2`, lines(0, 5));
  await writeFile(`${log}.1`, lines(5, 10));
  await writeFile(log, lines(10, 12) + '2026-01-01T00:00:59.0+00:00 stdout F incomplete');
  const opts = { follow: false, signal: never, isLive: () => false };
  assert.deepEqual(await collect(readLogBatches(log, opts)), names(0, 12));
  assert.deepEqual(await collect(readLogBatches(log, { ...opts, tail: 4 })), names(8, 12));
  assert.deepEqual(await collect(readLogBatches(log, { ...opts, tail: 7 })), names(5, 12));
  assert.deepEqual(await collect(readLogBatches(log, { ...opts, tail: 100 })), names(0, 12));
  assert.deepEqual(await collect(readLogBatches(log, { ...opts, tail: 0 })), []);
  const ns = (s: number): bigint => rfc3339ToNs(`2026-01-01T00:00:${String(s).padStart(2, '0')}Z`);
  assert.deepEqual(await collect(readLogBatches(log, { ...opts, since: ns(3), until: ns(6) })), names(3, 7));
});

test('--tail counts lines, not records: a line conmon split into P and F records counts once', async (t) => {
  const log = join(await tmp(t), 'c-json.log');
  const p = (text: string): string => `2026-01-01T00:00:01.000000000+00:00 stdout P ${text}\n`;
  const f = (text: string): string => `2026-01-01T00:00:01.000000000+00:00 stdout F ${text}\n`;
  // the split line straddles a rotation: its P piece is the last record of the rotated file
  await writeFile(`${log}.1`, f('a') + f('b') + p('c-start-'));
  await writeFile(log, f('c-end') + p('d1-') + p('d2-') + f('d3') + f('e'));
  const opts = { follow: false, signal: never, isLive: () => false };
  assert.deepEqual(await collect(readLogBatches(log, { ...opts, tail: 2 })), ['d1-', 'd2-', 'd3', 'e']);
  assert.deepEqual(await collect(readLogBatches(log, { ...opts, tail: 3 })), ['c-start-', 'c-end', 'd1-', 'd2-', 'd3', 'e']);
  assert.deepEqual(await collect(readLogBatches(log, { ...opts, tail: 4 })), ['b', 'c-start-', 'c-end', 'd1-', 'd2-', 'd3', 'e']);
  assert.deepEqual(await collect(readLogBatches(log, { ...opts, tail: 1 })), ['e']);
});

test('rotateLog keeps max-file files and drops the oldest', async (t) => {
  const dir = await tmp(t);
  const log = join(dir, 'c-json.log');
  for (let r = 0; r < 4; r++) {
    await writeFile(log, lines(r * 3, r * 3 + 3));
    await rotateLog({ path: log, maxSize: 1, maxFile: 3 });
  }
  assert.deepEqual((await readdir(dir)).sort(), ['c-json.log.1', 'c-json.log.2']);
  assert.deepEqual(await collect(readLogBatches(log, { follow: false, signal: never, isLive: () => false })), names(6, 12));
  await writeFile(log, lines(0, 1));
  await rotateLog({ path: log, maxSize: 1, maxFile: 1 });
  assert.deepEqual((await readdir(dir)).sort(), ['c-json.log.2']);
});

test('follow goes across rotations without losing or repeating records', async (t) => {
  const log = join(await tmp(t), 'c-json.log');
  await writeFile(log, lines(0, 3));
  let live = true;
  const ac = new AbortController();
  const got = collect(readLogBatches(log, { follow: true, signal: ac.signal, isLive: () => live }));
  const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 30));
  // what conmon does: write, (berthd renames), keep writing to the renamed inode, reopen = new file at <log>
  const conmonReopen = async (): Promise<void> => {
    await writeFile(`${log}.tmp`, '');
    await rename(`${log}.tmp`, log);
  };
  let n = 3;
  for (let r = 0; r < 4; r++) {
    await appendFile(log, lines(n, n + 5));
    n += 5;
    await pause();
    await rotateLog({ path: log, maxSize: 1, maxFile: 3 });
    await appendFile(`${log}.1`, lines(n, n + 2)); // before conmon read the ctl message
    n += 2;
    if (r === 2) {
      // two rotations while the reader sleeps: the middle file is only in <log>.1 now
      await conmonReopen();
      await appendFile(log, lines(n, n + 2));
      n += 2;
      await rotateLog({ path: log, maxSize: 1, maxFile: 3 });
    }
    await conmonReopen();
    await appendFile(log, lines(n, n + 1));
    n += 1;
    if (r !== 2) await pause();
  }
  await pause();
  live = false;
  const out = await got;
  assert.deepEqual(out, names(0, n));
});
