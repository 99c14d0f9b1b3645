import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { allCapabilities, DEFAULT_CAPABILITIES } from './capabilities.ts';
import type { OciSeccomp } from './runtime-spec.ts';
import {
  DEFAULT_SECCOMP_PROFILE,
  defaultSeccomp,
  parseKernelVersion,
  parseSeccompProfile,
  toOciSeccomp,
  type DockerSeccompProfile,
} from './seccomp.ts';

const REFERENCE = '/work/shared/reference/seccomp-default.json';
const DEFAULT_CAPS = [...DEFAULT_CAPABILITIES];
const ALL_CAPS = allCapabilities();

// The Docker semantics, written per syscall name against the raw profile (independently of toOciSeccomp):
// the rules (action, args, errnoRet) that apply to `name` for these caps on this arch.
function expectedRules(profile: DockerSeccompProfile, name: string, caps: string[], arch: string, kernel?: [number, number]): string[] {
  const has = (c: string): boolean => caps.includes(c);
  const kernelOk = (min: string): boolean => {
    if (!kernel) return true;
    const [a, b] = min.split('.').map(Number) as [number, number];
    return kernel[0] > a || (kernel[0] === a && kernel[1] >= b);
  };
  const out: string[] = [];
  for (const r of profile.syscalls ?? []) {
    if (!(r.names ?? []).includes(name) && r.name !== name) continue;
    const inc = r.includes ?? {};
    const exc = r.excludes ?? {};
    const included =
      (inc.caps ?? []).every(has) && (!inc.arches?.length || inc.arches.includes(arch)) && (!inc.minKernel || kernelOk(inc.minKernel));
    const excluded = (exc.caps ?? []).some(has) || (exc.arches ?? []).includes(arch) || (!!exc.minKernel && kernelOk(exc.minKernel));
    if (included && !excluded) out.push(JSON.stringify({ action: r.action, args: r.args ?? [], errnoRet: r.errnoRet ?? null }));
  }
  return out.sort();
}

function actualRules(s: OciSeccomp, name: string): string[] {
  return (s.syscalls ?? [])
    .filter((r) => r.names.includes(name))
    .map((r) => JSON.stringify({ action: r.action, args: r.args ?? [], errnoRet: r.errnoRet ?? null }))
    .sort();
}

function allNames(profile: DockerSeccompProfile): string[] {
  return [...new Set((profile.syscalls ?? []).flatMap((r) => [...(r.names ?? []), ...(r.name ? [r.name] : [])]))].sort();
}

/** What the filter does with one call: the first matching rule's action (libseccomp picks the allow rules; enough here). */
function decide(s: OciSeccomp, name: string, args: number[] = []): { action: string; errno?: number } {
  for (const r of s.syscalls ?? []) {
    if (!r.names.includes(name)) continue;
    const match = (r.args ?? []).every((a) => {
      const v = args[a.index] ?? 0;
      if (a.op === 'SCMP_CMP_EQ') return v === a.value;
      if (a.op === 'SCMP_CMP_NE') return v !== a.value;
      if (a.op === 'SCMP_CMP_MASKED_EQ') return Number(BigInt(v) & BigInt(a.value)) === (a.valueTwo ?? 0);
      throw new Error(`op ${a.op} not modelled`);
    });
    if (match) return { action: r.action, ...(r.errnoRet !== undefined ? { errno: r.errnoRet } : {}) };
  }
  return { action: s.defaultAction, ...(s.defaultErrnoRet !== undefined ? { errno: s.defaultErrnoRet } : {}) };
}

const allowed = (s: OciSeccomp, name: string, args?: number[]): boolean => decide(s, name, args).action === 'SCMP_ACT_ALLOW';

describe('seccomp: bundled profile', () => {
  it('is byte-for-byte the reference profile (when the reference is present)', async (t) => {
    let ref: string;
    try {
      ref = await readFile(REFERENCE, 'utf8');
    } catch {
      t.skip(`${REFERENCE} not available`);
      return;
    }
    assert.deepEqual(DEFAULT_SECCOMP_PROFILE, JSON.parse(ref));
  });
});

describe('seccomp: toOciSeccomp agrees with Docker rules for every syscall', () => {
  const cases: [string, string[], string][] = [
    ['default caps, amd64', DEFAULT_CAPS, 'amd64'],
    ['all caps, amd64', ALL_CAPS, 'amd64'],
    ['default + SYS_ADMIN, amd64', [...DEFAULT_CAPS, 'CAP_SYS_ADMIN'], 'amd64'],
    ['no caps, arm64', [], 'arm64'],
    ['default caps, s390x', DEFAULT_CAPS, 's390x'],
  ];
  for (const [label, caps, arch] of cases) {
    it(label, () => {
      const s = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { arch, caps })!;
      for (const name of allNames(DEFAULT_SECCOMP_PROFILE)) {
        assert.deepEqual(actualRules(s, name), expectedRules(DEFAULT_SECCOMP_PROFILE, name, caps, arch), `${label}: ${name}`);
      }
    });
  }
  it('with an old kernel (4.4), minKernel rules drop out', () => {
    const s = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { arch: 'amd64', caps: DEFAULT_CAPS, kernel: '4.4.0-210-generic' })!;
    for (const name of allNames(DEFAULT_SECCOMP_PROFILE)) {
      assert.deepEqual(actualRules(s, name), expectedRules(DEFAULT_SECCOMP_PROFILE, name, DEFAULT_CAPS, 'amd64', [4, 4]), name);
    }
    assert.equal(allowed(s, 'ptrace'), false);
    const recent = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { arch: 'amd64', caps: DEFAULT_CAPS, kernel: '6.18.0' })!;
    assert.equal(allowed(recent, 'ptrace'), true);
  });
});

