import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../common/index.ts';
import { emptyEnv, envFromList, ShellLex } from './index.ts';

const env = envFromList(['V=/usr/local/bin/app.tar.gz', 'W=a*b?c', 'A=1', 'NULL=', 'SP=x  y']);
const lex = new ShellLex();
const word = (w: string): string => lex.processWord(w, env);

function lexError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.kind, 'invalid-argument');
    return err.message;
  }
  assert.fail('expected an error');
}

describe('ShellLex pattern substitutions', () => {
  const cases: [string, string][] = [
    ['${V#*/}', 'usr/local/bin/app.tar.gz'],
    ['${V##*/}', 'app.tar.gz'],
    ['${V%.*}', '/usr/local/bin/app.tar'],
    ['${V%%.*}', '/usr/local/bin/app'],
    ['${V#/usr}', '/local/bin/app.tar.gz'],
    ['${V#x}', '/usr/local/bin/app.tar.gz'],
    ['${V/local/opt}', '/usr/opt/bin/app.tar.gz'],
    ['${V//a/_}', '/usr/loc_l/bin/_pp.t_r.gz'],
    ['${V/*/}', ''],
    ['${V//?/x}', 'x'.repeat(25)],
    ['${V/l*l/L}', '/usr/L/bin/app.tar.gz'],
    ['${V/nothing/x}', '/usr/local/bin/app.tar.gz'],
    ['${V/.tar/[x]}', '/usr/local/bin/app[x].gz'],
    ['${W#a\\*}', 'b?c'],
    ['${W%\\?c}', 'a*b'],
    ['${W//\\*/S}', 'aSb?c'],
    ['${UNSET#x}', ''],
    ['${UNSET/x/y}', ''],
    ['${V#$A}', '/usr/local/bin/app.tar.gz'],
  ];
  for (const [input, want] of cases) it(input, () => assert.equal(word(input), want));

  it('rejects :# and :%, and bad escapes in patterns', () => {
    assert.equal(lexError(() => word('${V:#x}')), 'failed to process "${V:#x}": unsupported modifier (:#) in substitution');
    assert.equal(lexError(() => word('${V:%x}')), 'failed to process "${V:%x}": unsupported modifier (:%) in substitution');
    assert.equal(
      lexError(() => word('${V#\\a}')),
      'failed to process "${V#\\\\a}": invalid pattern (\\a) in substitution: invalid escape \'\\a\'',
    );
    assert.equal(lexError(() => word('${V/x')), 'failed to process "${V/x": syntax error: missing \'/\' in ${}');
    assert.equal(lexError(() => word('${V/x/y')), 'failed to process "${V/x/y": syntax error: missing \'}\'');
  });
});

describe('ShellLex errors', () => {
  const cases: [string, string][] = [
    ['${X?}', 'X: is not allowed to be unset'],
    ['${X:?custom text}', 'X: custom text'],
    ['${NULL:?}', 'NULL: is not allowed to be empty'],
    ['${}', 'syntax error: bad substitution'],
    ['${:-x}', 'syntax error: bad substitution'],
    ['${', "syntax error: missing '}'"],
    ['${A:-x', "syntax error: missing '}'"],
    ['${A:=x}', 'unsupported modifier (:=) in substitution'],
    ['${A', 'unsupported modifier (\ufffd) in substitution'],
    ["'abc", 'unexpected end of statement while looking for matching single-quote'],
    ['"abc', 'unexpected end of statement while looking for matching double-quote'],
  ];
  for (const [input, inner] of cases) {
    it(input, () => assert.equal(lexError(() => word(input)), `failed to process ${JSON.stringify(input)}: ${inner}`));
  }
});

describe('ShellLex', () => {
  it('distinguishes unset from empty', () => {
    assert.equal(word('[${NULL-d}|${NULL:-d}|${NULL+p}|${NULL:+p}|${NULL?}]'), '[|d|p||]');
  });

  it('splits words after expansion, not inside quotes', () => {
    assert.deepEqual(lex.processWords('a $SP "b $SP" c\\ d', env), ['a', 'x', 'y', 'b x  y', 'c d']);
    assert.deepEqual(lex.processWords(`a "" b`, env), ['a', 'b']);
  });

  it('keeps buildkit shared word buffer quirk for modifiers', () => {
    // compat: buildkit resets its word buffer inside ${VAR:-word}, dropping "hello".
    assert.deepEqual(lex.processWords('hello${X:-a}b', env), ['ab']);
    assert.equal(lex.processWord('hello${X:-a}b', env), 'helloab');
  });

  it('uses the backtick escape token', () => {
    const bt = new ShellLex('`');
    assert.equal(bt.processWord('a`$A\\b "`"x"', env), 'a$A\\b "x');
  });

  it('can keep quotes and escapes', () => {
    const raw = new ShellLex('\\', { rawQuotes: true, rawEscapes: true });
    assert.deepEqual(raw.processWords(`a "b c" 'd' e\\ f`, env), ['a', '"b c"', "'d'", 'e\\ f']);
  });

  it('can leave unset variables alone', () => {
    const skip = new ShellLex('\\', { skipUnsetEnv: true });
    assert.equal(skip.processWord('$X ${X} ${X:-d} ${X/a/b} $A', env), '$X ${X} ${X:-d} ${X/a/b} 1');
  });

  it('can treat quotes as text', () => {
    const noQuotes = new ShellLex('\\', { skipProcessQuotes: true });
    assert.equal(noQuotes.processWord(`"$A" '$A' \\$A`, env), `"1" '1' $A`);
  });

  it('reports matched and unmatched variables', () => {
    const r = lex.processWordWithMatches('$A ${B:-x} $NULL', env);
    assert.equal(r.result, '1 x ');
    assert.deepEqual([...r.matched].sort(), ['A', 'NULL']);
    assert.deepEqual([...r.unmatched], ['B']);
  });

  it('builds environments from KEY=value lists', () => {
    const e = envFromList(['A=1', 'B', 'A=2', 'C=x=y']);
    assert.deepEqual(['A', 'B', 'C', 'D'].map(e), ['2', '', 'x=y', undefined]);
    assert.equal(emptyEnv('A'), undefined);
  });
});
