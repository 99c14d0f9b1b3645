// Interactive I/O against a real berthd, for `berth` and for the docker CLI alike: each client runs
// in a shell inside its own tmux server (a real terminal), driven by send-keys and read back with
// capture-pane. Raw mode, resizes, detach keys, exit codes, exec, attach, full-screen programs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';

const skip = skipReason() ?? (spawnSync('sh', ['-c', 'command -v tmux && command -v docker']).status !== 0 ? 'needs tmux and the docker CLI' : undefined);

const CLIENTS = ['berth', 'docker'] as const;

/** A shell in a detached tmux session on a private tmux server (`tmux -L`), 100x30. */
class Tmux {
  readonly server = `berth-ia-${randomSuffix()}`;
  #env: NodeJS.ProcessEnv;
  #socket = '';

  constructor(env: NodeJS.ProcessEnv) {
    this.#env = env;
  }

  tmux(...args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.server, ...args], { env: this.#env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  async start(): Promise<void> {
    this.tmux('new-session', '-d', '-x', '100', '-y', '30', '-s', 'main', "env PS1='$ ' bash --norc --noprofile");
    this.tmux('set-option', '-g', 'history-limit', '5000');
    this.#socket = this.tmux('display-message', '-p', '#{socket_path}').trim();
    await this.waitFor(/^\$ $/m, 'the shell prompt');
  }

  /** Keys as tmux names them: `C-p`, `Enter`, `q`. */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...keys);
  }

  /** Types `text` literally, then Enter. */
  line(text: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', text);
    this.tmux('send-keys', '-t', 'main', 'Enter');
  }

  /** The screen plus scrollback, wrapped lines joined. */
  capture(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'main');
  }

  /** The visible screen only. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', 'main');
  }

  async waitFor(re: RegExp, what: string, ms = 10_000): Promise<RegExpMatchArray> {
    const t0 = Date.now();
    for (;;) {
      const m = this.capture().match(re);
      if (m) return m;
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what} (${re}); screen:\n${this.capture()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Types `cmd` followed by an echo of its exit status, so nothing is typed while the client still
   * owns the terminal (it would read the keys as input for the container).
   */
  run(cmd: string, tag: string): void {
    this.line(`${cmd}; rc=$?; echo; echo "${tag}=$rc"`);
  }

  /** Waits for the status line of `run(…, tag)`. */
  async status(tag: string): Promise<number> {
    const m = await this.waitFor(new RegExp(`^${tag}=(\\d+)$`, 'm'), `the exit status (${tag})`);
    return Number(m[1]);
  }

  /** Whether the outer terminal is back in cooked mode (icanon and echo on). */
  async sane(tag: string): Promise<boolean> {
    this.line(`stty -a | grep -qw -e -icanon -e -echo && echo "${tag}-RAW" || echo "${tag}-SANE"`);
    const m = await this.waitFor(new RegExp(`^${tag}-(RAW|SANE)$`, 'm'), 'the stty check');
    return m[1] === 'SANE';
  }

  resize(cols: number, rows: number): void {
    this.tmux('resize-window', '-t', 'main', '-x', String(cols), '-y', String(rows));
  }

  /** Ends the server and removes its socket file (kill-server leaves it behind). */
  kill(): void {
    spawnSync('tmux', ['-L', this.server, 'kill-server']);
    if (this.#socket) rmSync(this.#socket, { force: true });
  }
}

