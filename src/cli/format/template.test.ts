import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goMap } from './go-value.ts';
import { parseTemplate, render, TemplateError } from './template.ts';

// An inspect-like container, shaped as the Engine API returns it.
const ctr = {
  Id: 'f2a9c3d4e5f60718293a4b5c6d7e8f90',
  Name: '/web',
  Args: ['-c', 'echo hi'],
  State: { Status: 'running', Running: true, Pid: 4242, ExitCode: 0, Health: null },
  Config: {
    Image: 'alpine:3.20',
    Labels: goMap({ 'com.example.b': '2', 'com.example.a': '<1&>' }),
    Env: ['PATH=/usr/bin', 'A=1'],
    Cmd: ['sh', '-c', 'echo hi'],
  },
  Mounts: [
    { Type: 'volume', Source: '/var/lib/berth/volumes/data', Destination: '/data' },
    { Type: 'bind', Source: '/tmp', Destination: '/host-tmp' },
  ],
  NetworkSettings: { Networks: goMap({ bridge: { IPAddress: '172.17.0.2' }, app: { IPAddress: '10.0.0.5' } }) },
  SizeRw: 12345678901234,
};

const r = (src: string, data: unknown = ctr, opts?: Parameters<typeof render>[2]): string => render(src, data, opts);
const fails = (src: string, message: string, data: unknown = ctr): void => {
  assert.throws(
    () => render(src, data),
    (err: unknown) => err instanceof TemplateError && err.kind === 'invalid-argument' && err.message === message,
  );
};

describe('template: fields and printing', () => {
  it('reads fields, nested fields and dot', () => {
    assert.equal(r('{{.Name}}'), '/web');
    assert.equal(r('{{.State.Pid}}'), '4242');
    assert.equal(r('{{.Config.Image}}'), 'alpine:3.20');
    assert.equal(r('{{.}}', 'plain'), 'plain');
    assert.equal(r('id={{.Id}} literal text'), 'id=f2a9c3d4e5f60718293a4b5c6d7e8f90 literal text');
  });

  it('prints missing fields as <no value> and nil as <nil>', () => {
    assert.equal(r('{{.Nope}}'), '<no value>');
    assert.equal(r('{{.Config.Labels.missing}}'), '<no value>');
    assert.equal(r('{{.Nope.Deeper}}'), '<no value>');
    assert.equal(r('{{.State.Health}}'), '<nil>');
  });

  it('prints values the way Go fmt %v does', () => {
    assert.equal(r('{{.Config.Cmd}}'), '[sh -c echo hi]');
    assert.equal(r('{{.Config.Labels}}'), 'map[com.example.a:<1&> com.example.b:2]');
    assert.equal(r('{{.State}}'), '{running true 4242 0 <nil>}');
    assert.equal(r('{{.SizeRw}}'), '12345678901234');
    assert.equal(r('{{.}}', 1e21), '1000000000000000000000');
    assert.equal(r('{{.}}', 1.5), '1.5');
    assert.equal(r('{{.}}', 1234567.5), '1.2345675e+06');
    assert.equal(r('{{.}}', true), 'true');
    assert.equal(r('{{.}}', new Map<string, unknown>([['b', 1], ['a', [1, 2]]])), 'map[a:[1 2] b:1]');
    assert.equal(r('{{.}}', new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), '2024-01-02 03:04:05 +0000 UTC');
  });

  it("treats plain objects as maps with objects: 'map' (docker inspect's raw fallback)", () => {
    assert.equal(r('{{.State}}', ctr, { objects: 'map' }), 'map[ExitCode:0 Health:<nil> Pid:4242 Running:true Status:running]');
  });

  it('calls function-valued fields as methods, with arguments', () => {
    const row = { ID: 'abc', Label: (name: string) => (name === 'a' ? 'x' : '') };
    assert.equal(r('{{.Label "a"}}-{{.Label "b"}}', row), 'x-');
    class Ctx {
      readonly id = 'abcdef';
      get Short(): string {
        return this.id.slice(0, 3);
      }
      Upper(s: string): string {
        return s.toUpperCase() + this.id;
      }
    }
    assert.equal(r('{{.Short}} {{.Upper "q"}} {{"p" | .Upper}}', new Ctx()), 'abc Qabcdef Pabcdef');
    assert.equal(r('{{.constructor}}', new Ctx()), '<no value>');
  });
});

