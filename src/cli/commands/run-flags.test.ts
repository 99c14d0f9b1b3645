import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { addContainerFlags, buildCreateRequest, parseMountFlag, parsePortSpec, parseRestartPolicy, parseUlimitFlag, type RunFlags } from '../run-flags.ts';
import { getTimestamp, memSwapBytes, nanoCpus, parseGoDuration, ramInBytes } from '../opts.ts';
import { normalizeArgs } from '../main.ts';

// Create bodies the real docker CLI 28.2 sent for the same flags (captured with scripts/cli-docker-capture.mjs).
const captured = JSON.parse(readFileSync(new URL('../testdata/docker-run-create.json', import.meta.url), 'utf8')) as Record<
  string,
  { query: string; body: Record<string, unknown> }
>;

function parseRun(argv: string[]): { flags: RunFlags; args: string[] } {
  const cmd = new Command('run').exitOverride().allowExcessArguments(true).argument('[args...]');
  cmd.option('-d, --detach');
  addContainerFlags(cmd).passThroughOptions();
  cmd.parse(argv, { from: 'user' });
  return { flags: cmd.opts<RunFlags>(), args: cmd.args };
}

const FULL = [
  '-d', '--name', 'web', '-e', 'A=1', '-e', 'B', '--env-file', '/dev/null', '-w', '/app', '-u', '1000:1000', '--entrypoint', '/bin/sh',
  '-h', 'host1', '--domainname', 'example.com', '-l', 'x=y', '--restart', 'on-failure:3', '--init', '--read-only', '--tmpfs', '/run:size=64m',
  '--tmpfs', '/tmp', '--cap-add', 'NET_ADMIN', '--cap-drop', 'ALL', '--privileged', '--security-opt', 'no-new-privileges', '--ulimit',
  'nofile=1024:2048', '--stop-signal', 'SIGINT', '--stop-timeout', '5', '-v', '/a:/b:ro', '-v', '/anon', '--mount', 'type=bind,src=/x,dst=/y,readonly',
  '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m', '--volumes-from', 'other', '-m', '64m', '--memory-swap', '128m', '--memory-reservation', '32m',
  '--cpus', '1.5', '--cpu-shares', '512', '--cpu-quota', '50000', '--cpu-period', '100000', '--cpuset-cpus', '0-1', '--cpuset-mems', '0',
  '--pids-limit', '100', '--blkio-weight', '300', '--shm-size', '64m', '--oom-kill-disable', '--network', 'bridge', '--dns', '8.8.8.8',
  '--dns-search', 'ex.com', '--dns-option', 'ndots:2', '--add-host', 'h:1.2.3.4', '-p', '8080:80', '-p', '127.0.0.1:53:53/udp', '-p', '9000',
  '-p', '7000-7001:8000-8001', '--expose', '7000', '--link', 'db:db', '--device', '/dev/null:/dev/xnull:rw', '--group-add', 'audio', '--sysctl',
  'net.core.somaxconn=1024', '--log-driver', 'json-file', '--log-opt', 'max-size=1m', 'busybox', '-c', 'echo hi',
];

