import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DockerfileParseError,
  envFromList,
  expandInstruction,
  parseDockerfile,
  parseInstruction,
  parseRunMount,
  parseStages,
  ShellLex,
} from './index.ts';
import type { Located } from './index.ts';

/** Parses the first instruction of `text`. */
function inst(text: string): Located {
  const node = parseDockerfile(text).ast.children[0];
  assert.ok(node);
  return parseInstruction(node);
}

/** Asserts the kind and narrows to it. */
function ofKind<K extends Located['kind']>(i: Located, kind: K): Located & { kind: K } {
  assert.equal(i.kind, kind);
  return i as Located & { kind: K };
}

function instError(text: string): DockerfileParseError {
  try {
    inst(text);
  } catch (err) {
    assert.ok(err instanceof DockerfileParseError, String(err));
    return err;
  }
  assert.fail(`expected an error for ${text}`);
}

const msg = (text: string): string => instError(text).message;

describe('parseInstruction', () => {
  it('FROM', () => {
    assert.deepEqual(inst('FROM --platform=$BUILDPLATFORM golang:1.22 AS Build'), {
      kind: 'from',
      image: 'golang:1.22',
      name: 'build',
      platform: '$BUILDPLATFORM',
      line: 1,
      original: 'FROM --platform=$BUILDPLATFORM golang:1.22 AS Build',
    });
    assert.deepEqual(inst('FROM scratch'), { kind: 'from', image: 'scratch', line: 1, original: 'FROM scratch' });
    assert.equal(msg('FROM a b'), 'FROM requires either one or three arguments');
    assert.equal(msg('FROM a AS 1x'), 'invalid name for build stage: "1x", name can\'t start with a number or contain symbols');
  });

  it('RUN in shell and exec form, with heredocs and flags', () => {
    assert.deepEqual(inst('RUN --network=none --mount=type=cache,target=/c --mount=type=tmpfs,target=/t make all'), {
      kind: 'run',
      cmd: ['make all'],
      prependShell: true,
      heredocs: [],
      mounts: ['type=cache,target=/c', 'type=tmpfs,target=/t'],
      devices: [],
      network: 'none',
      line: 1,
      original: 'RUN --network=none --mount=type=cache,target=/c --mount=type=tmpfs,target=/t make all',
    });
    const exec = ofKind(inst('RUN ["echo", "hi"]'), 'run');
    assert.deepEqual(exec.cmd, ['echo', 'hi']);
    assert.equal(exec.prependShell, false);
    assert.equal(exec.network, undefined);
    const heredoc = ofKind(inst('RUN <<-EOF bash\n\techo $HOME\n\tEOF\n'), 'run');
    assert.deepEqual(heredoc.cmd, ['<<-EOF bash']);
    // RUN heredocs stay raw; `chomp` tells the builder to strip the tabs.
    assert.deepEqual(heredoc.heredocs, [{ name: 'EOF', content: '\techo $HOME\n', expand: true, chomp: true, fileDescriptor: 0 }]);
    assert.equal(msg('RUN --network=bridge x'), 'invalid network mode "bridge"');
    assert.equal(msg('RUN --mount=type=bind,from=$X x'), "'from' doesn't support variable expansion, define alias stage instead");
    assert.equal(msg('RUN --mount=a\\"b x'), 'failed to parse csv mounts: parse error on line 1, column 2: bare " in non-quoted-field');
    assert.equal(msg('RUN --mount= x'), 'failed to parse csv mounts: EOF');
    assert.equal(msg('RUN --mounts=a x'), 'unknown flag: --mounts (did you mean mount?)');
    const secure = ofKind(inst('RUN --security=insecure --device=vendor.com/gpu=all,required x'), 'run');
    assert.deepEqual([secure.security, secure.devices], ['insecure', ['vendor.com/gpu=all,required']]);
    assert.equal(msg('RUN --security=root x'), 'security "root" is not valid');
    assert.equal(msg('RUN --device=a,b x'), "invalid field 'b' must be a key=value pair");
  });

  it('CMD, ENTRYPOINT and SHELL', () => {
    assert.deepEqual(inst('CMD echo $HOME'), { kind: 'cmd', cmd: ['echo $HOME'], prependShell: true, line: 1, original: 'CMD echo $HOME' });
    assert.deepEqual(inst('ENTRYPOINT []'), { kind: 'entrypoint', cmd: [], prependShell: false, line: 1, original: 'ENTRYPOINT []' });
    assert.deepEqual(inst('CMD'), { kind: 'cmd', cmd: [], prependShell: true, line: 1, original: 'CMD' });
    assert.deepEqual(inst('SHELL ["/bin/bash", "-c"]'), { kind: 'shell', shell: ['/bin/bash', '-c'], line: 1, original: 'SHELL ["/bin/bash", "-c"]' });
    assert.equal(msg('SHELL /bin/bash -c'), 'SHELL requires the arguments to be in JSON form');
    assert.equal(msg('SHELL []'), 'SHELL requires at least one argument');
  });

  it('ENV, LABEL and ARG', () => {
    // Values keep their quotes until expansion.
    assert.deepEqual(ofKind(inst('ENV A=1 B="two words"'), 'env').pairs, [
      { key: 'A', value: '1' },
      { key: 'B', value: '"two words"' },
    ]);
    assert.equal(msg('ENV =x'), 'ENV names can not be blank');
    assert.equal(msg('ENV'), 'ENV requires at least one argument');
    assert.deepEqual(ofKind(inst('LABEL a b c'), 'label').pairs, [{ key: 'a', value: 'b c' }]);
    assert.deepEqual(inst('ARG A B=2 C='), {
      kind: 'arg',
      args: [{ key: 'A' }, { key: 'B', value: '2' }, { key: 'C', value: '' }],
      line: 1,
      original: 'ARG A B=2 C=',
    });
    assert.equal(msg('ARG =x'), 'ARG names can not be blank');
    assert.equal(msg('ARG'), 'ARG requires at least one argument');
  });

  it('rejects ENV without =, at parse time', () => {
    assert.throws(() => parseDockerfile('ENV A=1 C'), /Syntax error - can't find = in "C"/);
  });

  it('COPY and ADD', () => {
    assert.deepEqual(inst('COPY --from=build --chown=1:2 --chmod=755 --link --parents --exclude=*.md --exclude=x a b /dst/'), {
      kind: 'copy',
      sources: ['a', 'b'],
      dest: '/dst/',
      from: 'build',
      chown: '1:2',
      chmod: '755',
      link: true,
      keepGitDir: false,
      exclude: ['*.md', 'x'],
      parents: true,
      heredocs: [],
      line: 1,
      original: 'COPY --from=build --chown=1:2 --chmod=755 --link --parents --exclude=*.md --exclude=x a b /dst/',
    });
    assert.deepEqual(inst('ADD --keep-git-dir=true --checksum=sha256:abc --unpack=false --link=FALSE ["a b", "/c"]'), {
      kind: 'add',
      sources: ['a b'],
      dest: '/c',
      checksum: 'sha256:abc',
      link: false,
      keepGitDir: true,
      exclude: [],
      parents: false,
      heredocs: [],
      unpack: false,
      line: 1,
      original: 'ADD --keep-git-dir=true --checksum=sha256:abc --unpack=false --link=FALSE ["a b", "/c"]',
    });
    const here = ofKind(inst('COPY <<-one <<two ./x /dst/\n\tfirst\none\n\tsecond\ntwo\n'), 'copy');
    assert.deepEqual(here.sources, ['./x']);
    assert.deepEqual(here.heredocs, [
      { name: 'one', content: 'first\n', expand: true, chomp: true, fileDescriptor: 0 },
      { name: 'two', content: '\tsecond\n', expand: true, chomp: false, fileDescriptor: 0 },
    ]);
    assert.equal(msg('COPY a'), 'COPY requires at least two arguments, but only one was provided. Destination could not be determined');
    assert.equal(msg('ADD <<EOF\nx\nEOF'), 'ADD requires at least two arguments, but only one was provided. Destination could not be determined');
    assert.equal(msg('COPY a <<EOF\nx\nEOF'), 'COPY cannot accept a heredoc as a destination');
    assert.equal(msg('ADD --from=x a b'), 'unknown flag: --from');
  });

  it('parses flags like BFlags', () => {
    assert.equal(msg('COPY --form=build a b'), 'unknown flag: --form (did you mean from?)');
    assert.equal(msg('COPY --nope a b'), 'unknown flag: --nope');
    assert.equal(msg('COPY --from=a --from=b a b'), 'duplicate flag specified: --from');
    assert.equal(msg('COPY --from a b'), 'missing a value on flag: --from');
    assert.equal(msg('COPY --link= a b'), 'missing a value on flag: --link');
    assert.equal(msg('COPY --link=yes a b'), 'expecting boolean value for flag --link, not: yes');
    assert.equal(msg('ENV --x=1 A=1'), 'unknown flag: --x');
    assert.equal(ofKind(inst('COPY --link=TRUE a b'), 'copy').link, true);
    assert.deepEqual(ofKind(inst('COPY --link=true -- --x b'), 'copy').sources, ['--x']);
  });

  it('HEALTHCHECK', () => {
    assert.deepEqual(inst('HEALTHCHECK NONE'), { kind: 'healthcheck', none: true, line: 1, original: 'HEALTHCHECK NONE' });
    assert.deepEqual(inst('HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=0s --start-interval=1.5s --retries=3 CMD curl -f http://x/'), {
      kind: 'healthcheck',
      none: false,
      test: ['CMD-SHELL', 'curl -f http://x/'],
      interval: 90_000_000_000,
      timeout: 500_000_000,
      startPeriod: 0,
      startInterval: 1_500_000_000,
      retries: 3,
      line: 1,
      original: 'HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=0s --start-interval=1.5s --retries=3 CMD curl -f http://x/',
    });
    assert.deepEqual(inst('HEALTHCHECK cmd ["true"]'), { kind: 'healthcheck', none: false, test: ['CMD', 'true'], line: 1, original: 'HEALTHCHECK cmd ["true"]' });
    assert.equal(msg('HEALTHCHECK'), 'HEALTHCHECK requires at least one argument');
    assert.equal(msg('HEALTHCHECK FOO bar'), 'Unknown type "FOO" in HEALTHCHECK (try CMD)');
    assert.equal(msg('HEALTHCHECK CMD'), 'Missing command after HEALTHCHECK CMD');
    assert.equal(msg('HEALTHCHECK NONE x'), 'HEALTHCHECK NONE takes no arguments');
    assert.equal(msg('HEALTHCHECK --interval=10us CMD x'), 'Interval "interval" cannot be less than 1ms');
    assert.equal(msg('HEALTHCHECK --timeout=5 CMD x'), 'time: missing unit in duration "5"');
    assert.equal(msg('HEALTHCHECK --timeout=5x CMD x'), 'time: unknown unit "x" in duration "5x"');
    assert.equal(msg('HEALTHCHECK --retries=-1 CMD x'), '--retries cannot be negative (-1)');
    assert.equal(msg('HEALTHCHECK --retries=x CMD x'), 'strconv.ParseInt: parsing "x": invalid syntax');
  });

  it('EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, MAINTAINER', () => {
    assert.deepEqual(inst('EXPOSE 8080/udp 80 443'), { kind: 'expose', ports: ['443', '80', '8080/udp'], line: 1, original: 'EXPOSE 8080/udp 80 443' });
    assert.deepEqual(inst('VOLUME ["/a", "/b"]'), { kind: 'volume', paths: ['/a', '/b'], line: 1, original: 'VOLUME ["/a", "/b"]' });
    assert.equal(msg('VOLUME [" "]'), 'VOLUME specified can not be an empty string');
    assert.deepEqual(inst('USER  app:app '), { kind: 'user', value: 'app:app', line: 1, original: 'USER  app:app' });
    assert.deepEqual(inst('WORKDIR /a b'), { kind: 'workdir', value: '/a b', line: 1, original: 'WORKDIR /a b' });
    assert.deepEqual(inst('STOPSIGNAL SIGKILL'), { kind: 'stopsignal', value: 'SIGKILL', line: 1, original: 'STOPSIGNAL SIGKILL' });
    assert.deepEqual(inst('MAINTAINER me'), { kind: 'maintainer', value: 'me', line: 1, original: 'MAINTAINER me' });
    assert.equal(msg('USER'), 'USER requires exactly one argument');
    assert.equal(msg('EXPOSE'), 'EXPOSE requires at least one argument');
  });

  it('ONBUILD', () => {
    assert.deepEqual(inst('ONBUILD RUN echo hi'), { kind: 'onbuild', expression: 'RUN echo hi', line: 1, original: 'ONBUILD RUN echo hi' });
    assert.equal(ofKind(inst('ONBUILD RUN <<EOF\necho hi\nEOF\n'), 'onbuild').expression, 'RUN <<EOF\necho hi\nEOF');
    assert.equal(msg('ONBUILD ONBUILD RUN x'), 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
    assert.equal(msg('ONBUILD from x'), "FROM isn't allowed as an ONBUILD trigger");
    assert.equal(msg('ONBUILD'), 'ONBUILD requires at least one argument');
  });

  it('rejects unknown instructions with a suggestion', () => {
    assert.equal(msg('BOGUS bar'), 'unknown instruction: BOGUS');
    assert.equal(msg('FOO bar'), 'unknown instruction: FOO (did you mean FROM?)');
    assert.equal(msg('RUNN echo'), 'unknown instruction: RUNN (did you mean RUN?)');
    assert.equal(msg('cpy a b'), 'unknown instruction: cpy (did you mean copy?)');
  });

  it('locates errors', () => {
    const node = parseDockerfile('FROM a\n\nCOPY \\\n  a').ast.children[1];
    assert.ok(node);
    assert.throws(() => parseInstruction(node), (err: unknown) => err instanceof DockerfileParseError && err.line === 3);
  });
});

describe('parseStages', () => {
  it('splits meta args and stages', () => {
    const r = parseStages(`# syntax=docker/dockerfile:1
ARG BASE=alpine
ARG V
FROM \${BASE} AS build
ARG V
RUN make
FROM scratch
COPY --from=build /out /
`);
    assert.deepEqual(r.metaArgs.map((a) => a.args), [[{ key: 'BASE', value: 'alpine' }], [{ key: 'V' }]]);
    assert.deepEqual(
      r.stages.map((s) => [s.name, s.image, s.line, s.original, s.instructions.map((i) => i.kind)]),
      [
        ['build', '${BASE}', 4, 'FROM ${BASE} AS build', ['arg', 'run']],
        [undefined, 'scratch', 7, 'FROM scratch', ['copy']],
      ],
    );
    assert.equal(r.escapeToken, '\\');
    assert.deepEqual(r.directives, { syntax: 'docker/dockerfile:1' });
  });

  it('prefixes instruction errors with the line', () => {
    assert.throws(
      () => parseStages('FROM a\nRUN x\nENV =b\n'),
      (err: unknown) =>
        err instanceof DockerfileParseError && err.message === 'dockerfile parse error on line 3: ENV names can not be blank' && err.line === 3,
    );
    assert.throws(() => parseStages('FROM a\nBOGUS\n'), { message: 'dockerfile parse error on line 2: unknown instruction: BOGUS' });
  });

  it('needs a stage', () => {
    assert.throws(() => parseStages('ARG A\nRUN x\n'), { message: 'no build stage in current context' });
    assert.throws(() => parseStages('ARG A\n'), { message: 'dockerfile contains no stages to build' });
    assert.throws(() => parseStages(''), { message: 'file with no instructions' });
  });

  it('rejects variables in COPY --from', () => {
    assert.throws(() => parseStages('FROM a\nCOPY --from=$X a b\n'), {
      message: 'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround',
    });
  });
});

describe('expandInstruction', () => {
  const env = envFromList(['A=1', 'B=two words', 'P=80 443', 'U=app']);
  const lex = new ShellLex();
  const expand = (w: string): string => lex.processWord(w, env);
  const expandWords = (w: string): string[] => lex.processWords(w, env);
  const raw = new ShellLex('\\', { skipProcessQuotes: true });
  const expandRaw = (w: string): string => raw.processWord(w, env);
  const ex = (text: string): Located => expandInstruction(inst(text), expand, expandWords, expandRaw);

  it('expands the fields buildkit expands', () => {
    assert.deepEqual(ofKind(ex('ENV K$A="$B" O=$A'), 'env').pairs, [
      { key: 'K1', value: 'two words' },
      { key: 'O', value: '1' },
    ]);
    assert.deepEqual(ofKind(ex('LABEL "a b"=$A'), 'label').pairs, [{ key: 'a b', value: '1' }]);
    assert.deepEqual(ofKind(ex('ARG X=$A Y $A=$A'), 'arg').args, [{ key: 'X', value: '1' }, { key: 'Y' }, { key: '$A', value: '1' }]);
    const copy = ofKind(ex('COPY --from=$A --chown=$U:$U --chmod=$A ./$A "/dst/$B"'), 'copy');
    assert.deepEqual([copy.from, copy.chown, copy.chmod, copy.sources, copy.dest], ['$A', 'app:app', '1', ['./1'], '/dst/two words']);
    assert.equal(ofKind(ex('ADD --checksum=$A a b'), 'add').checksum, '1');
    assert.deepEqual(ofKind(ex('EXPOSE $P 22'), 'expose').ports, ['80', '443', '22']);
    assert.deepEqual(ofKind(ex('VOLUME /v/$A'), 'volume').paths, ['/v/1']);
    assert.equal(ofKind(ex('USER $U'), 'user').value, 'app');
    assert.equal(ofKind(ex('WORKDIR /w/$U'), 'workdir').value, '/w/app');
    assert.equal(ofKind(ex('STOPSIGNAL SIG$U'), 'stopsignal').value, 'SIGapp');
    const from = ofKind(ex('FROM --platform=$A img:$A'), 'from');
    assert.deepEqual([from.image, from.platform], ['img:1', '1']);
  });

  it('expands COPY heredoc content only when the delimiter is unquoted', () => {
    const copy = ofKind(ex(`COPY <<A <<'B' /d/\n"$A"\nA\n$A\nB\n`), 'copy');
    assert.deepEqual(copy.heredocs.map((h) => h.content), ['"1"\n', '$A\n']);
  });

  it('leaves the others alone', () => {
    for (const text of ['RUN echo $A', 'CMD $A', 'ENTRYPOINT ["$A"]', 'SHELL ["$A"]', 'HEALTHCHECK CMD $A', 'ONBUILD RUN $A', 'MAINTAINER $A']) {
      const i = inst(text);
      assert.deepEqual(expandInstruction(i, expand, expandWords), i, text);
    }
  });

  it('falls back to single-word expansion for EXPOSE', () => {
    assert.deepEqual(ofKind(expandInstruction(inst('EXPOSE $P'), expand), 'expose').ports, ['80 443']);
  });

  it('propagates expansion errors', () => {
    assert.throws(() => ex('WORKDIR ${NOPE?}'), /NOPE: is not allowed to be unset/);
  });
});

describe('parseRunMount', () => {
  it('parses mounts with defaults like buildkit', () => {
    assert.deepEqual(parseRunMount('type=cache,target=/root/.cache,id=$U,sharing=locked,mode=0755,uid=1', (w) => w.replace('$U', 'x')), {
      type: 'cache',
      target: '/root/.cache',
      id: 'x',
      sharing: 'locked',
      mode: 0o755,
      uid: 1,
      readOnly: false,
      required: false,
    });
    assert.deepEqual(parseRunMount('target=/src'), { type: 'bind', target: '/src', readOnly: true, required: false });
    assert.deepEqual(parseRunMount('type=bind,rw,"source=a,b",dst=/x'), { type: 'bind', source: 'a,b', target: '/x', readOnly: false, required: false });
    assert.deepEqual(parseRunMount('type=secret,id=tok,required,env=TOKEN'), { type: 'secret', id: 'tok', required: true, env: 'TOKEN', readOnly: true });
    assert.deepEqual(parseRunMount('type=tmpfs,target=/t,size=64m'), { type: 'tmpfs', target: '/t', sizeLimit: 64 * 1024 * 1024, readOnly: false, required: false });
  });

  it('rejects what buildkit rejects', () => {
    const cases: [string, string][] = [
      ['type=nfs', 'unsupported mount type "nfs"'],
      ['type=cahce', 'unsupported mount type "cahce" (did you mean cache?)'],
      ['type=cache,sharing=x', 'unsupported sharing value "x"'],
      ['type=bind,targte=/x', "unexpected key 'targte' in 'targte=/x' (did you mean target?)"],
      ['type=bind,mode=0755', 'mode not allowed for "bind" type mounts'],
      ['type=secret,from=x,id=a', 'secret mount should not have a from'],
      ['type=secret', 'invalid secret mount. one of source, target required'],
      ['type=bind,required', "unexpected key 'required' for mount type 'bind'"],
      ['type=bind,foo', "invalid field 'foo' must be a key=value pair"],
      ['type=bind,sharing=shared', 'invalid cache sharing set for bind mount'],
      ['type=cache,uid=x', 'invalid value x for uid'],
      ['ro=maybe', 'invalid value for ro: maybe'],
    ];
    for (const [value, message] of cases) assert.throws(() => parseRunMount(value), { message }, value);
  });
});
