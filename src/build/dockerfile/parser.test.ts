import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chompHeredocContent, DockerfileParseError, dumpAst, parseDockerfile, parseHeredocWord, parseWords } from './index.ts';
import type { Heredoc, Node } from './index.ts';

const parse = (text: string): Node[] => parseDockerfile(text).ast.children;
const dump = (text: string): string => dumpAst(parseDockerfile(text).ast);
const doc = (name: string, content: string, more: Partial<Heredoc> = {}): Heredoc => ({
  name,
  content,
  expand: true,
  chomp: false,
  fileDescriptor: 0,
  ...more,
});

function parseError(text: string): DockerfileParseError {
  try {
    parseDockerfile(text);
  } catch (err) {
    assert.ok(err instanceof DockerfileParseError, String(err));
    return err;
  }
  assert.fail('expected a parse error');
}

// Modelled on buildkit's parser_heredoc_test.go.
describe('heredocs', () => {
  it('extracts heredocs from RUN and COPY', () => {
    const children = parse(`
FROM alpine:3.6

ENV NAME=me

RUN ls

USER <<INVALID
INVALID

RUN <<EMPTY
EMPTY

RUN 3<<EMPTY2
EMPTY2

RUN "<<NOHEREDOC"

RUN <<INDENT
\tfoo
\tbar
INDENT

RUN <<-UNINDENT
\tbaz
\tquux
UNINDENT

RUN <<-UNINDENT2
\tbaz
\tquux
\tUNINDENT2

RUN <<-EXPAND
\texpand $NAME
EXPAND

RUN <<-'NOEXPAND'
\tdon't expand $NAME
NOEXPAND

RUN <<COPY
echo hello world
echo foo bar
COPY

RUN <<COMMENT
# internal comment
echo hello world
echo foo bar # trailing comment
COMMENT

RUN --mount=type=cache,target=/foo <<MOUNT
echo hello
MOUNT

COPY <<FILE1 <<FILE2 /dest
content 1
FILE1
content 2
FILE2

COPY <<X <<Y /dest
Y
X
X
Y
\t`);
    const expected: Heredoc[][] = [
      [], // ENV NAME=me
      [], // RUN ls
      [], // USER <<INVALID: only RUN, COPY and ADD take heredocs
      [], // INVALID (an unknown instruction)
      [doc('EMPTY', '')],
      [doc('EMPTY2', '', { fileDescriptor: 3 })],
      [], // RUN "<<NOHEREDOC"
      [doc('INDENT', '\tfoo\n\tbar\n')],
      [doc('UNINDENT', '\tbaz\n\tquux\n', { chomp: true })],
      [doc('UNINDENT2', '\tbaz\n\tquux\n', { chomp: true })],
      [doc('EXPAND', '\texpand $NAME\n', { chomp: true })],
      [doc('NOEXPAND', "\tdon't expand $NAME\n", { chomp: true, expand: false })],
      [doc('COPY', 'echo hello world\necho foo bar\n')],
      [doc('COMMENT', '# internal comment\necho hello world\necho foo bar # trailing comment\n')],
      [doc('MOUNT', 'echo hello\n')],
      [doc('FILE1', 'content 1\n'), doc('FILE2', 'content 2\n')],
      [doc('X', 'Y\n'), doc('Y', 'X\n')],
    ];
    assert.equal(children.length, expected.length + 1);
    expected.forEach((want, i) => assert.deepEqual(children[i + 1]?.heredocs, want, `child ${i + 1}`));
  });

  it('keeps the instruction line as written and dumps only the line', () => {
    const [run] = parse('RUN python3 <<EOF\nprint("hi")\nEOF\n');
    assert.equal(run?.original, 'RUN python3 <<EOF');
    assert.equal(dumpAst(run as Node), 'run "python3 <<EOF"');
    assert.deepEqual(run?.heredocs, [doc('EOF', 'print("hi")\n')]);
    assert.deepEqual([run?.startLine, run?.endLine], [1, 3]);
  });

  it('supports double-quoted delimiters and several heredocs on one line', () => {
    const [run] = parse('RUN <<"A" cat - && cat 3<<B\n$x\nA\n$y\nB\n');
    assert.deepEqual(run?.heredocs, [doc('A', '$x\n', { expand: false }), doc('B', '$y\n', { fileDescriptor: 3 })]);
  });

  it('treats a partly quoted delimiter as quoted', () => {
    assert.deepEqual(parseHeredocWord('<<E"O"F'), doc('EOF', '', { expand: false }));
  });

  it('ignores heredoc-like words in JSON form', () => {
    for (const [run] of ['RUN ["whoami"]', 'RUN ["<<EOF"]', `RUN ["<<'EOF'"]`].map((l) => parse(`${l}\n`))) {
      assert.deepEqual(run?.heredocs, []);
    }
  });

  it('reads heredocs for ADD and for an ONBUILD trigger', () => {
    const [add, onbuild] = parse('ADD <<EOF /a\nx\nEOF\nONBUILD RUN <<EOF\ny\nEOF\n');
    assert.deepEqual(add?.heredocs, [doc('EOF', 'x\n')]);
    assert.deepEqual(onbuild?.heredocs, [doc('EOF', 'y\n')]);
    assert.equal(dumpAst(onbuild as Node), 'onbuild (run "<<EOF")');
  });

  it('keeps CRLF line endings in the body and matches the terminator without them', () => {
    const [run] = parse('RUN <<EOF\r\na\r\nEOF\r\n');
    assert.deepEqual(run?.heredocs, [doc('EOF', 'a\r\n')]);
  });

  it('needs the terminator on a line of its own', () => {
    assert.throws(() => parseDockerfile('RUN <<EOF\nabc'), /unterminated heredoc/);
  });

  it('fails on an unterminated heredoc with the instruction line', () => {
    const err = parseError('FROM a\nRUN <<EOF\nno end\n');
    assert.equal(err.message, 'unterminated heredoc');
    assert.equal(err.line, 2);
  });

  it('does not see heredocs in quoted words', () => {
    for (const line of [`RUN '<<EOF'`, 'RUN "<<EOF"', 'RUN <<', 'RUN <EOF', 'RUN <<<EOF']) {
      assert.deepEqual(parse(`${line}\n`)[0]?.heredocs, [], line);
    }
  });

  it('chomps leading tabs per line', () => {
    assert.equal(chompHeredocContent('\thello\n\t\tworld\n  x\n'), 'hello\nworld\n  x\n');
  });

  it('parses heredoc words like buildkit ParseHeredoc', () => {
    for (const w of ['<<EOF', "<<'EOF'", '<<"EOF"', '<<-EOF', "<<-'EOF'", '<<-"EOF"']) {
      assert.equal(parseHeredocWord(w)?.name, 'EOF', w);
    }
    for (const w of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) {
      assert.throws(() => parseHeredocWord(w), /failed to process/, w);
    }
    for (const w of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF']) {
      assert.equal(parseHeredocWord(w), undefined, w);
    }
    assert.equal(parseHeredocWord('4<<EOF')?.fileDescriptor, 4);
  });
});

