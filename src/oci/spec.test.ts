import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allCapabilities, DEFAULT_CAPABILITIES, normalizeCapabilities, tweakCapabilities } from './capabilities.ts';
import {
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  generateSpec,
  parseDeviceCgroupRules,
  replaceOrAppendEnv,
  toRlimits,
  type SpecInput,
} from './spec.ts';

const base = (over: Partial<SpecInput> = {}): SpecInput => ({
  rootfs: '/var/lib/berth/c/abc/rootfs',
  args: ['sh', '-c', 'true'],
  user: { uid: 0, gid: 0 },
  hostname: 'abc123',
  cgroupsPath: '/berth/abc',
  arch: 'amd64',
  ...over,
});

const mount = (spec: ReturnType<typeof generateSpec>, dest: string) => spec.mounts.find((m) => m.destination === dest);

describe('generateSpec: Docker defaults', () => {
  const spec = generateSpec(base());

  it('runs the command as given with the default env', () => {
    assert.equal(spec.ociVersion, '1.0.2');
    assert.deepEqual(spec.process.args, ['sh', '-c', 'true']);
    assert.deepEqual(spec.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=abc123']);
    assert.equal(spec.process.cwd, '/');
    assert.equal(spec.process.terminal, false);
    assert.deepEqual(spec.process.user, { uid: 0, gid: 0, additionalGids: [0] });
    assert.equal(spec.process.oomScoreAdj, 0);
    assert.equal(spec.process.noNewPrivileges, undefined);
    assert.equal(spec.process.rlimits, undefined);
    assert.equal(spec.hostname, 'abc123');
    assert.deepEqual(spec.root, { path: '/var/lib/berth/c/abc/rootfs', readonly: false });
    assert.equal(spec.linux.cgroupsPath, '/berth/abc');
  });

  it('grants the 14 default capabilities', () => {
    const caps = spec.process.capabilities!;
    assert.equal(caps.bounding.length, 14);
    assert.deepEqual(caps.bounding, [...DEFAULT_CAPABILITIES]);
    assert.deepEqual(caps.effective, caps.bounding);
    assert.deepEqual(caps.permitted, caps.bounding);
    assert.equal(caps.inheritable, undefined);
    assert.equal(caps.ambient, undefined);
    assert.deepEqual(
      [...caps.bounding].sort(),
      ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']
        .map((c) => `CAP_${c}`)
        .sort(),
    );
  });

  it('mounts proc, dev, devpts, sysfs, cgroup, mqueue and a 64 MiB /dev/shm', () => {
    assert.deepEqual(spec.mounts, [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
    ]);
  });

  it('masks and write-protects the kernel interfaces', () => {
    assert.deepEqual(spec.linux.maskedPaths, [
      '/proc/asound',
      '/proc/acpi',
      '/proc/kcore',
      '/proc/keys',
      '/proc/latency_stats',
      '/proc/timer_list',
      '/proc/timer_stats',
      '/proc/sched_debug',
      '/proc/scsi',
      '/sys/firmware',
      '/sys/devices/virtual/powercap',
    ]);
    assert.deepEqual(spec.linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  });

  it('creates mount, network, uts, pid and ipc namespaces', () => {
    assert.deepEqual(spec.linux.namespaces, [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }]);
  });

  it("uses moby's device cgroup list", () => {
    assert.deepEqual(spec.linux.devices, []);
    assert.deepEqual(spec.linux.resources!.devices, [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
      { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
    ]);
  });

  it('adds the default network sysctls and the default seccomp profile', () => {
    assert.deepEqual(spec.linux.sysctl, { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' });
    assert.equal(spec.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(spec.linux.seccomp?.defaultErrnoRet, 1);
    assert.deepEqual(spec.linux.seccomp?.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.equal(spec.linux.rootfsPropagation, undefined);
    assert.equal(spec.linux.resources!.memory, undefined);
    assert.equal(spec.linux.resources!.cpu, undefined);
    assert.equal(spec.linux.resources!.pids, undefined);
  });

  it('is JSON-serialisable without loss', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  });
});

describe('generateSpec: process', () => {
  it('sets TERM=xterm with a tty and lets the container env override defaults', () => {
    const s = generateSpec(base({ tty: true, env: ['PATH=/bin', 'FOO=bar', 'HOSTNAME'], consoleSize: { height: 24, width: 80 } }));
    assert.deepEqual(s.process.env, ['PATH=/bin', 'TERM=xterm', 'FOO=bar']);
    assert.equal(s.process.terminal, true);
    assert.deepEqual(s.process.consoleSize, { height: 24, width: 80 });
  });

  it('replaceOrAppendEnv follows Docker', () => {
    assert.deepEqual(replaceOrAppendEnv(['A=1', 'B=2'], ['B=3', 'C=4', 'A', 'D']), ['B=3', 'C=4']);
    assert.deepEqual(replaceOrAppendEnv(['A=1'], ['A=']), ['A=']);
  });

  it('gives a non-root user only the bounding set', () => {
    const s = generateSpec(base({ user: { uid: 1000, gid: 1000, additionalGids: [1000, 27] }, cwd: '/home/u' }));
    assert.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [1000, 27] });
    assert.equal(s.process.capabilities!.bounding.length, 14);
    assert.deepEqual(s.process.capabilities!.effective, []);
    assert.deepEqual(s.process.capabilities!.permitted, []);
    assert.equal(s.process.cwd, '/home/u');
  });

  it('sets no-new-privileges, apparmor, oom score and annotations', () => {
    const s = generateSpec(base({ noNewPrivileges: true, apparmorProfile: 'docker-default', oomScoreAdj: 500, annotations: { a: 'b' } }));
    assert.equal(s.process.noNewPrivileges, true);
    assert.equal(s.process.apparmorProfile, 'docker-default');
    assert.equal(s.process.oomScoreAdj, 500);
    assert.deepEqual(s.annotations, { a: 'b' });
    assert.throws(() => generateSpec(base({ oomScoreAdj: 1001 })), { kind: 'invalid-argument', message: 'Invalid value 1001, range for oom score adj is [-1000, 1000]' });
  });

  it('rejects an empty command and a relative cgroupsPath', () => {
    assert.throws(() => generateSpec(base({ args: [] })), { kind: 'invalid-argument', message: 'No command specified' });
    assert.throws(() => generateSpec(base({ cgroupsPath: 'berth/abc' })), { kind: 'invalid-argument' });
  });
});

describe('capabilities', () => {
  it('adds and drops with or without the CAP_ prefix, in any case', () => {
    const s = generateSpec(base({ capAdd: ['net_admin', 'CAP_SYS_PTRACE'], capDrop: ['MKNOD', 'cap_net_raw'] }));
    const b = s.process.capabilities!.bounding;
    assert.ok(b.includes('CAP_NET_ADMIN') && b.includes('CAP_SYS_PTRACE'));
    assert.ok(!b.includes('CAP_MKNOD') && !b.includes('CAP_NET_RAW'));
    assert.equal(b.length, 14);
  });

  it('handles ALL on either side', () => {
    assert.deepEqual(tweakCapabilities({ capDrop: ['ALL'], capAdd: ['chown'] }), ['CAP_CHOWN']);
    assert.deepEqual(tweakCapabilities({ capDrop: ['all'] }), []);
    const all = tweakCapabilities({ capAdd: ['ALL'], capDrop: ['SYS_ADMIN'] });
    assert.equal(all.length, 40);
    assert.ok(!all.includes('CAP_SYS_ADMIN'));
    assert.deepEqual(tweakCapabilities({ privileged: true, capDrop: ['ALL'] }), allCapabilities());
    assert.equal(allCapabilities().length, 41);
    assert.equal(allCapabilities(37).at(-1), 'CAP_AUDIT_READ');
  });

  it("rejects unknown capabilities with Docker's message", () => {
    assert.throws(() => generateSpec(base({ capAdd: ['FOO'] })), { name: 'BerthError', kind: 'invalid-argument', message: 'unknown capability: "CAP_FOO"' });
    assert.throws(() => normalizeCapabilities(['CAP_BPF'], 37), { message: 'unknown capability: "CAP_BPF"' });
  });

  it('changes the seccomp filter: mount is allowed with CAP_SYS_ADMIN', () => {
    const names = (s: ReturnType<typeof generateSpec>) => new Set((s.linux.seccomp?.syscalls ?? []).flatMap((r) => r.names));
    assert.equal(names(generateSpec(base())).has('mount'), false);
    assert.equal(names(generateSpec(base({ capAdd: ['SYS_ADMIN'] }))).has('mount'), true);
  });
});

describe('generateSpec: privileged', () => {
  const s = generateSpec(
    base({
      privileged: true,
      devices: [{ path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 }],
      deviceCgroupRules: ['c 1:1 rwm'],
      maskedPaths: ['/proc/kcore'],
    }),
  );

  it('gets all capabilities, no seccomp, no masked or read-only paths', () => {
    assert.deepEqual(s.process.capabilities!.bounding, allCapabilities());
    assert.equal(s.linux.seccomp, undefined);
    assert.equal(s.linux.maskedPaths, undefined);
    assert.equal(s.linux.readonlyPaths, undefined);
  });

  it('has writable /sys and cgroup mounts', () => {
    assert.deepEqual(mount(s, '/sys')!.options, ['nosuid', 'noexec', 'nodev']);
    assert.deepEqual(mount(s, '/sys/fs/cgroup')!.options, ['nosuid', 'noexec', 'nodev']);
  });

  it('gets the host devices and may use every device', () => {
    assert.deepEqual(s.linux.devices, [{ type: 'b', path: '/dev/sda', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 }]);
    assert.deepEqual(s.linux.resources!.devices, [{ allow: true, access: 'rwm' }]);
  });
});

describe('generateSpec: devices', () => {
  it('adds --device nodes and their cgroup rules, then --device-cgroup-rule', () => {
    const s = generateSpec(base({ devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, permissions: 'rw' }], deviceCgroupRules: ['c 42:* rmw', 'a *:* r'] }));
    assert.deepEqual(s.linux.devices, [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }]);
    assert.deepEqual(s.linux.resources!.devices!.slice(-3), [
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
      { allow: true, type: 'c', major: 42, minor: -1, access: 'rmw' },
      { allow: true, type: 'a', major: -1, minor: -1, access: 'r' },
    ]);
  });

  it("rejects bad rules with Docker's message", () => {
    assert.throws(() => parseDeviceCgroupRules(['x 1:2 rwm']), { kind: 'invalid-argument', message: "invalid device cgroup rule format: 'x 1:2 rwm'" });
    assert.throws(() => generateSpec(base({ devices: [{ path: '/dev/x', type: 'c', major: 1, minor: 1, permissions: 'rwx' }] })), {
      message: 'invalid device mode: rwx',
    });
  });
});

