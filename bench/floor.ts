// The floor: the OCI runtime alone running a busybox bundle, without berthd, conmon or any CLI.
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { timed, type Timed } from './lib.ts';

interface OciConfig {
  process: { args: string[]; terminal: boolean };
  root: { path: string; readonly: boolean };
  linux: { cgroupsPath?: string };
}

export class Floor {
  readonly dir: string;
  readonly rootfs: string;
  readonly runcRoot: string;
  readonly crunRoot: string;
  /** The parent cgroup of every floor container (absolute, as FIELD-NOTES advise). */
  readonly cgParent: string;
  private template?: OciConfig;
  /** berthd's own generated spec (seccomp profile, capabilities, masked paths, mounts): the equivalent bundle. */
  private berthTemplate?: OciConfig;
  private seq = 0;

  constructor() {
    this.dir = mkdtempSync('/tmp/berth-bench-floor-');
    this.rootfs = join(this.dir, 'rootfs');
    this.runcRoot = join(this.dir, 'runc-state');
    this.crunRoot = join(this.dir, 'crun-state');
    this.cgParent = `/berth-bench-${this.dir.slice(-6)}`;
  }

  /** A rootfs with busybox-static and its applets, and a `runc spec` template. */
  setup(): void {
    mkdirSync(join(this.rootfs, 'bin'), { recursive: true });
    for (const d of ['dev', 'proc', 'sys', 'tmp', 'etc']) mkdirSync(join(this.rootfs, d), { recursive: true });
    copyFileSync('/bin/busybox', join(this.rootfs, 'bin/busybox'));
    for (const a of ['true', 'sleep', 'sh']) symlinkSync('busybox', join(this.rootfs, 'bin', a));
    mkdirSync(this.runcRoot);
    mkdirSync(this.crunRoot);
    const specDir = join(this.dir, 'spec');
    mkdirSync(specDir);
    const r = spawnSync('runc', ['spec', '-b', specDir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`runc spec failed: ${r.stderr}`);
    this.template = JSON.parse(readFileSync(join(specDir, 'config.json'), 'utf8')) as OciConfig;
  }

  /**
   * Use the config.json berthd wrote for a busybox container as the template of `bundle(…, { equivalent: true })`,
   * with its bind-mount sources (/etc/hosts, /etc/hostname, /etc/resolv.conf) pointed at files of our own.
   */
  useBerthSpec(config: unknown): void {
    const cfg = structuredClone(config) as OciConfig & { mounts?: { destination: string; source: string; type: string }[] };
    const etc = join(this.dir, 'etc');
    mkdirSync(etc, { recursive: true });
    for (const m of cfg.mounts ?? []) {
      if (m.type === 'bind' && m.destination.startsWith('/etc/')) {
        const f = join(etc, m.destination.slice(5));
        writeFileSync(f, '');
        m.source = f;
      }
    }
    this.berthTemplate = cfg;
  }

  get hasBerthSpec(): boolean {
    return this.berthTemplate !== undefined;
  }

  /** A bundle dir running `args`, with its own absolute cgroupsPath (from berthd's spec with `equivalent`). */
  bundle(name: string, args: string[], opts: { equivalent?: boolean } = {}): string {
    const template = opts.equivalent ? this.berthTemplate : this.template;
    if (!template) throw new Error('floor not set up');
    const b = join(this.dir, 'bundles', name);
    mkdirSync(b, { recursive: true });
    const cfg = structuredClone(template);
    cfg.process.args = args;
    cfg.process.terminal = false;
    cfg.root = { path: this.rootfs, readonly: true };
    cfg.linux.cgroupsPath = `${this.cgParent}/${name}`;
    writeFileSync(join(b, 'config.json'), JSON.stringify(cfg));
    return b;
  }

  nextId(prefix: string): string {
    return `${prefix}-${this.dir.slice(-6)}-${++this.seq}`;
  }

  /** `runc run` (foreground) of a bundle. */
  runcRun(bundle: string, id: string, timeout = 20_000): Promise<Timed> {
    return timed('runc', ['--root', this.runcRoot, 'run', '-b', bundle, id], { timeout });
  }

  /** `runc run -d`: stdout to /dev/null, stderr to a file, so the detached container does not hold our pipes. */
  async runcRunDetached(bundle: string, id: string, timeout = 20_000): Promise<Timed> {
    const errFile = join(this.dir, `${id}.stderr`);
    const fd = openSync(errFile, 'w');
    try {
      const r = await timed('runc', ['--root', this.runcRoot, 'run', '-d', '-b', bundle, id], { timeout, stderrFd: fd });
      if (r.code !== 0) r.stderr = readFileSync(errFile, 'utf8');
      return r;
    } finally {
      closeSync(fd);
    }
  }

  runcDelete(id: string, timeout = 20_000): Promise<Timed> {
    return timed('runc', ['--root', this.runcRoot, 'delete', '-f', id], { timeout });
  }

  /** `crun run` in a private mount namespace without the cgroup2 mount (crun refuses hybrid cgroups here). */
  crunRun(bundle: string, id: string, timeout = 20_000): Promise<Timed> {
    return timed('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"', 'sh', '--root', this.crunRoot, 'run', '-b', bundle, id], { timeout });
  }

  /** Delete every runc/crun container left in our state dirs, the cgroups and the temp dir. */
  cleanup(): void {
    for (const [rt, root] of [['runc', this.runcRoot], ['crun', this.crunRoot]] as const) {
      if (!existsSync(root)) continue;
      const list = spawnSync(rt, ['--root', root, 'list', '-q'], { encoding: 'utf8', timeout: 10_000 });
      for (const id of (list.stdout ?? '').split('\n').map((s) => s.trim()).filter(Boolean)) {
        spawnSync(rt, ['--root', root, 'delete', '-f', id], { timeout: 10_000 });
      }
    }
    const name = this.cgParent.slice(1);
    spawnSync('sh', ['-c', `find /sys/fs/cgroup -maxdepth 2 -type d -name '${name}' -exec sh -c 'find "$1" -depth -type d -exec rmdir {} \\; 2>/dev/null' _ {} \\;`], { timeout: 10_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