describe('template: docker functions', () => {
  it('json encodes like docker (sorted map keys, no HTML escaping, no indent)', () => {
    assert.equal(r('{{json .Config.Labels}}'), '{"com.example.a":"<1&>","com.example.b":"2"}');
    assert.equal(
      r('{{json .Config}}'),
      '{"Image":"alpine:3.20","Labels":{"com.example.a":"<1&>","com.example.b":"2"},"Env":["PATH=/usr/bin","A=1"],"Cmd":["sh","-c","echo hi"]}',
    );
    assert.equal(r('{{json .State.Health}}'), 'null');
    assert.equal(r('{{json .Nope}}'), 'null');
    assert.equal(r('{{json .}}', 'a"b\n\u2028'), '"a\\"b\\n\\u2028"');
    assert.equal(r('{{json .}}', NaN), '');
  });

  it('join, split, title, lower, upper, pad, truncate', () => {
    assert.equal(r('{{join .Args ","}}'), '-c,echo hi');
    assert.equal(r('{{join .Config.Cmd " "}}'), 'sh -c echo hi');
    assert.equal(r('{{split "a:b:c" ":"}}'), '[a b c]');
    assert.equal(r('{{index (split .Config.Image ":") 1}}'), '3.20');
    assert.equal(r('{{title "hello wide-world"}}'), 'Hello Wide-World');
    assert.equal(r('{{upper .Name}} {{lower "ABC"}}'), '/WEB abc');
    assert.equal(r('[{{pad .Name 2 1}}][{{pad "" 2 1}}]'), '[  /web ][]');
    assert.equal(r('{{truncate .Id 12}} {{truncate "ab" 5}}'), 'f2a9c3d4e5f6 ab');
  });

  it('reports wrong argument types as Go does', () => {
    fails('{{upper .State.Pid}}', 'template: :1:2: executing "" at <upper .State.Pid>: wrong type for value; expected string; got int');
    fails('{{upper .Nope}}', 'template: :1:2: executing "" at <upper .Nope>: invalid value; expected string');
  });
});

describe('template: built-in functions', () => {
  it('index into maps and arrays, nested', () => {
    assert.equal(r('{{index .Config.Labels "com.example.a"}}'), '<1&>');
    assert.equal(r('[{{index .Config.Labels "missing"}}]'), '[]');
    assert.equal(r('{{index .Config.Cmd 2}}'), 'echo hi');
    assert.equal(r('{{(index .Mounts 1).Source}}'), '/tmp');
    assert.equal(r('{{index .NetworkSettings.Networks "bridge" "IPAddress"}}'), '172.17.0.2');
    assert.equal(r('[{{index .Labels "x"}}]', { Labels: null }), '[]');
    fails('{{index .Config.Cmd 5}}', 'template: :1:2: executing "" at <index .Config.Cmd 5>: error calling index: index out of range: 5');
  });

  it('len counts elements, keys and bytes', () => {
    assert.equal(r('{{len .Mounts}} {{len .Config.Labels}} {{len "héllo"}}'), '2 2 6');
    fails('{{len .State.Pid}}', 'template: :1:2: executing "" at <len .State.Pid>: error calling len: len of type int');
  });

  it('slice', () => {
    assert.equal(r('{{slice .Config.Cmd 1}} {{slice .Id 0 4}}'), '[-c echo hi] f2a9');
  });

  it('comparisons', () => {
    assert.equal(r('{{if eq .State.Status "running"}}yes{{end}}'), 'yes');
    assert.equal(r('{{eq .State.Status "exited" "running"}}'), 'true');
    assert.equal(r('{{ne .State.Pid 0}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}'), 'true true true true false');
    assert.equal(r('{{eq .Nope "x"}} {{eq .State.Health nil}}'), 'false true');
    fails('{{eq .State.Pid "1"}}', 'template: :1:2: executing "" at <eq .State.Pid "1">: error calling eq: incompatible types for comparison');
    fails('{{lt .Nope 1}}', 'template: :1:2: executing "" at <lt .Nope 1>: error calling lt: invalid type for comparison');
  });

  it('and, or, not return operands and short-circuit', () => {
    assert.equal(r('{{and 1 0 2}} {{and 1 2}} {{or 0 "" "x"}} {{or 0 ""}}'), '0 2 x ');
    assert.equal(r('{{not .State.Running}} {{not .Nope}}'), 'false true');
    // The second operand would fail if evaluated.
    assert.equal(r('{{or .State.Running (index .Config.Cmd 9)}}'), 'true');
    assert.equal(r('{{and .Nope (index .Config.Cmd 9)}}'), '<no value>');
  });

  it('printf, print, println', () => {
    assert.equal(r('{{printf "%s:%d" .Name .State.Pid}}'), '/web:4242');
    assert.equal(r('{{printf "%5s|%-5s|%05d|%x|%X|%q|%v|%t|%.2f|%%" "ab" "cd" 42 255 "hi" "a\\"b" .Config.Cmd true 3.14159}}'), '   ab|cd   |00042|ff|6869|"a\\"b"|[sh -c echo hi]|true|3.14|%');
    assert.equal(r('{{printf "%d %s"}}'), '%!d(MISSING) %!s(MISSING)');
    assert.equal(r('{{printf "%d" "x"}}'), '%!d(string=x)');
    assert.equal(r('{{printf "%s" 1 2}}'), '%!s(int=1)%!(EXTRA int=2)');
    assert.equal(r('{{printf "%+v" .State}}'), '{Status:running Running:true Pid:4242 ExitCode:0 Health:<nil>}');
    assert.equal(r('{{print 1 2 "a" "b" 3}}'), '1 2ab3');
    assert.equal(r('{{println "a" 1}}'), 'a 1\n');
    assert.equal(r('{{.Name | printf "%q"}}'), '"/web"');
  });

  it('html, js, urlquery', () => {
    assert.equal(r(`{{html "<a href='x'>&"}}`), '&lt;a href=&#39;x&#39;&gt;&amp;');
    assert.equal(r(`{{js "it's <b>"}}`), "it\\'s \\u003Cb\\u003E");
    assert.equal(r('{{urlquery "a b&c"}}'), 'a+b%26c');
  });

  it('checks argument counts', () => {
    fails('{{join .Args}}', 'template: :1:2: executing "" at <join .Args>: wrong number of args for join: want 2 got 1');
    fails('{{index}}', 'template: :1:2: executing "" at <index>: wrong number of args for index: want at least 1 got 0');
  });
});

