import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import type { Command } from 'commander';
import { CliContext } from '../context.ts';
import { buildProgram, verbOf } from '../main.ts';
import { VERB_LOADERS } from './on-demand.ts';

const context = (): CliContext => new CliContext({ stdout: new PassThrough(), stderr: new PassThrough(), stdin: Readable.from([]), env: {} });

/** Every command under `cmd` with its help text, by path. */
function helps(cmd: Command, path = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of cmd.commands) {
    const p = `${path} ${c.name()}`;
    out.set(p, `${c.aliases().join(',')}\n${c.helpInformation()}`);
    for (const [k, v] of helps(c, p)) out.set(k, v);
  }
  return out;
}

test('a verb registered on its own is the same as in the whole program', async () => {
  const whole = await buildProgram(context());
  assert.deepEqual(
    whole.commands.map((c) => c.name()),
    [...VERB_LOADERS.keys()],
  );
  const all = helps(whole);
  for (const name of VERB_LOADERS.keys()) {
    const alone = await buildProgram(context(), [name, 'x']);
    assert.deepEqual(
      alone.commands.map((c) => c.name()),
      [name],
    );
    for (const [path, help] of helps(alone)) assert.equal(help, all.get(path), path);
  }
});

test('verbOf finds the verb only after global flags commander parses alike with one verb or all', () => {
  assert.equal(verbOf(['exec', '-it', 'c', 'sh']), 'exec');
  assert.equal(verbOf(['-H', 'unix:///s', 'ps']), 'ps');
  assert.equal(verbOf(['--host', 'exec', 'ps']), 'ps');
  assert.equal(verbOf(['--host=unix:///s', '-v', '--version', 'ps']), 'ps');
  assert.equal(verbOf([]), undefined);
  assert.equal(verbOf(['--help', 'ps']), undefined);
  assert.equal(verbOf(['-Hunix:///s', 'ps']), undefined);
  assert.equal(verbOf(['--', 'ps']), undefined);
  assert.equal(verbOf(['-H']), undefined);
});
