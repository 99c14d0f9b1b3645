// Limits, security options and run flags, observed from inside the container.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';

const skip = skipReason();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('resources and security options', { skip }, () => {
  const d = new TestDaemon();
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());
  const run = async (args: string[]): Promise<string> => {
    const r = await d.docker(['run', '--rm', ...args]);
    assert.equal(r.code, 0, `docker run ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };

  test('-m 64m shows 67108864 inside', async () => {
    assert.equal(await run(['-m', '64m', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']), '67108864');
  });

  test('--cpuset-cpus 0 shows in /proc/self/status', async () => {
    assert.match(await run(['--cpuset-cpus', '0', 'busybox', 'grep', 'Cpus_allowed_list', '/proc/self/status']), /Cpus_allowed_list:\s+0$/);
  });

  test('--shm-size 32m sizes /dev/shm', async () => {
    const out = await run(['--shm-size', '32m', 'busybox', 'df', '-k', '/dev/shm']);
    assert.match(out.split('\n')[1] ?? '', /^shm\s+32768\s/);
  });

  test('--cpus, --cpu-shares, --pids-limit and --memory-swap reach the cgroup', async () => {
    assert.equal(await run(['--cpus', '0.5', 'busybox', 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us']), '50000');
    assert.equal(await run(['--cpu-shares', '512', 'busybox', 'cat', '/sys/fs/cgroup/cpu/cpu.shares']), '512');
    assert.equal(await run(['--pids-limit', '20', 'busybox', 'cat', '/sys/fs/cgroup/pids/pids.max']), '20');
  });

  test('pause stops a busy loop from using CPU', async () => {
    const name = `spin-${randomSuffix()}`;
    await d.docker(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'while true; do :; done']);
    const id = (await d.docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
    const usage = (): number => Number(readFileSync(`/sys/fs/cgroup/cpuacct${d.cgroupParent}/${id}/cpuacct.usage`, 'utf8'));
    const u0 = usage();
    await sleep(300);
    assert.ok(usage() - u0 > 50e6, 'the loop burns CPU while running');
    assert.equal((await d.docker(['pause', name])).code, 0);
    await sleep(100);
    const p0 = usage();
    await sleep(500);
    assert.ok(usage() - p0 < 5e6, `paused: ${usage() - p0} ns of CPU in 500 ms`);
    await d.docker(['rm', '-f', name]);
  });

  test('an OOM kill is reported', async () => {
    const name = `oom-${randomSuffix()}`;
    const r = await d.docker(['run', '--name', name, '-m', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'x=a; while true; do x=$x$x; done']);
    assert.equal(r.code, 137);
    const st = (await d.docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', name])).stdout.trim();
    assert.equal(st, 'true 137');
    await d.docker(['rm', name]);
  });

  test('--read-only, --tmpfs, -w, -u, -e, --env-file, --entrypoint', async () => {
    const ro = await d.docker(['run', '--rm', '--read-only', 'busybox', 'touch', '/x']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    assert.match(await run(['--read-only', '--tmpfs', '/scratch:size=1m', 'busybox', 'sh', '-c', 'touch /scratch/x && grep " /scratch " /proc/mounts']), /tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec.*size=1024k/);
    assert.equal(await run(['-w', '/tmp/work', 'busybox', 'pwd']), '/tmp/work');
    assert.equal(await run(['-u', 'nobody', 'busybox', 'id']), 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)');
    assert.equal(await run(['-u', '1234:5678', 'busybox', 'id', '-u']), '1234');
    const envFile = join(d.dir, 'env.list');
    writeFileSync(envFile, '# comment\nFROM_FILE=yes\n');
    assert.equal(await run(['-e', 'A=1', '--env-file', envFile, 'busybox', 'sh', '-c', 'echo $A $FROM_FILE $HOME']), '1 yes /root');
    assert.equal(await run(['--entrypoint', 'echo', 'busybox', 'a', 'b']), 'a b');
  });

  test('capabilities, no-new-privileges, ulimits, privileged, init', async () => {
    const capEff = (s: string): bigint => BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(s)?.[1] ?? '0'}`);
    const dflt = capEff(await run(['busybox', 'cat', '/proc/self/status']));
    assert.equal(dflt, 0xa80425fbn, 'docker\'s 14 default capabilities');
    const dropped = capEff(await run(['--cap-drop', 'CHOWN', 'busybox', 'cat', '/proc/self/status']));
    assert.equal(dropped, 0xa80425fbn & ~1n);
    const added = capEff(await run(['--cap-add', 'NET_ADMIN', 'busybox', 'cat', '/proc/self/status']));
    assert.equal(added, 0xa80425fbn | (1n << 12n));
    assert.match(await run(['--security-opt', 'no-new-privileges', 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status']), /NoNewPrivs:\s+1/);
    assert.equal(await run(['--ulimit', 'nofile=1024:2048', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']), '1024\n2048');
    assert.match(await run(['--privileged', 'busybox', 'grep', 'Seccomp:', '/proc/self/status']), /Seccomp:\s+0/);
    assert.match(await run(['busybox', 'grep', 'Seccomp:', '/proc/self/status']), /Seccomp:\s+2/);
    const bad = await d.docker(['run', '--rm', '--cap-add', 'FOO', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown capability: "CAP_FOO"/);
    assert.equal(await run(['--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']), '/sbin/docker-init -- sh -c cat /proc/1/cmdline | tr "\\0" " "');
  });

  test('--security-opt seccomp=<file>: a custom profile is applied; a malformed one fails the create', async () => {
    const dir = d.dir;
    const profile = join(dir, 'no-mkdir.json');
    writeFileSync(profile, JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    }));
    for (const cli of ['docker', 'berth'] as const) {
      const r = await d[cli](['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'mkdir /tmp/x; echo rc=$?; touch /tmp/f && echo touched']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /rc=1\ntouched\n/, cli);
      assert.match(r.stderr, /Operation not permitted/, cli);
    }
    assert.equal(await run(['--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', 'grep Seccomp: /proc/self/status | tr -d "\t "']), 'Seccomp:0');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'] }] }));
    const r = await d.docker(['run', '--rm', '--security-opt', `seccomp=${broken}`, 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Decoding seccomp profile failed: each syscall rule needs an action/);
  });

  test('docker\'s default posture: masked and read-only /proc paths, device cgroup, rlimits capped at berthd\'s own', async () => {
    // masked files read as empty (/dev/null is mounted over them); which exist depends on the kernel
    const masked = await run(['busybox', 'sh', '-c', 'for f in /proc/keys /proc/timer_list /proc/kcore /proc/sched_debug; do [ -e $f ] && echo "$f $(wc -c < $f)"; done; true']);
    assert.ok(masked.length > 0, 'at least one masked /proc file exists here');
    for (const line of masked.split('\n')) assert.match(line, / 0$/, `${line} should be masked`);
    assert.match(await run(['busybox', 'sh', '-c', 'echo 1 > /proc/sys/kernel/domainname 2>&1 || echo refused']), /refused|Read-only/);
    // CAP_MKNOD lets a device node be made, but the device cgroup refuses to open it
    const mk = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'mknod /tmp/sda b 8 0 && head -c1 /tmp/sda']);
    assert.notEqual(mk.code, 0);
    assert.match(mk.stderr, /Operation not permitted/);
    const hard = Number(readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+\d+\s+(\d+)/)?.[1]);
    assert.equal(await run(['--ulimit', `nofile=${hard * 10}:${hard * 10}`, 'busybox', 'sh', '-c', 'ulimit -Hn']), String(hard));
  });

  test('--cidfile, --stop-signal, --stop-timeout', async () => {
    const cid = join(d.dir, `cid-${randomSuffix()}`);
    const r = await d.docker(['run', '-d', '--cidfile', cid, '--stop-signal', 'SIGUSR1', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'trap "exit 42" USR1; while true; do sleep 0.1; done']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(cid, 'utf8'), r.stdout.trim());
    await d.docker(['stop', r.stdout.trim()]);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}} {{.Config.StopSignal}}', r.stdout.trim()])).stdout.trim(), '42 SIGUSR1');
    await d.docker(['rm', r.stdout.trim()]);
  });

  test('--net none has only lo; --net host sees the host\'s interfaces; container: shares a stack', async () => {
    const none = await run(['--net', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net']);
    assert.equal(none, 'lo');
    const host = await run(['--net', 'host', 'busybox', 'sh', '-c', 'ls /sys/class/net | wc -l']);
    assert.ok(Number(host) >= 2, `host interfaces: ${host}`);
    const name = `netowner-${randomSuffix()}`;
    await d.docker(['run', '-d', '--name', name, '--net', 'none', 'busybox', 'sleep', '1000']);
    const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', name])).stdout.trim();
    const shared = await run(['--net', `container:${name}`, 'busybox', 'readlink', '/proc/self/ns/net']);
    const { readlinkSync } = await import('node:fs');
    assert.equal(shared, readlinkSync(`/proc/${pid}/ns/net`));
    await d.docker(['rm', '-f', name]);
  });
});
