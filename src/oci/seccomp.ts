// Docker seccomp profiles and their conversion to the OCI `linux.seccomp` object.
//
// `seccomp-default.json` is Docker's default profile, copied unchanged from moby v26.1.4
// (profiles/seccomp/default.json). Copyright The Moby Authors, licensed under the Apache
// License 2.0 (http://www.apache.org/licenses/LICENSE-2.0). The conversion rules below follow
// moby's profiles/seccomp/seccomp_linux.go (setupSeccomp); the code is berth's own.
import { BerthError } from '../common/index.ts';
import type { OciSeccomp, OciSeccompArg, OciSyscall } from './runtime-spec.ts';
import defaultProfileJson from './seccomp-default.json' with { type: 'json' };

/** A condition on a syscall rule. Arches are libseccomp's native names (`amd64`, `x32`, `arm64`). */
export interface SeccompFilter {
  caps?: string[] | null;
  arches?: string[] | null;
  minKernel?: string | null;
}

export interface DockerSeccompSyscall {
  name?: string;
  names?: string[] | null;
  action: string;
  errnoRet?: number | null;
  args?: OciSeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter | null;
  excludes?: SeccompFilter | null;
}

export interface DockerSeccompArchMap {
  architecture: string;
  subArchitectures: string[] | null;
}

/** Docker's profile format (what `--security-opt seccomp=profile.json` takes). */
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number | null;
  architectures?: string[] | null;
  archMap?: DockerSeccompArchMap[] | null;
  flags?: string[] | null;
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: DockerSeccompSyscall[] | null;
}

export interface SeccompContext {
  /** Host architecture in Go/OCI naming (`amd64`, `arm64`, `386`, …); Node's `x64`/`ia32` are accepted too. */
  arch: string;
  /** The container's bounding capability set, with CAP_ prefixes. */
  caps: string[];
  /**
   * The running kernel's release (`6.18.0`, `5.15.0-91-generic`). Omitted: assumed new enough for every
   * `minKernel` rule (the rule is included, or, for `excludes`, the syscall entry is dropped).
   */
  kernel?: string;
}

/** The bundled Docker default profile (moby v26.1.4). Treat it as read-only. */
export const DEFAULT_SECCOMP_PROFILE: DockerSeccompProfile = defaultProfileJson;

// Go GOARCH (and Node process.arch) → libseccomp's native name, as used in `arches` filters.
const GO_TO_NATIVE: Record<string, string> = {
  '386': 'x86',
  ia32: 'x86',
  amd64: 'amd64',
  x64: 'amd64',
  arm: 'arm',
  arm64: 'arm64',
  mips64: 'mips64',
  mips64p32: 'mips64n32',
  mips64le: 'mipsel64',
  mips64p32le: 'mips3l64n32',
  mipsle: 'mipsel',
  mipsel: 'mipsel',
  ppc: 'ppc',
  ppc64: 'ppc64',
  ppc64le: 'ppc64le',
  riscv64: 'riscv64',
  s390: 's390',
  s390x: 's390x',
};

// libseccomp native name → the SCMP_ARCH_* constant used as archMap key.
const NATIVE_TO_SECCOMP: Record<string, string> = {
  x86: 'SCMP_ARCH_X86',
  amd64: 'SCMP_ARCH_X86_64',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mips3l64n32: 'SCMP_ARCH_MIPSEL64N32',
  mipsle: 'SCMP_ARCH_MIPSEL',
  mipsel: 'SCMP_ARCH_MIPSEL',
  ppc: 'SCMP_ARCH_PPC',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
};

/** libseccomp's native name for a Go/OCI (or Node) architecture name; the input itself when unknown. */
export function seccompNativeArch(arch: string): string {
  return GO_TO_NATIVE[arch] ?? arch;
}

/**
 * Converts a Docker seccomp profile into the OCI `linux.seccomp` object for one container:
 * `archMap` is reduced to the host architecture and its sub-architectures, and each syscall rule is kept
 * only if its `includes` hold and its `excludes` do not (caps are checked against `ctx.caps`, the
 * bounding set, as Docker does). Returns undefined for an empty profile (no default action and no
 * syscalls), which Docker treats as "seccomp disabled".
 * Throws invalid-argument for a profile that sets both `architectures` and `archMap`, both `name` and
 * `names`, or a malformed `minKernel`.
 */