describe('generateSpec: mounts', () => {
  it('appends user mounts parents first and lets them replace defaults', () => {
    const s = generateSpec(
      base({
        mounts: [
          { destination: '/data/sub', source: '/v/2', type: 'bind', options: ['rbind', 'ro'] },
          { destination: '/data', source: '/v/1', type: 'bind', options: ['rbind'] },
          { destination: '/dev/shm', source: '/ipc/shm', type: 'bind', options: ['rbind'] },
        ],
      }),
    );
    const dests = s.mounts.map((m) => m.destination);
    // Defaults first (minus the replaced /dev/shm), then user mounts by path depth.
    assert.deepEqual(dests, ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/data', '/data/sub', '/dev/shm']);
    assert.equal(mount(s, '/dev/shm')!.source, '/ipc/shm');
  });

  it('drops the /dev submounts when /dev is user-mounted', () => {
    const s = generateSpec(base({ mounts: [{ destination: '/dev', source: '/host/dev', type: 'bind', options: ['rbind'] }] }));
    assert.deepEqual(s.mounts.map((m) => m.destination), ['/proc', '/sys', '/sys/fs/cgroup', '/dev']);
  });

  it('sizes /dev/shm and drops it with --ipc none', () => {
    assert.ok(mount(generateSpec(base({ shmSize: 1024 * 1024 })), '/dev/shm')!.options!.includes('size=1048576'));
    assert.equal(mount(generateSpec(base({ namespaces: { ipc: { kind: 'none' } } })), '/dev/shm'), undefined);
  });

  it('makes non-user mounts read-only with a read-only rootfs, except the writable /dev and /proc ones', () => {
    const s = generateSpec(base({ readonlyRootfs: true, mounts: [{ destination: '/data', source: '/v', type: 'bind', options: ['rbind'] }] }));
    assert.equal(s.root.readonly, true);
    assert.ok(!mount(s, '/proc')!.options!.includes('ro'));
    assert.ok(!mount(s, '/dev/shm')!.options!.includes('ro'));
    assert.deepEqual(mount(s, '/sys')!.options, ['nosuid', 'noexec', 'nodev', 'ro']);
    assert.deepEqual(mount(s, '/data')!.options, ['rbind']);
  });

  it('sets rootfs propagation for shared and slave binds', () => {
    const shared = generateSpec(base({ mounts: [{ destination: '/a', source: '/a', type: 'bind', options: ['rbind', 'rshared'] }] }));
    assert.equal(shared.linux.rootfsPropagation, 'shared');
    const slave = generateSpec(base({ mounts: [{ destination: '/a', source: '/a', type: 'bind', options: ['rbind', 'rslave'] }] }));
    assert.equal(slave.linux.rootfsPropagation, 'rslave');
  });

  it('rejects relative destinations', () => {
    assert.throws(() => generateSpec(base({ mounts: [{ destination: 'data', source: '/v', type: 'bind', options: [] }] })), {
      message: "invalid mount path: 'data' mount path must be absolute",
    });
  });
});

describe('generateSpec: namespaces and sysctls', () => {
  it('leaves out host namespaces, joins paths and adds cgroupns', () => {
    const s = generateSpec(
      base({
        namespaces: { net: { kind: 'host' }, pid: { kind: 'path', path: '/proc/42/ns/pid' }, ipc: { kind: 'host' }, uts: { kind: 'host' }, cgroup: 'private' },
        domainname: 'example.org',
      }),
    );
    assert.deepEqual(s.linux.namespaces, [{ type: 'mount' }, { type: 'pid', path: '/proc/42/ns/pid' }, { type: 'cgroup' }]);
    assert.equal(s.hostname, undefined);
    assert.deepEqual(s.linux.sysctl, {});
    assert.deepEqual(s.process.env.find((e) => e.startsWith('HOSTNAME=')), 'HOSTNAME=abc123');
  });

  it('sets the domainname sysctl and merges user sysctls over the defaults', () => {
    const s = generateSpec(base({ domainname: 'example.org', sysctls: { 'net.ipv4.ip_unprivileged_port_start': '1024', 'kernel.msgmax': '65536' } }));
    assert.deepEqual(s.linux.sysctl, {
      'net.ipv4.ping_group_range': '0 2147483647',
      'net.ipv4.ip_unprivileged_port_start': '1024',
      'kernel.domainname': 'example.org',
      'kernel.msgmax': '65536',
    });
  });

  it('adds default network sysctls only to a private network namespace unless asked', () => {
    const joined = generateSpec(base({ namespaces: { net: { kind: 'path', path: '/run/berth/netns/abc' } } }));
    assert.deepEqual(joined.linux.sysctl, {});
    assert.deepEqual(joined.linux.namespaces[1], { type: 'network', path: '/run/berth/netns/abc' });
    const owned = generateSpec(base({ namespaces: { net: { kind: 'path', path: '/run/berth/netns/abc' } }, defaultNetSysctls: true }));
    assert.equal(owned.linux.sysctl!['net.ipv4.ip_unprivileged_port_start'], '0');
    assert.deepEqual(generateSpec(base({ defaultNetSysctls: false })).linux.sysctl, {});
  });

  it('rejects network sysctls with the host network', () => {
    assert.throws(() => generateSpec(base({ namespaces: { net: { kind: 'host' } }, sysctls: { 'net.core.somaxconn': '1024' } })), {
      kind: 'invalid-argument',
      message: 'sysctl "net.core.somaxconn" not allowed in host network namespace',
    });
  });
});

describe('generateSpec: seccomp options', () => {
  it('unconfined has no filter; a custom profile is converted', () => {
    assert.equal(generateSpec(base({ seccomp: 'unconfined' })).linux.seccomp, undefined);
    const s = generateSpec(base({ seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] } }));
    assert.deepEqual(s.linux.seccomp, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
  });
});