describe('template: control structures', () => {
  it('if / else if / else', () => {
    const t = parseTemplate('{{if eq .S "a"}}A{{else if eq .S "b"}}B{{else}}other{{end}}');
    assert.equal(render(t, { S: 'a' }), 'A');
    assert.equal(render(t, { S: 'b' }), 'B');
    assert.equal(render(t, { S: 'c' }), 'other');
    assert.equal(r('{{if .Config.Labels}}has{{end}}{{if .Empty}}no{{end}}', { ...ctr, Empty: {} }), 'has');
    assert.equal(r('{{if .Mounts}}m{{end}}{{if .NoList}}x{{end}}{{if 0}}z{{end}}{{if ""}}e{{end}}', { ...ctr, NoList: [] }), 'm');
  });

  it('range over arrays, maps (sorted keys) and ints, with else, break and continue', () => {
    assert.equal(r('{{range .Mounts}}{{.Source}} {{end}}'), '/var/lib/berth/volumes/data /tmp ');
    assert.equal(r('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}'), 'com.example.a=<1&>;com.example.b=2;');
    assert.equal(r('{{range $n, $c := .NetworkSettings.Networks}}{{$n}}:{{$c.IPAddress}} {{end}}'), 'app:10.0.0.5 bridge:172.17.0.2 ');
    assert.equal(r('{{range $i, $m := .Mounts}}{{if $i}},{{end}}{{$m.Destination}}{{end}}'), '/data,/host-tmp');
    assert.equal(r('{{range $e := .Config.Env}}[{{$e}}]{{end}}'), '[PATH=/usr/bin][A=1]');
    assert.equal(r('{{range .None}}x{{else}}empty{{end}}'), 'empty');
    assert.equal(r('{{range 3}}{{.}}{{end}}'), '012');
    assert.equal(r('{{range .Config.Cmd}}{{if eq . "-c"}}{{continue}}{{end}}{{if eq . "echo hi"}}{{break}}{{end}}{{.}}{{end}}'), 'sh');
    assert.equal(r('{{range .Mounts}}{{$.Name}}{{end}}'), '/web/web');
  });

  it('with sets dot; else runs on empty values', () => {
    assert.equal(r('{{with .State}}{{.Status}}/{{.Pid}}{{end}}'), 'running/4242');
    assert.equal(r('{{with .Nope}}x{{else}}none{{end}}'), 'none');
    assert.equal(r('{{with .Nope}}x{{else with .Name}}{{.}}{{end}}'), '/web');
  });

  it('variables: declare, assign, scope', () => {
    assert.equal(r('{{$n := .Name}}{{$n}}'), '/web');
    assert.equal(r('{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}'), '2');
    assert.equal(r('{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}'), '21');
    assert.equal(r('{{with $s := .State}}{{$s.Pid}}{{end}}'), '4242');
    assert.equal(r('{{$.Name}}'), '/web');
  });

  it('trims spaces with {{- and -}}, drops comments', () => {
    assert.equal(r('a  \n {{- .Name -}} \n  b'), 'a/webb');
    assert.equal(r('{{/* a comment */}}x {{- /* trimmed */ -}} y'), 'xy');
    assert.equal(r('{{- 3}} {{-3}}'), '3 -3');
    assert.equal(r('{{range .Args -}}\n  [{{.}}]\n{{- end}}'), '[-c][echo hi]');
  });

  it('pipelines, parentheses and literals', () => {
    assert.equal(r('{{.Name | len | printf "%03d"}}'), '004');
    assert.equal(r('{{(printf "%s-%s" "a" "b") | upper}}'), 'A-B');
    assert.equal(r("{{`raw\\n`}} {{\"tab\\tq\\u00e9\"}} {{'a'}} {{0x1F}} {{1e3}} {{-1.5}} {{true}} {{print nil}}"), 'raw\\n tab\tqé 97 31 1000 -1.5 true <nil>');
  });
});