describe('run flags → create request (as docker CLI 28 sends it)', () => {
  it('matches docker for a run using every flag', () => {
    const { flags, args } = parseRun(FULL);
    const [image = '', ...cmd] = args;
    const plan = buildCreateRequest(flags, image, cmd, { env: {} });
    const want = captured['full']!;
    assert.equal(plan.name, 'web');
    assert.equal(want.query, '/v1.45/containers/create?name=web');
    // compat: docker builds Env (with --env-file) and Binds through Go maps: their order is random.
    const norm = (b: Record<string, unknown>): Record<string, unknown> => {
      const c = JSON.parse(JSON.stringify(b)) as { Env: string[]; HostConfig: { Binds: string[] } };
      c.Env.sort();
      c.HostConfig.Binds.sort();
      return c as unknown as Record<string, unknown>;
    };
    assert.deepEqual(norm(plan.body as Record<string, unknown>), norm(want.body));
  });

  it('matches docker for `run -i --rm busybox cat` (attach stdin, StdinOnce, AutoRemove)', () => {
    const { flags, args } = parseRun(['-i', '--rm', 'busybox', 'cat']);
    const plan = buildCreateRequest(flags, args[0] ?? '', args.slice(1), { env: {} });
    const want = structuredClone(captured['interactive']!.body);
    // compat: docker also sends the zero-valued "default" endpoint; berth sends no endpoint.
    (want['NetworkingConfig'] as { EndpointsConfig: object }).EndpointsConfig = {};
    assert.deepEqual(JSON.parse(JSON.stringify(plan.body)), want);
  });

  it('stops parsing flags at the image: later flags belong to the command', () => {
    const { flags, args } = parseRun(['--rm', 'busybox', 'ls', '-l', '--rm']);
    assert.equal(flags.rm, true);
    assert.deepEqual(args, ['busybox', 'ls', '-l', '--rm']);
  });

  it('detached runs attach nothing; -a picks streams', () => {
    const d = parseRun(['-d', 'img']);
    const body = buildCreateRequest(d.flags, 'img', [], { env: {} }).body;
    assert.deepEqual([body.AttachStdin, body.AttachStdout, body.AttachStderr], [false, false, false]);
    const a = parseRun(['-a', 'STDERR', 'img']);
    const b2 = buildCreateRequest(a.flags, 'img', [], { env: {} }).body;
    assert.deepEqual([b2.AttachStdin, b2.AttachStdout, b2.AttachStderr], [false, false, true]);
  });

  it('-e NAME takes the value from the environment when set; --entrypoint "" resets', () => {
    const { flags } = parseRun(['-e', 'HOME', '-e', 'UNSET_X', '--entrypoint', '', 'img']);
    const body = buildCreateRequest(flags, 'img', [], { env: { HOME: '/root' } }).body;
    assert.deepEqual(body.Env, ['HOME=/root', 'UNSET_X']);
    assert.deepEqual(body.Entrypoint, ['']);
  });

  it('rejects --rm with a restart policy, like docker', () => {
    const { flags } = parseRun(['--rm', '--restart', 'always', 'img']);
    assert.throws(() => buildCreateRequest(flags, 'img', [], { env: {} }), { message: 'conflicting options: cannot specify both --restart and --rm' });
  });

  it('reports bad values with pflag wording', () => {
    assert.throws(() => parseRun(['-m', '12q', 'img']), { message: 'invalid argument "12q" for "-m, --memory" flag: invalid suffix: \'q\'' });
    assert.throws(() => parseRun(['--cpus', 'abc', 'img']), { message: 'invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number' });
    assert.throws(() => parseRun(['--stop-timeout', 'x', 'img']), { message: 'invalid argument "x" for "--stop-timeout" flag: strconv.ParseInt: parsing "x": invalid syntax' });
  });
});

