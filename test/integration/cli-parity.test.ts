// `berth` and the real docker CLI against the same berthd: the same output and exit codes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, daemonWithBusybox, skipReason } from '../helpers/env.ts';

describe('berth CLI matches the docker CLI', { skip: skipReason() }, () => {
  const d = new TestDaemon();
  before(async () => {
    await daemonWithBusybox(d);
    await d.docker(['run', '--name', 'done1', '-l', 'a=b', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 2']);
    await d.docker(['run', '-d', '--name', 'live1', 'busybox', 'sleep', '1000']);
    await d.docker(['volume', 'create', '--label', 'k=v', 'vol1']);
    await d.docker(['tag', 'busybox', 'other:tag']);
  });
  after(() => d.cleanup());

  // Verbs whose output depends only on daemon state (no timing-sensitive columns in the format).
  const SAME: string[][] = [
    ['ps', '-a', '--format', '{{.Names}} {{.Image}} {{.Command}} {{.Labels}}'],
    ['ps', '-a', '-q', '--no-trunc'],
    ['ps', '--filter', 'status=exited', '--format', '{{.Names}}'],
    ['ps', '-a', '--filter', 'label=a=b', '--format', 'table {{.Names}}\t{{.Image}}'],
    ['images'],
    ['images', '-q'],
    ['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'],
    ['images', '--filter', 'reference=other*'],
    ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{json .Config.Cmd}} {{.Config.Labels}}', 'done1'],
    ['inspect', '-f', '{{range .Config.Env}}{{.}},{{end}}', 'live1'],
    ['inspect', '--type', 'image', '-f', '{{.Config.Cmd}} {{.RootFS.Type}} {{len .RootFS.Layers}}', 'busybox'],
    ['image', 'inspect', 'busybox'],
    ['history', '--no-trunc', '--format', '{{.ID}} {{.CreatedBy}} {{.Size}}', 'busybox'],
    ['logs', 'done1'],
    ['logs', '--tail', '1', 'done1'],
    ['volume', 'ls'],
    ['volume', 'inspect', 'vol1'],
    ['volume', 'ls', '--filter', 'label=k=v', '-q'],
    ['top', 'live1', '-o', 'pid,args'],
    ['diff', 'done1'],
    ['inspect', 'nosuch'],
    ['logs', 'nosuch'],
    ['rm', 'nosuch1', 'nosuch2'],
    ['stop', 'nosuch'],
    ['rmi', 'nosuch:1'],
    ['volume', 'inspect', 'nosuch'],
    ['info', '--format', '{{.Containers}} {{.Images}} {{.Driver}}'],
    ['version', '--format', '{{.Server.APIVersion}}'],
    ['system', 'df'],
  ];
  const norm = (s: string): string => s.replace(/\bberth(?![-\w])/g, 'docker');

  for (const args of SAME) {
    test(args.join(' '), async () => {
      const [dk, bt] = await Promise.all([d.docker(args), d.berth(args)]);
      if (args[0] === 'images') {
        // compat: the docker CLI orders rows of equal creation time unstably (one image, two tags)
        // (a table keeps its header line first; a --format without `table` has none)
        const rows = (t: string): string[] => {
          const lines = t.split('\n');
          const head = /^[A-Z][A-Z ]+(\s|$)/.test(lines[0] ?? '') ? lines.splice(0, 1) : [];
          return [...head, ...lines.sort()];
        };
        assert.deepEqual(rows(norm(bt.stdout)), rows(dk.stdout), `stdout differs; docker stderr: ${dk.stderr}`);
      } else assert.equal(norm(bt.stdout), dk.stdout, `stdout differs; docker stderr: ${dk.stderr}`);
      assert.equal(norm(bt.stderr), dk.stderr);
      assert.equal(bt.code, dk.code);
    });
  }

  test('run: output streams, exit codes and errors', async () => {
    for (const args of [
      ['run', '--rm', 'busybox', 'sh', '-c', 'echo o; echo e >&2; exit 4'],
      ['run', '--rm', 'busybox', 'nosuchcmd'],
      ['run', '--rm', '--pull', 'never', 'nosuch:1'],
      ['run', '--rm', '-e', 'X=1', '-w', '/tmp', '-u', 'nobody', 'busybox', 'sh', '-c', 'echo $X $(pwd) $(id -u)'],
      ['run', '--bogus-flag', 'busybox'],
    ]) {
      const [dk, bt] = await Promise.all([d.docker(args), d.berth(args)]);
      assert.equal(bt.code, dk.code, `${args.join(' ')}: berth ${bt.code} ${bt.stderr} / docker ${dk.code} ${dk.stderr}`);
      assert.equal(bt.stdout, dk.stdout, args.join(' '));
      assert.equal(norm(bt.stderr).replace(/^Error: /, ''), dk.stderr.replace(/^Error: /, ''), args.join(' '));
    }
  });

  test('a berth-driven lifecycle: run -d, stop, start, restart, pause, rename, kill, rm', async () => {
    const b = (args: string[], o?: { input?: string }) => d.berth(args, o);
    const id = (await b(['run', '-d', '--name', 'bl', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'])).stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    assert.equal((await b(['stop', 'bl'])).stdout, 'bl\n');
    assert.equal((await b(['inspect', '-f', '{{.State.ExitCode}}', 'bl'])).stdout, '0\n');
    assert.equal((await b(['start', 'bl'])).stdout, 'bl\n');
    assert.equal((await b(['pause', 'bl'])).stdout, 'bl\n');
    assert.equal((await b(['inspect', '-f', '{{.State.Status}}', 'bl'])).stdout, 'paused\n');
    assert.equal((await b(['unpause', 'bl'])).stdout, 'bl\n');
    assert.equal((await b(['rename', 'bl', 'bl2'])).code, 0);
    assert.equal((await b(['restart', '-t', '1', 'bl2'])).stdout, 'bl2\n');
    assert.equal((await b(['kill', 'bl2'])).stdout, 'bl2\n');
    const w = await b(['wait', 'bl2']);
    assert.equal(w.stdout, '137\n');
    assert.equal((await b(['rm', 'bl2'])).stdout, 'bl2\n');
    const c = await b(['create', '--name', 'bc', 'busybox', 'echo', 'from-start-a']);
    assert.equal(c.code, 0);
    const sa = await b(['start', '-a', 'bc']);
    assert.equal(sa.stdout, 'from-start-a\n');
    assert.equal((await b(['rm', 'bc'])).code, 0);
    const piped = await b(['run', '-i', '--rm', 'busybox', 'wc', '-c'], { input: 'abcd' });
    assert.equal(piped.stdout.trim(), '4', piped.stderr);
  });
});