export function toOciSeccomp(profile: DockerSeccompProfile, ctx: SeccompContext): OciSeccomp | undefined {
  const syscalls = profile.syscalls ?? [];
  if (!profile.defaultAction && syscalls.length === 0) return undefined;

  const architectures = profile.architectures ?? [];
  const archMap = profile.archMap ?? [];
  if (architectures.length > 0 && archMap.length > 0) {
    throw new BerthError(
      'invalid-argument',
      "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  }
  const native = seccompNativeArch(ctx.arch);
  const arches = [...architectures];
  const hostScmp = NATIVE_TO_SECCOMP[native];
  const entry = hostScmp === undefined ? undefined : archMap.find((a) => a.architecture === hostScmp);
  if (entry) arches.push(entry.architecture, ...(entry.subArchitectures ?? []));

  const caps = new Set(ctx.caps);
  const kernel = ctx.kernel === undefined ? undefined : parseKernelVersion(ctx.kernel);
  const kernelAtLeast = (min: string): boolean => kernel === undefined || compareKernel(kernel, parseKernelVersion(min)) >= 0;

  const out: OciSyscall[] = [];
  for (const call of syscalls) {
    const ex = call.excludes;
    if (ex) {
      if (ex.arches?.includes(native)) continue;
      if (ex.caps?.some((c) => caps.has(c))) continue;
      if (ex.minKernel && kernelAtLeast(ex.minKernel)) continue;
    }
    const inc = call.includes;
    if (inc) {
      if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(native)) continue;
      if (inc.caps && !inc.caps.every((c) => caps.has(c))) continue;
      if (inc.minKernel && !kernelAtLeast(inc.minKernel)) continue;
    }
    const names = [...(call.names ?? [])];
    if (call.name) {
      if (names.length > 0) {
        throw new BerthError('invalid-argument', "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
      }
      names.push(call.name);
    }
    const rule: OciSyscall = { names, action: call.action };
    if (call.errnoRet !== undefined && call.errnoRet !== null) rule.errnoRet = call.errnoRet;
    if (call.args && call.args.length > 0) rule.args = call.args.map((a) => ({ ...a }));
    out.push(rule);
  }

  const result: OciSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined && profile.defaultErrnoRet !== null) result.defaultErrnoRet = profile.defaultErrnoRet;
  if (arches.length > 0) result.architectures = arches;
  if (profile.flags && profile.flags.length > 0) result.flags = [...profile.flags];
  if (profile.listenerPath) result.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) result.listenerMetadata = profile.listenerMetadata;
  result.syscalls = out;
  return result;
}

/** Docker's default profile converted for this container. Never undefined: the default profile is not empty. */
export function defaultSeccomp(ctx: SeccompContext): OciSeccomp {
  const s = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, ctx);
  if (!s) throw new BerthError('internal', 'bundled seccomp profile is empty');
  return s;
}

/**
 * Validates an untrusted Docker seccomp profile (e.g. the JSON text of `--security-opt seccomp=…`,
 * already parsed). Throws invalid-argument naming the first bad field; returns the profile typed.
 */
export function parseSeccompProfile(value: unknown): DockerSeccompProfile {
  const bad = (what: string): BerthError => new BerthError('invalid-argument', `Decoding seccomp profile failed: ${what}`);
  if (!isObject(value)) throw bad('profile must be a JSON object');
  if (value.defaultAction !== undefined && typeof value.defaultAction !== 'string') throw bad('defaultAction must be a string');
  if (!isOptionalStringArray(value.architectures)) throw bad('architectures must be a list of strings');
  if (!isOptionalStringArray(value.flags)) throw bad('flags must be a list of strings');
  if (value.defaultErrnoRet !== undefined && value.defaultErrnoRet !== null && !isUint(value.defaultErrnoRet)) {
    throw bad('defaultErrnoRet must be a number');
  }
  if (value.archMap !== undefined && value.archMap !== null) {
    if (!Array.isArray(value.archMap)) throw bad('archMap must be a list');
    for (const a of value.archMap) {
      if (!isObject(a) || typeof a.architecture !== 'string' || !isOptionalStringArray(a.subArchitectures)) throw bad('invalid archMap entry');
    }
  }
  if (value.syscalls !== undefined && value.syscalls !== null) {
    if (!Array.isArray(value.syscalls)) throw bad('syscalls must be a list');
    for (const s of value.syscalls) {
      if (!isObject(s) || typeof s.action !== 'string') throw bad('each syscall rule needs an action');
      if (s.name !== undefined && typeof s.name !== 'string') throw bad('syscall name must be a string');
      if (!isOptionalStringArray(s.names)) throw bad('syscall names must be a list of strings');
      if (s.errnoRet !== undefined && s.errnoRet !== null && !isUint(s.errnoRet)) throw bad('errnoRet must be a number');
      if (s.args !== undefined && s.args !== null) {
        if (!Array.isArray(s.args)) throw bad('syscall args must be a list');
        for (const a of s.args) {
          if (!isObject(a) || !isUint(a.index) || !isUint(a.value) || typeof a.op !== 'string') throw bad('invalid syscall argument');
          if (a.valueTwo !== undefined && !isUint(a.valueTwo)) throw bad('invalid syscall argument');
        }
      }
      for (const f of [s.includes, s.excludes]) {
        if (f === undefined || f === null) continue;
        if (!isObject(f) || !isOptionalStringArray(f.caps) || !isOptionalStringArray(f.arches)) throw bad('invalid includes/excludes');
        if (f.minKernel !== undefined && f.minKernel !== null && typeof f.minKernel !== 'string') throw bad('minKernel must be a string');
        if (typeof f.minKernel === 'string' && f.minKernel !== '') parseKernelVersion(f.minKernel);
      }
    }
  }
  return value as unknown as DockerSeccompProfile;
}

type KernelVersion = [number, number, number];

/** Parses `6.18`, `6.18.0`, `5.15.0-91-generic`. Throws invalid-argument otherwise. */
export function parseKernelVersion(release: string): KernelVersion {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) throw new BerthError('invalid-argument', `Can't parse kernel version ${release}`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function compareKernel(a: KernelVersion, b: KernelVersion): number {
  for (let i = 0; i < 3; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOptionalStringArray(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
}

function isUint(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}
