// buildkit's Dockerfile parser and lexer data cases (see ../shared/conformance/buildkit-dockerfile/README.md).
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { dumpAst, envFromList, parseDockerfile, ShellLex } from './index.ts';

const ROOT = new URL('../../../../shared/conformance/buildkit-dockerfile/', import.meta.url);
const missing = await readdir(ROOT).then(
  () => false,
  () => true,
);
const skip = missing ? `conformance data not found at ${ROOT.pathname}` : false;

async function caseDirs(sub: string): Promise<string[]> {
  if (missing) return [];
  return (await readdir(new URL(sub, ROOT), { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

const read = (path: string): Promise<string> => readFile(new URL(path, ROOT), 'utf8');

describe('buildkit parser cases', { skip }, async () => {
  const dirs = await caseDirs('parser/');
  it('has all 33 cases', () => assert.equal(dirs.length, 33));
  for (const dir of dirs) {
    it(dir, async () => {
      const [dockerfile, expected] = await Promise.all([read(`parser/${dir}/Dockerfile`), read(`parser/${dir}/result`)]);
      assert.equal(dumpAst(parseDockerfile(dockerfile).ast) + '\n', expected);
    });
  }
});

describe('buildkit negative parser cases', { skip }, async () => {
  const dirs = await caseDirs('parser-negative/');
  it('has all 4 cases', () => assert.equal(dirs.length, 4));
  for (const dir of dirs) {
    it(dir, async () => {
      const dockerfile = await read(`parser-negative/${dir}/Dockerfile`);
      assert.throws(() => parseDockerfile(dockerfile));
    });
  }
});

describe('buildkit envVarTest (ProcessWord)', { skip }, async () => {
  const text = missing ? '' : await read('shell/envVarTest');
  const env = envFromList(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL=']);
  const lex = new ShellLex('\\');
  const cases: { n: number; source: string; expected: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line0 = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line0.startsWith('#')) return;
    const line = line0.trim();
    if (line === '') return;
    const fields = line.split('|');
    assert.equal(fields.length, 3, `line ${i + 1}`);
    const [platform, source, expected] = fields.map((f) => f.trim()) as [string, string, string];
    if (platform === 'W') return;
    assert.ok(platform === 'A' || platform === 'U', `line ${i + 1}: platform ${platform}`);
    cases.push({ n: i + 1, source, expected });
  });
  it('has 228 Unix cases', () => assert.equal(cases.length, 228));
  for (const c of cases) {
    it(`line ${c.n}: ${c.source} -> ${c.expected}`, () => {
      if (c.expected === 'error') assert.throws(() => lex.processWord(c.source, env));
      else assert.equal(lex.processWord(c.source, env), c.expected);
    });
  }
});

describe('buildkit wordsTest (ProcessWords)', { skip }, async () => {
  const text = missing ? '' : await read('shell/wordsTest');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const envs: string[] = [];
  const cases: { n: number; input: string; expected: string[]; env: string[] }[] = [];
  lines.forEach((line, i) => {
    if (line.startsWith('#')) return;
    if (line.startsWith('ENV ')) {
      envs.push(line.slice(3).replace(/^ +/, ''));
      return;
    }
    const parts = line.split('|');
    assert.equal(parts.length, 2, `line ${i + 1}`);
    cases.push({
      n: i + 1,
      input: (parts[0] ?? '').trim(),
      expected: (parts[1] ?? '').replace(/^ +/, '').split(','),
      env: [...envs],
    });
  });
  it('has 24 cases', () => assert.equal(cases.length, 24));
  const lex = new ShellLex('\\');
  for (const c of cases) {
    it(`line ${c.n}: ${c.input}`, () => {
      let result: string[];
      try {
        result = lex.processWords(c.input, envFromList(c.env));
      } catch {
        result = ['error'];
      }
      assert.deepEqual(result, c.expected);
    });
  }
});
