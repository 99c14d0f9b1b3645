// Shared set-up for integration tests: a real berthd with its own root, exec root and socket.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { IptablesFirewall, IsolationFirewall } from '../../src/network/index.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'dist');

/** Why integration tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const bin of ['runc', 'conmon', 'busybox']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `needs ${bin} (apt-get install ${bin === 'busybox' ? 'busybox-static' : bin})`;
  }
  if (!existsSync(join(DIST, 'berthd.mjs'))) return 'needs a build (npm run build)';
  return undefined;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class TestDaemon {
  proc?: ChildProcess;
  readonly dir: string;
  readonly sock: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly cgroupParent: string;
  /** This daemon's own default bridge and subnet, so parallel daemons never share rules or addresses. */
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
  log = '';

  constructor(readonly extraArgs: string[] = []) {
    this.dir = mkdtempSync('/tmp/berth-it-');
    this.sock = join(this.dir, 'berth.sock');
    this.dataRoot = join(this.dir, 'root');
    this.execRoot = join(this.dir, 'run');
    this.cgroupParent = `/berth-test-${this.dir.slice(-6)}`;
    this.bridge = `bt${this.dir.slice(-6)}`;
    const octet = freeTestOctet();
    this.subnet = `10.213.${octet}.0/24`;
    this.gateway = `10.213.${octet}.1`;
  }

  /** A bridge name for this daemon's user network number `i` (`-o com.docker.network.bridge.name=…`), ≤ 15 characters. */
  userBridge(i: number): string {
    return `${this.bridge}u${i}`;
  }

  /** A free /24 in 10.214.0.0/16 for a user network of this daemon: `{ subnet, gateway, prefix }` (prefix = `10.214.x.`). */
  userSubnet(): { subnet: string; gateway: string; prefix: string } {
    const x = freeTestOctet('10.214');
    return { subnet: `10.214.${x}.0/24`, gateway: `10.214.${x}.1`, prefix: `10.214.${x}.` };
  }

  async start(): Promise<void> {
    const p = spawn(process.execPath, [join(DIST, 'berthd.mjs'), '-H', this.sock, '--data-root', this.dataRoot, '--exec-root', this.execRoot, '--cgroup-parent', this.cgroupParent, '--bridge', this.bridge, '--bip', `${this.gateway}/24`, ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = p;
    p.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    const t0 = Date.now();
    while (Date.now() - t0 < 15_000) {
      if (p.exitCode !== null) throw new Error(`berthd exited: ${this.log}`);
      if (await this.ping()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`berthd did not start: ${this.log}`);
  }

  ping(): Promise<boolean> {
    return new Promise((res) => {
      const r = request({ socketPath: this.sock, path: '/_ping' }, (resp) => {
        resp.resume();
        res(resp.statusCode === 200);
      });
      r.on('error', () => res(false));
      r.end();
    });
  }

  /** Stop berthd gracefully (containers keep running). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  }

  /** kill -9 berthd. */
  async kill9(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: `unix://${this.sock}`, BERTH_HOST: `unix://${this.sock}`, DOCKER_CONFIG: join(this.dir, 'docker-config') };
  }

  /** Run the real docker CLI against this daemon. */
  docker(args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): Promise<RunResult> {
    return runCmd('docker', args, { env: this.env, ...opts });
  }

  /** Run `berth` against this daemon. */
  berth(args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): Promise<RunResult> {
    return runCmd(process.execPath, [join(DIST, 'berth.mjs'), ...args], { env: this.env, ...opts });
  }

  /** Remove every container (killing conmon and the container), then the daemon and its files. */
  async cleanup(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      const ps = await this.docker(['ps', '-aq']).catch(() => undefined);
      const ids = ps?.stdout.split('\n').filter(Boolean) ?? [];
      if (ids.length) await this.docker(['rm', '-f', '-v', ...ids]).catch(() => undefined);
      await this.docker(['network', 'prune', '-f']).catch(() => undefined);
      await this.stop();
    }
    // anything left by a crashed daemon: containers in the runtime state dir, mounts under the test dir
    const runtimeRoot = join(this.execRoot, 'runtime');
    const list = spawnSync('runc', [`--root=${runtimeRoot}`, 'list', '-q'], { encoding: 'utf8' });
    for (const id of (list.stdout ?? '').split('\n').filter(Boolean)) spawnSync('runc', [`--root=${runtimeRoot}`, 'delete', '-f', id]);
    spawnSync('sh', ['-c', `for p in $(pgrep -f "conmon.*${this.dir}"); do kill -9 $p; done`]);
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(this.dir)).sort().reverse();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    await new IptablesFirewall(this.bridge, this.subnet).teardown().catch(() => {});
    await new IsolationFirewall(`BERTH-${this.bridge}-ISO`).teardown().catch(() => {});
    spawnSync('ip', ['link', 'del', this.bridge], { stdio: 'ignore' });
    // user networks a crashed daemon left: bridges named after this daemon's and their chains
    const links = spawnSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout ?? '';
    for (const br of links.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '').filter((b) => b.startsWith(`${this.bridge}u`))) {
      await new IptablesFirewall(br, '').teardown().catch(() => {});
      spawnSync('ip', ['link', 'del', br], { stdio: 'ignore' });
    }
    spawnSync('sh', ['-c', `find /sys/fs/cgroup -maxdepth 2 -type d -name '${this.cgroupParent.slice(1)}' -exec sh -c 'find "$1" -depth -type d -exec rmdir {} \\; 2>/dev/null' _ {} \\;`]);
    await rm(this.dir, { recursive: true, force: true });
  }
}

const usedOctets = new Set<string>();
/** A third octet for `<net>.x.0/24` (10.213 or 10.214) that this process has not used and no host route covers. */
function freeTestOctet(net = '10.213'): number {
  const routes = spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout ?? '';
  for (let i = 0; i < 1000; i++) {
    const x = 1 + Math.floor(Math.random() * 254);
    if (usedOctets.has(`${net}.${x}`) || routes.includes(`${net}.${x}.`)) continue;
    usedOctets.add(`${net}.${x}`);
    return x;
  }
  throw new Error(`no free ${net}.x.0/24 subnet for a test daemon`);
}

export function runCmd(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; timeout?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out; stdout=${stdout} stderr=${stderr}`));
    }, opts.timeout ?? 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
    p.stdin.end(opts.input);
  });
}

let busyboxTar: string | undefined;
/** A busybox:latest docker-save archive built from busybox-static (built once per process). */
export function busyboxArchive(): string {
  if (busyboxTar && existsSync(busyboxTar)) return busyboxTar;
  const dir = mkdtempSync('/tmp/berth-bb-');
  busyboxTar = join(dir, 'busybox.tar');
  const r = spawnSync(process.execPath, [join(DIST, 'busybox-image.mjs'), '-o', busyboxTar], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`busybox-image failed: ${r.stderr}`);
  process.on('exit', () => spawnSync('rm', ['-rf', dir]));
  return busyboxTar;
}

/** Start a daemon and load busybox. The caller registers `after(() => d.cleanup())` at suite level. */
export async function daemonWithBusybox(d: TestDaemon): Promise<TestDaemon> {
  await d.start();
  const r = await d.docker(['load', '-i', busyboxArchive()]);
  if (r.code !== 0) throw new Error(`docker load failed: ${r.stderr}`);
  return d;
}

export const randomSuffix = (): string => Math.random().toString(36).slice(2, 8);