describe('seccomp: behaviour of the default profile', () => {
  const dflt = defaultSeccomp({ arch: 'amd64', caps: DEFAULT_CAPS });
  const admin = defaultSeccomp({ arch: 'amd64', caps: [...DEFAULT_CAPS, 'CAP_SYS_ADMIN'] });
  const CLONE_NEWNS = 0x00020000;
  const SIGCHLD = 17;

  it('denies with EPERM by default, for x86_64, x86 and x32', () => {
    assert.equal(dflt.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(dflt.defaultErrnoRet, 1);
    assert.deepEqual(dflt.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.deepEqual(defaultSeccomp({ arch: 'arm64', caps: [] }).architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.deepEqual(defaultSeccomp({ arch: 'x64', caps: [] }).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });

  it('blocks mount, umount2, unshare, setns without CAP_SYS_ADMIN and allows them with it', () => {
    for (const name of ['mount', 'umount2', 'unshare', 'setns']) {
      assert.equal(allowed(dflt, name), false, name);
      assert.deepEqual(decide(dflt, name), { action: 'SCMP_ACT_ERRNO', errno: 1 });
      assert.equal(allowed(admin, name), true, name);
    }
    // Docker never allows pivot_root, even with CAP_SYS_ADMIN.
    assert.equal(allowed(admin, 'pivot_root'), false);
  });

  it('filters clone flags without CAP_SYS_ADMIN, not with it', () => {
    assert.equal(allowed(dflt, 'clone', [SIGCHLD]), true);
    assert.equal(allowed(dflt, 'clone', [CLONE_NEWNS | SIGCHLD]), false);
    assert.equal(allowed(admin, 'clone', [CLONE_NEWNS | SIGCHLD]), true);
    const cloneRules = (dflt.syscalls ?? []).filter((r) => r.names.includes('clone'));
    assert.deepEqual(cloneRules, [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] }]);
  });

  it('makes clone3 fail with ENOSYS without CAP_SYS_ADMIN, so libc falls back to clone', () => {
    assert.deepEqual(decide(dflt, 'clone3'), { action: 'SCMP_ACT_ERRNO', errno: 38 });
    assert.equal(allowed(admin, 'clone3'), true);
  });

  it('keeps the personality and socket argument filters', () => {
    const personality = (dflt.syscalls ?? []).filter((r) => r.names.includes('personality'));
    assert.deepEqual(
      personality.map((r) => r.args),
      [0, 8, 131072, 131080, 4294967295].map((value) => [{ index: 0, value, op: 'SCMP_CMP_EQ' }]),
    );
    assert.equal(allowed(dflt, 'personality', [0]), true);
    assert.equal(allowed(dflt, 'personality', [1]), false);
    assert.equal(allowed(dflt, 'socket', [2]), true);
    assert.equal(allowed(dflt, 'socket', [40]), false); // AF_VSOCK
  });

  it('applies per-arch and per-cap rules', () => {
    assert.equal(allowed(dflt, 'arch_prctl'), true);
    assert.equal(allowed(defaultSeccomp({ arch: 'arm64', caps: DEFAULT_CAPS }), 'arch_prctl'), false);
    assert.equal(allowed(dflt, 'chroot'), true); // CAP_SYS_CHROOT is a default capability
    assert.equal(allowed(defaultSeccomp({ arch: 'amd64', caps: [] }), 'chroot'), false);
    assert.equal(allowed(dflt, 'reboot'), false);
    assert.equal(allowed(defaultSeccomp({ arch: 'amd64', caps: ['CAP_SYS_BOOT'] }), 'reboot'), true);
    assert.equal(allowed(dflt, 'read'), true);
    assert.equal(allowed(dflt, 'kexec_load'), false);
  });
});

describe('seccomp: custom profiles', () => {
  it('supports name, architectures, excludes and returns undefined for an empty profile', () => {
    const s = toOciSeccomp(
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [
          { name: 'chmod', action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
          { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN'] } },
        ],
      },
      { arch: 'amd64', caps: ['CAP_SYS_ADMIN'] },
    );
    assert.deepEqual(s, {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    });
    assert.equal(toOciSeccomp({ defaultAction: '' }, { arch: 'amd64', caps: [] }), undefined);
  });

  it('rejects both architectures and archMap, and both name and names', () => {
    assert.throws(
      () => toOciSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86'], archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }] }, { arch: 'amd64', caps: [] }),
      { name: 'BerthError', kind: 'invalid-argument', message: /use either 'architectures' or 'archMap'/ },
    );
    assert.throws(
      () => toOciSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] }, { arch: 'amd64', caps: [] }),
      { kind: 'invalid-argument', message: /use either 'name' or 'names'/ },
    );
  });

  it('parseSeccompProfile validates untrusted JSON', () => {
    assert.equal(parseSeccompProfile(JSON.parse(JSON.stringify(DEFAULT_SECCOMP_PROFILE))).defaultAction, 'SCMP_ACT_ERRNO');
    assert.throws(() => parseSeccompProfile([]), { kind: 'invalid-argument', message: /^Decoding seccomp profile failed/ });
    assert.throws(() => parseSeccompProfile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['x'] }] }), { kind: 'invalid-argument' });
    assert.throws(() => parseSeccompProfile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: -1, value: 0, op: 'SCMP_CMP_EQ' }] }] }), {
      kind: 'invalid-argument',
    });
  });

  it('parses kernel versions', () => {
    assert.deepEqual(parseKernelVersion('5.15.0-91-generic'), [5, 15, 0]);
    assert.deepEqual(parseKernelVersion('4.8'), [4, 8, 0]);
    assert.throws(() => parseKernelVersion('linux'), { kind: 'invalid-argument' });
  });
});