describe('health flags (as docker CLI 28 sends them)', () => {
  const health = (argv: string[]): unknown => {
    const { flags, args } = parseRun([...argv, 'busybox']);
    const body = buildCreateRequest(flags, args[0] ?? '', [], { env: {} }).body as Record<string, unknown>;
    return { health: body.Healthcheck, after: Object.keys(body).slice(Object.keys(body).indexOf('Cmd'), Object.keys(body).indexOf('Cmd') + 3) };
  };

  it('builds Config.Healthcheck with zero fields left out, right after Cmd', () => {
    // captured from docker 28.2.2 with scripts/cli-docker-capture.mjs
    assert.deepEqual(health(['--health-cmd', 'test -e /tmp/ok', '--health-interval', '200ms', '--health-retries', '2', '--health-start-period', '1s', '--health-start-interval', '100ms', '--health-timeout', '1.5s']), {
      health: { Test: ['CMD-SHELL', 'test -e /tmp/ok'], Interval: 200000000, Timeout: 1500000000, StartPeriod: 1000000000, StartInterval: 100000000, Retries: 2 },
      after: ['Cmd', 'Healthcheck', 'Image'],
    });
    assert.deepEqual(health(['--no-healthcheck']), { health: { Test: ['NONE'] }, after: ['Cmd', 'Healthcheck', 'Image'] });
    assert.deepEqual((health(['--health-interval', '1m']) as { health: unknown }).health, { Interval: 60000000000 });
    assert.equal((health([]) as { health: unknown }).health, undefined);
  });

  it('rejects what docker rejects, in its words', () => {
    const fails = (argv: string[], message: string): void => {
      const { flags } = parseRun([...argv, 'img']);
      assert.throws(() => buildCreateRequest(flags, 'img', [], { env: {} }), { message });
    };
    fails(['--no-healthcheck', '--health-retries', '1'], '--no-healthcheck conflicts with --health-* options');
    fails(['--no-healthcheck', '--health-start-interval', '1s'], '--no-healthcheck conflicts with --health-* options');
    fails(['--health-retries', '-1'], '--health-retries cannot be negative');
    fails(['--health-interval', '-1s'], '--health-interval cannot be negative');
    fails(['--health-timeout', '-1s'], '--health-timeout cannot be negative');
    fails(['--health-start-period', '-1s'], '--health-start-period cannot be negative');
    fails(['--health-start-interval', '-1s'], '--health-start-interval cannot be negative');
    assert.throws(() => parseRun(['--health-interval', 'xyz', 'img']), { message: 'invalid argument "xyz" for "--health-interval" flag: time: invalid duration "xyz"' });
    assert.throws(() => parseRun(['--health-retries', 'x', 'img']), { message: 'invalid argument "x" for "--health-retries" flag: strconv.ParseInt: parsing "x": invalid syntax' });
  });
});

describe('flag value parsers', () => {
  it('ramInBytes is go-units RAMInBytes (binary units)', () => {
    assert.equal(ramInBytes('64m'), 64 * 1024 * 1024);
    assert.equal(ramInBytes('1g'), 1024 ** 3);
    assert.equal(ramInBytes('1.5k'), 1536);
    assert.equal(ramInBytes('10MiB'), 10 * 1024 * 1024);
    assert.equal(ramInBytes('100'), 100);
    assert.equal(ramInBytes('32 kb'), 32 * 1024);
    assert.throws(() => ramInBytes('12q'), { message: "invalid suffix: 'q'" });
    assert.throws(() => ramInBytes('m'), { message: "invalid size: 'm'" });
    assert.equal(memSwapBytes('-1'), -1);
  });

  it('nanoCpus', () => {
    assert.equal(nanoCpus('1.5'), 1_500_000_000);
    assert.equal(nanoCpus('0.001'), 1_000_000);
    assert.equal(nanoCpus('2'), 2_000_000_000);
    assert.throws(() => nanoCpus('0.0000000001'), /too precise/);
  });

  it('parsePortSpec: ip, host port, ranges, protocols', () => {
    assert.deepEqual(parsePortSpec('8080:80'), [{ port: '80/tcp', binding: { HostIp: '', HostPort: '8080' } }]);
    assert.deepEqual(parsePortSpec('127.0.0.1::53/udp'), [{ port: '53/udp', binding: { HostIp: '127.0.0.1', HostPort: '' } }]);
    assert.deepEqual(parsePortSpec('[::1]:80:80'), [{ port: '80/tcp', binding: { HostIp: '::1', HostPort: '80' } }]);
    assert.deepEqual(
      parsePortSpec('7000-7001:8000-8001').map((p) => [p.port, p.binding.HostPort]),
      [
        ['8000/tcp', '7000'],
        ['8001/tcp', '7001'],
      ],
    );
    assert.throws(() => parsePortSpec('abc'), { message: 'invalid containerPort: abc' });
  });

  it('parseUlimitFlag and parseRestartPolicy', () => {
    assert.deepEqual(parseUlimitFlag('nofile=1024'), { Name: 'nofile', Hard: 1024, Soft: 1024 });
    assert.throws(() => parseUlimitFlag('bogus=1'), /invalid ulimit type: bogus/);
    assert.deepEqual(parseRestartPolicy('on-failure:5'), { Name: 'on-failure', MaximumRetryCount: 5 });
    assert.throws(() => parseRestartPolicy('on-failure:x'), /maximum retry count must be an integer/);
  });

  it('parseMountFlag', () => {
    assert.deepEqual(parseMountFlag('type=volume,source=data,target=/data,volume-nocopy'), {
      Type: 'volume',
      Source: 'data',
      Target: '/data',
      VolumeOptions: { NoCopy: true },
    });
    assert.deepEqual(parseMountFlag('type=tmpfs,dst=/t,tmpfs-mode=1770'), { Type: 'tmpfs', Target: '/t', TmpfsOptions: { Mode: 0o1770 } });
    assert.throws(() => parseMountFlag('type=bind,src=/x'), /target is required/);
  });

  it('durations and timestamps (logs --since, events --until)', () => {
    assert.equal(parseGoDuration('1h30m'), 5400e9);
    assert.equal(parseGoDuration('250ms'), 250e6);
    const now = new Date('2024-01-01T00:10:00Z');
    assert.equal(getTimestamp('10m', now), String(Date.parse('2024-01-01T00:00:00Z') / 1000));
    assert.equal(getTimestamp('1700000000', now), '1700000000');
    assert.equal(getTimestamp('2024-01-02T03:04:05.5Z', now), '1704164645.500000000');
  });

  it('normalizeArgs turns pflag booleans into commander flags', () => {
    const program = new Command('berth').enablePositionalOptions();
    const run = program.command('run').passThroughOptions();
    run.option('--rm').option('--sig-proxy', '', true).option('--no-sig-proxy').option('--name <n>');
    assert.deepEqual(normalizeArgs(program, ['run', '--rm=true', '--sig-proxy=false', '--name=x', 'img', '--rm=false']).args, [
      'run',
      '--rm',
      '--no-sig-proxy',
      '--name=x',
      'img',
      '--rm=false',
    ]);
  });
});