describe('interactive I/O through a terminal', { skip }, () => {
  const d = new TestDaemon();
  let env: NodeJS.ProcessEnv;
  before(async () => {
    await daemonWithBusybox(d);
    // `berth` on PATH for the shell, so both clients are typed the same way.
    const bin = join(d.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'berth'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, 'dist', 'berth.mjs'))} "$@"\n`);
    chmodSync(join(bin, 'berth'), 0o755);
    env = { ...d.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, PS1: '$ ', HISTFILE: '/dev/null' };
    delete env['TMUX'];
  });
  after(() => d.cleanup());

  const running = async (name: string): Promise<string> => (await d.docker(['inspect', '-f', '{{.State.Status}}', name])).stdout.trim();

  for (const cli of CLIENTS) {
    describe(`${cli}`, () => {
      let t: Tmux;
      before(async () => {
        t = new Tmux(env);
        await t.start();
      });
      after(() => t.kill());

      test('run -it: type and read, tty, resize, detach, attach again, exit code', async () => {
        const name = `it-${cli}-${randomSuffix()}`;
        t.run(`${cli} run -it --name ${name} busybox sh`, 'detached');
        await t.waitFor(/^\/ # $/m, 'the container prompt');
        t.line('echo "sum=$((6*7))"; tty; stty size');
        await t.waitFor(/^sum=42\n\/dev\/pts\/0\n30 100$/m, 'sum, tty and size');
        t.resize(90, 25);
        t.line('echo "size=$(stty size)"');
        await t.waitFor(/^size=25 90$/m, 'the new size');
        t.resize(100, 30);
        t.keys('C-p', 'C-q');
        assert.equal(await t.status('detached'), 0);
        assert.ok(await t.sane('after-detach'));
        assert.equal(await running(name), 'running');

        // custom detach keys: the client catches them; attach reports it as docker does
        t.run(`${cli} attach --detach-keys ctrl-x,x ${name}`, 'attach-detached');
        await new Promise((r) => setTimeout(r, 500));
        t.line('echo "again=$((1+1))"');
        await t.waitFor(/^again=2$/m, 'output after attach');
        t.keys('C-x', 'x');
        await t.waitFor(/read escape sequence\n/, 'the detach message');
        assert.equal(await t.status('attach-detached'), 1);
        assert.equal(await running(name), 'running');

        t.run(`${cli} attach ${name}`, 'exited');
        await new Promise((r) => setTimeout(r, 500));
        t.line('echo "third=$((3*3))"');
        await t.waitFor(/^third=9$/m, 'output after the second attach');
        t.line('exit 3');
        assert.equal(await t.status('exited'), 3);
        assert.ok(await t.sane('after-exit'));
        assert.equal(await running(name), 'exited');
      });

      test('full-screen programs draw and quit; the terminal is sane afterwards', async () => {
        t.line('clear');
        t.run(`${cli} run -it --rm busybox top`, 'top');
        await t.waitFor(/^\s*PID\s+PPID\s+USER/m, 'the top header');
        assert.match(t.screen(), /^Mem: .*\nCPU: /m);
        t.keys('q');
        assert.equal(await t.status('top'), 0);
        assert.ok(await t.sane('after-top'));

        t.line('clear');
        t.run(`${cli} run -it --rm busybox vi /tmp/note`, 'vi');
        await t.waitFor(/^~\s*$/m, 'the vi screen');
        t.keys('i', 'hello from vi', 'Escape');
        await t.waitFor(/^hello from vi\s*$/m, 'typed text');
        assert.match(t.screen(), /\/tmp\/note/);
        t.keys(':q!', 'Enter');
        assert.equal(await t.status('vi'), 0);
        assert.ok(await t.sane('after-vi'));
      });

      test('create -it, then start -ai', async () => {
        const name = `ca-${cli}-${randomSuffix()}`;
        t.run(`${cli} create -it --name ${name} busybox sh >/dev/null && ${cli} start -ai ${name}`, 'start-ai');
        await t.waitFor(/^\/ # $/m, 'the container prompt');
        t.line('echo "started=$((5+5))"; tty');
        await t.waitFor(/^started=10\n\/dev\/pts\/0$/m, 'output');
        t.line('exit 5');
        assert.equal(await t.status('start-ai'), 5);
        assert.ok(await t.sane('after-start'));
      });

      test('exec -it sh: type, read, exit code', async () => {
        const name = `ex-${cli}-${randomSuffix()}`;
        assert.equal((await d.docker(['run', '-d', '--name', name, 'busybox', 'sleep', '1000'])).code, 0);
        t.run(`${cli} exec -it ${name} sh`, 'exec');
        await t.waitFor(/^\/ # $/m, 'the exec prompt');
        t.line('echo "in-exec=$((2+3))"; tty; stty size');
        await t.waitFor(/^in-exec=5\n\/dev\/pts\/\d+\n30 100$/m, 'exec output');
        t.resize(80, 20);
        t.line('echo "exec-size=$(stty size)"');
        await t.waitFor(/^exec-size=20 80$/m, 'the exec tty resized');
        t.resize(100, 30);
        t.line('exit 6');
        assert.equal(await t.status('exec'), 6);
        assert.ok(await t.sane('after-exec'));
        assert.equal(await running(name), 'running');

        // detaching from an exec: docker prints `read escape sequence` and exits 1
        t.run(`${cli} exec -it ${name} sh`, 'exec-detached');
        await t.waitFor(/^\/ # $/m, 'the exec prompt');
        t.keys('C-p', 'C-q');
        await t.waitFor(/^\/ # read escape sequence$/m, 'the detach message');
        assert.equal(await t.status('exec-detached'), 1);
        assert.ok(await t.sane('after-exec-detach'));
      });

      test('Ctrl-C reaches the process in the container', async () => {
        t.run(`${cli} run -it --rm busybox sh -c 'trap "echo got-int; exit 130" INT; echo ready; sleep 100'`, 'ctrl-c');
        await t.waitFor(/^ready$/m, 'the trap to be set');
        t.keys('C-c');
        await t.waitFor(/got-int/, 'the trap output');
        assert.equal(await t.status('ctrl-c'), 130);
        assert.ok(await t.sane('after-ctrl-c'));
      });

      test('a missing command exits 127 and leaves the terminal sane', async () => {
        t.run(`${cli} run -it --rm busybox nosuchcmd`, 'missing');
        assert.equal(await t.status('missing'), 127);
        assert.ok(await t.sane('after-missing'));
      });

      test('exec without a terminal: exit codes and errors', async () => {
        const name = `xc-${cli}-${randomSuffix()}`;
        assert.equal((await d.docker(['run', '-d', '--name', name, 'busybox', 'sleep', '1000'])).code, 0);
        const run = (args: string[], input?: string) => (cli === 'berth' ? d.berth(args, { input }) : d.docker(args, { input }));
        assert.equal((await run(['exec', name, 'false'])).code, 1);
        assert.equal((await run(['exec', name, 'sh', '-c', 'exit 3'])).code, 3);
        const out = await run(['exec', name, 'sh', '-c', 'echo out; echo err >&2']);
        assert.deepEqual([out.code, out.stdout, out.stderr], [0, 'out\n', 'err\n']);
        const missing = await run(['exec', name, 'nosuchcmd']);
        assert.equal(missing.code, 127);
        assert.match(missing.stdout + missing.stderr, /executable file not found/);
        const piped = await run(['exec', '-i', name, 'tr', 'a-z', 'A-Z'], 'piped\n');
        assert.deepEqual([piped.code, piped.stdout], [0, 'PIPED\n']);
        const notTty = await run(['exec', '-it', name, 'sh']);
        assert.deepEqual([notTty.code, notTty.stderr], [1, 'the input device is not a TTY\n']);
        const noSuch = await run(['exec', `nope-${randomSuffix()}`, 'true']);
        assert.equal(noSuch.code, 1);
        assert.match(noSuch.stderr, /^Error response from daemon: No such container: nope-/);
        await d.docker(['kill', name]);
        const stopped = await run(['exec', name, 'true']);
        assert.equal(stopped.code, 1);
        assert.match(stopped.stderr, /^Error response from daemon: Container [0-9a-f]{64} is not running\n$/);
      });

      test('echo hi | run -i --rm busybox cat', async () => {
        const r = cli === 'berth' ? await d.berth(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hi\n' }) : await d.docker(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hi\n' });
        assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'hi\n', '']);
      });
    });
  }

  test('attach: two clients see the same output, signals are proxied, both exit with its code', async () => {
    const name = `tick-${randomSuffix()}`;
    const r = await d.docker(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'trap "echo got-term; exit 9" TERM; i=0; while :; do echo tick-$i; i=$((i+1)); sleep 0.1; done']);
    assert.equal(r.code, 0, r.stderr);
    const attach = (cmd: string, args: string[]) => {
      const p = spawn(cmd, args, { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
      const res = { out: '', err: '', code: new Promise<number | null>((resolve) => p.on('close', resolve)), proc: p };
      p.stdout.on('data', (c: Buffer) => (res.out += c.toString()));
      p.stderr.on('data', (c: Buffer) => (res.err += c.toString()));
      return res;
    };
    const viaBerth = attach(process.execPath, [join(ROOT, 'dist', 'berth.mjs'), 'attach', name]);
    const viaDocker = attach('docker', ['attach', name]);
    const t0 = Date.now();
    while (!(/tick-\d+\n/.test(viaBerth.out) && /tick-\d+\n/.test(viaDocker.out))) {
      assert.ok(Date.now() - t0 < 10_000, `both see output: berth=${viaBerth.out} ${viaBerth.err} docker=${viaDocker.out} ${viaDocker.err}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    viaBerth.proc.kill('SIGTERM'); // --sig-proxy (the default) sends it on to the container
    assert.equal(await viaBerth.code, 9);
    assert.equal(await viaDocker.code, 9);
    assert.match(viaBerth.out, /got-term\n$/);
    assert.match(viaDocker.out, /got-term\n$/);
    const stopped = await d.berth(['attach', name]);
    assert.deepEqual([stopped.code, stopped.stderr], [1, 'You cannot attach to a stopped container, start it first\n']);
  });
});