describe('parseDockerfile', () => {
  it('records line numbers, skipping comments, blank lines and continuation gaps', () => {
    const result = parseDockerfile(`# ESCAPE=\\



FROM image@sha256:abc


# A comment


ENV GOPATH \\
/go



# Install
RUN apt-get update \\
\t&& one \\


    && two \\
    && three \\
    && four \\

\t&& five \\
    && six \\

\t&& seven \\
\t&& eight \\
\t&& nine \\
\t&& ten




`);
    const { ast } = result;
    assert.deepEqual([ast.startLine, ast.endLine], [5, 31]);
    assert.deepEqual(
      ast.children.map((c) => [c.startLine, c.endLine]),
      [
        [5, 5],
        [11, 12],
        [17, 31],
      ],
    );
  });

  it('warns about empty continuation lines', () => {
    const { warnings } = parseDockerfile(`
FROM alpine:3.6

RUN something \\

    following \\

    more

RUN another \\

    thing
RUN non-indented \\
# this is a comment
   after-comment

RUN indented \\
    # this is an indented comment
    comment
\t`);
    assert.equal(warnings.length, 2);
    assert.equal(warnings[0], 'Empty continuation line found in: RUN something     following     more');
    assert.equal(warnings[1], 'Empty continuation line found in: RUN another     thing');
  });

  it('fails on lines over 64KiB like bufio.Scanner', () => {
    const err = parseError(`\n\t\tFROM image\n\t\tLABEL test=${'a'.repeat(65536)}\n`);
    assert.equal(err.message, 'dockerfile line greater than max allowed size of 65535');
  });

  it('rejects a file with no instructions', () => {
    assert.equal(parseError('').message, 'file with no instructions');
    assert.equal(parseError('# only\n\n   \n').message, 'file with no instructions');
  });

  it('reads directives only before anything else', () => {
    const r = parseDockerfile('# syntax=docker/dockerfile:1\n#escape=`\n# check=skip=all\nFROM a\nRUN x `\n  y\n# escape=\\\n');
    assert.deepEqual(r.directives, { syntax: 'docker/dockerfile:1', escape: '`', check: 'skip=all' });
    assert.equal(r.escapeToken, '`');
    assert.equal(dumpAst(r.ast), '(from "a")\n(run "x   y")');
    assert.deepEqual(parseDockerfile('# hello\n# escape=`\nFROM a\n').directives, {});
    assert.deepEqual(parseDockerfile('  #  Escape  =  `  \nFROM a\n').directives, { escape: '`' });
  });

  it('rejects a bad or repeated directive', () => {
    assert.equal(parseError('# escape=x\nFROM a\n').message, "invalid escape token 'x' does not match ` or \\");
    const err = parseError('# escape=`\n# escape=`\nFROM a\n');
    assert.equal(err.message, 'only one escape parser directive can be used');
    assert.equal(err.line, 1); // compat: buildkit points at the line before
  });

  it('strips a byte-order mark and handles CRLF', () => {
    assert.equal(dump('\ufeffFROM a\r\nRUN b \\\r\n  c\r\n'), '(from "a")\n(run "b   c")');
  });

  it('keeps unknown instructions with one empty argument', () => {
    assert.equal(dump('FROM a\nFOO bar baz\nfoo\n'), '(from "a")\n(foo "")\n(foo "")');
  });

  it('lower-cases keywords and keeps the original line', () => {
    const [run] = parse('  Run  echo   hi  \n');
    assert.equal(run?.value, 'run');
    assert.equal(run?.original, 'Run  echo   hi  ');
    assert.equal(run?.next?.value, 'echo   hi');
  });

  it('marks JSON arguments and falls back to text on invalid JSON', () => {
    const [exec, shell, trailing] = parse('CMD ["a", "b"]\nCMD [\'a\']\nCMD ["a"] b\n');
    assert.deepEqual(exec?.attributes, { json: true });
    assert.equal(shell?.attributes, undefined);
    assert.equal(shell?.next?.value, "['a']");
    // compat: like Go's json.Decoder, what follows the array is ignored
    assert.deepEqual(trailing?.attributes, { json: true });
  });

  it('extracts flags with quotes, escapes and `--`', () => {
    assert.equal(
      dump('COPY --chown="a b" --from=x\\ y -- --not-a-flag /d\nRUN --mount=type=cache,target=/c make --jobs=4\n'),
      '(copy ["--chown=a b" "--from=x y"] "--not-a-flag" "/d")\n(run ["--mount=type=cache,target=/c"] "make --jobs=4")',
    );
  });

  it('uses the escape directive in flags and words', () => {
    assert.equal(dump('# escape=`\nCOPY --chown=a`"b x /d\nENV A=b`"c d="e f"\n'), '(copy ["--chown=a\\"b"] "x" "/d")\n(env "A" "b`\\"c" "=" "d" "\\"e f\\"" "=")');
  });

  it('parses ENV and LABEL pairs in both forms', () => {
    assert.equal(dump('ENV a b c\nLABEL x=1 "y z"=2\n'), '(env "a" "b c" "")\n(label "x" "1" "=" "\\"y z\\"" "2" "=")');
    assert.equal(parseError('ENV a=1 b\n').message, 'Syntax error - can\'t find = in "b". Must be of the form: name=value');
    assert.equal(parseError('LABEL a\n').message, 'LABEL must have two arguments');
  });

  it('parses HEALTHCHECK, ARG and ONBUILD', () => {
    assert.equal(
      dump('HEALTHCHECK NONE\nHEALTHCHECK --retries=2 CMD ["x"]\nARG a b="c d"\nONBUILD ADD . /app\n'),
      '(healthcheck "NONE")\n(healthcheck ["--retries=2"] "CMD" "x")\n(arg "a" "b=\\"c d\\"")\n(onbuild (add "." "/app"))',
    );
  });

  it('quotes like Go strconv.Quote in the dump', () => {
    assert.equal(dump('RUN ["\\u0001\\u007f\\u00a0\\u00e9\\u2028\\ud83d\\ude00\\ud800"]\n'), '(run "\\x01\\x7f\\u00a0é\\u2028😀�")');
  });

  it('splits words like buildkit parseWords', () => {
    const cases: [string, string[]][] = [
      ['foo', ['foo']],
      ['foo bar', ['foo', 'bar']],
      ['foo\\ bar', ['foo\\ bar']],
      ['foo=bar', ['foo=bar']],
      ["foo bar 'abc xyz'", ['foo', 'bar', "'abc xyz'"]],
      ['foo bar "abc xyz"', ['foo', 'bar', '"abc xyz"']],
      ['àöû', ['àöû']],
      ['föo bàr "âbc xÿz"', ['föo', 'bàr', '"âbc xÿz"']],
      ['a "unterminated', ['a', '"unterminated']],
      ["''", ["''"]],
    ];
    for (const [input, want] of cases) assert.deepEqual(parseWords(input), want, input);
  });
});