describe('network flags → HostConfig.NetworkMode and EndpointsConfig (docker CLI 28)', () => {
  const build = (argv: string[]): ReturnType<typeof buildCreateRequest>['body'] => {
    const { flags, args } = parseRun(argv);
    return buildCreateRequest(flags, args[0] ?? '', args.slice(1), { env: {} }).body;
  };
  it('a lone network without options sends no endpoint', () => {
    const b = build(['--network', 'mynet', 'img']);
    assert.equal(b.HostConfig?.NetworkMode, 'mynet');
    assert.deepEqual(b.NetworkingConfig, { EndpointsConfig: {} });
  });
  it('--network-alias, --ip and --mac-address go to the first network; a second --network gets its own endpoint', () => {
    const b = build(['--network', 'front', '--network', 'name=back,alias=b1', '--network-alias', 'a1', '--ip', '10.1.0.5', '--mac-address', '02:42:0a:01:00:05', 'img']);
    assert.equal(b.HostConfig?.NetworkMode, 'front');
    const eps = b.NetworkingConfig!.EndpointsConfig!;
    assert.deepEqual(Object.keys(eps), ['front', 'back']);
    assert.deepEqual([eps.front!.Aliases, eps.front!.IPAMConfig, eps.front!.MacAddress], [['a1'], { IPv4Address: '10.1.0.5', IPv6Address: '' }, '02:42:0a:01:00:05']);
    assert.deepEqual([eps.back!.Aliases, eps.back!.IPAMConfig], [['b1'], null]);
  });
  it('refuses what the docker CLI refuses', () => {
    assert.throws(() => build(['--network-alias', 'x', 'img']), /network-scoped aliases are only supported for user-defined networks/);
    assert.throws(() => build(['--network', 'a', '--network', 'host', 'img']), /cannot attach both user-defined and non-user-defined network-modes/);
    assert.throws(() => build(['--network', 'a', '--network', 'a', 'img']), /network "a" is specified multiple times/);
    assert.throws(() => build(['--network', 'a', '--mac-address', 'nope', 'img']), /nope is not a valid mac address/);
  });
});