describe('template: errors carry Go messages', () => {
  const parseFails = (src: string, message: string): void => {
    assert.throws(() => parseTemplate(src), (err: unknown) => err instanceof TemplateError && err.message === message);
  };

  it('parse errors', () => {
    parseFails('{{.Name}', 'template: :1: unexpected "}" in operand');
    parseFails('{{json .}', 'template: :1: unexpected "}" in operand');
    parseFails('{{.Name', 'template: :1: unclosed action');
    parseFails('{{if .X}}a', 'template: :1: unexpected EOF');
    parseFails('{{end}}', 'template: :1: unexpected {{end}}');
    parseFails('{{else}}', 'template: :1: unexpected {{else}}');
    parseFails('{{if}}{{end}}', 'template: :1: missing value for if');
    parseFails('{{nosuch .X}}', 'template: :1: function "nosuch" not defined');
    parseFails('{{$x}}', 'template: :1: undefined variable "$x"');
    parseFails('{{"abc}}', 'template: :1: unterminated quoted string');
    parseFails('{{break}}', 'template: :1: {{break}} outside {{range}}');
    parseFails('{{.X | "a"}}', 'template: :1: non executable command in pipeline stage 2');
    parseFails('line1\n{{.A}}\n{{.B)}}', 'template: :3: unexpected ")" in command');
    parseFails('{{/* x */ .A}}', 'template: :1: comment ends before closing delimiter');
    parseFails('{{.A.}}', 'template: :1: unexpected "." in operand');
    parseFails('{{"x".A}}', 'template: :1: unexpected . after term "\\"x\\""');
  });

  it('execution errors', () => {
    fails('{{nil | print}}', 'template: :1:2: executing "" at <nil>: nil is not a command');
    fails('{{.State.Health.Status}}', 'template: :1:2: executing "" at <.State.Health.Status>: nil pointer evaluating interface {}.Status');
    fails('{{.Name.Length}}', 'template: :1:2: executing "" at <.Name.Length>: can\'t evaluate field Length in type string');
    fails('x\n {{range .Name}}{{end}}', 'template: :2:9: executing "" at <.Name>: range can\'t iterate over /web');
    fails('{{.Name 1}}', 'template: :1:2: executing "" at <.Name>: Name has arguments but cannot be invoked as function');
    fails('{{. 1}}', 'template: :1:2: executing "" at <.>: can\'t give argument to non-function .');
  });

  it('accepts extra functions at parse time', () => {
    const t = parseTemplate('{{shout .}}', { funcs: { shout: (s: string) => `${s}!` } });
    assert.equal(render(t, 'hey'), 'hey!');
    const broken = parseTemplate('{{boom}}', { funcs: { boom: () => { throw new Error('bad'); } } });
    assert.throws(() => render(broken, null), /executing "" at <boom>: error calling boom: bad$/);
  });
});