describe('generateSpec: resources', () => {
  const MiB = 1024 * 1024;
  it('defaults memory+swap to twice the memory; -1 leaves swap unlimited', () => {
    assert.deepEqual(generateSpec(base({ resources: { memory: 64 * MiB } })).linux.resources!.memory, { limit: 64 * MiB, swap: 128 * MiB });
    assert.deepEqual(generateSpec(base({ resources: { memory: 64 * MiB, memorySwap: -1 } })).linux.resources!.memory, { limit: 64 * MiB });
    assert.deepEqual(generateSpec(base({ resources: { memory: 64 * MiB, memorySwap: 100 * MiB, memoryReservation: 32 * MiB, oomKillDisable: false } })).linux.resources!.memory, {
      limit: 64 * MiB,
      reservation: 32 * MiB,
      swap: 100 * MiB,
      disableOOMKiller: false,
    });
  });

  it('turns nano CPUs into quota/period and passes the rest through', () => {
    const r = generateSpec(
      base({ resources: { nanoCpus: 1_500_000_000, cpuShares: 512, cpusetCpus: '0-1', cpusetMems: '0', pidsLimit: 100, blkioWeight: 300 } }),
    ).linux.resources!;
    assert.deepEqual(r.cpu, { shares: 512, cpus: '0-1', mems: '0', period: 100000, quota: 150000 });
    assert.deepEqual(r.pids, { limit: 100 });
    assert.deepEqual(r.blockIO, { weight: 300 });
    assert.deepEqual(generateSpec(base({ resources: { cpuQuota: 50000, cpuPeriod: 100000 } })).linux.resources!.cpu, { period: 100000, quota: 50000 });
    assert.deepEqual(generateSpec(base({ resources: { pidsLimit: 0 } })).linux.resources!.pids, { limit: -1 });
    assert.equal(generateSpec(base({ resources: { nanoCpus: 10_000_000 } })).linux.resources!.cpu!.quota, 1000);
  });

  it("rejects invalid values with Docker's messages", () => {
    const bad: [SpecInput['resources'], string][] = [
      [{ memory: 1024 }, 'Minimum memory limit allowed is 6MB'],
      [{ memory: 64 * MiB, memorySwap: 32 * MiB }, 'Minimum memoryswap limit should be larger than memory limit, see usage'],
      [{ memorySwap: 32 * MiB }, 'You should always set the Memory limit when using Memoryswap limit, see usage'],
      [{ memory: 16 * MiB, memoryReservation: 32 * MiB }, 'Minimum memory limit can not be less than memory reservation limit, see usage'],
      [{ nanoCpus: 1e9, cpuQuota: 1000 }, 'Conflicting options: Nano CPUs and CPU Quota cannot both be set'],
      [{ nanoCpus: 1e9, cpuPeriod: 1000 }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set'],
      [{ cpuPeriod: 10 }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)'],
      [{ cpuQuota: 10 }, 'CPU cfs quota can not be less than 1ms (i.e. 1000)'],
      [{ blkioWeight: 5 }, 'Range of blkio weight is from 10 to 1000'],
    ];
    for (const [resources, message] of bad) {
      assert.throws(() => generateSpec(base({ resources })), { kind: 'invalid-argument', message });
    }
  });
});

describe('ulimits', () => {
  it('become rlimits, clamped to berthd hard limits', () => {
    const s = generateSpec(
      base({
        ulimits: [
          { name: 'nofile', soft: 1048576, hard: 1048576 },
          { name: 'nproc', soft: 100, hard: 200 },
          { name: 'core', soft: -1, hard: -1 },
        ],
        maxRlimit: { nofile: 20000, core: 1 << 30 },
      }),
    );
    assert.deepEqual(s.process.rlimits, [
      { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 },
      { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
      { type: 'RLIMIT_CORE', soft: 1 << 30, hard: 1 << 30 },
    ]);
    assert.deepEqual(toRlimits([{ name: 'nofile', soft: 1024, hard: 40000 }], { nofile: 20000 }), {
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 }],
      clamped: ['nofile'],
    });
  });

  it('rejects unknown names and soft > hard', () => {
    assert.throws(() => toRlimits([{ name: 'bogus', soft: 1, hard: 1 }], {}), { kind: 'invalid-argument', message: 'invalid ulimit type: bogus' });
    assert.throws(() => toRlimits([{ name: 'nofile', soft: 2, hard: 1 }], {}), {
      message: 'ulimit soft limit must be less than or equal to hard limit: 2 > 1',
    });
    assert.throws(() => toRlimits([{ name: 'core', soft: -1, hard: -1 }], {}), { kind: 'invalid-argument' });
  });
});

describe('masked and read-only path overrides', () => {
  it('replace the defaults, and an empty list clears them', () => {
    const s = generateSpec(base({ maskedPaths: [], readonlyPaths: ['/proc/sys'] }));
    assert.deepEqual(s.linux.maskedPaths, []);
    assert.deepEqual(s.linux.readonlyPaths, ['/proc/sys']);
    assert.equal(DEFAULT_MASKED_PATHS.length, 11);
    assert.equal(DEFAULT_READONLY_PATHS.length, 5);
  });
});
