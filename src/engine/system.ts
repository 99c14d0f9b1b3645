import { readFile } from 'node:fs/promises';
import { cpus, hostname, totalmem, release, type } from 'node:os';
import type { ContainerService } from './containers.ts';
import type { ImageService } from './images.ts';
import type { VolumeService } from './volumes.ts';

export interface SystemFacts {
  version: string;
  apiVersion: string;
  minApiVersion: string;
  dataRoot: string;
  execRoot: string;
  storageDriver: string;
  runtimeName: string;
  cgroupVersion: 'v1' | 'v2';
  startedAt: Date;
  /** Registries allowed plain http / unverified TLS (loopback always is), and mirrors, for `docker info`. */
  insecureRegistries: string[];
  registryMirrors: string[];
}

export interface SystemInfo {
  facts: SystemFacts;
  containers: number;
  running: number;
  paused: number;
  stopped: number;
  images: number;
  ncpu: number;
  memTotal: number;
  name: string;
  kernel: string;
  os: string;
  osType: string;
  arch: string;
}

export class SystemService {
  constructor(
    private readonly facts: SystemFacts,
    private readonly containers: ContainerService,
    private readonly images: ImageService,
    private readonly volumes: VolumeService,
  ) {}

  async info(): Promise<SystemInfo> {
    const all = this.containers.list();
    const count = (s: string): number => all.filter((c) => c.state.status === s).length;
    const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? 'Linux';
    return {
      facts: this.facts, containers: all.length, running: count('running'), paused: count('paused'),
      stopped: all.length - count('running') - count('paused'), images: (await this.images.list()).length,
      ncpu: cpus().length, memTotal: totalmem(), name: hostname(), kernel: release(), os: pretty, osType: type().toLowerCase(),
      arch: process.arch === 'x64' ? 'x86_64' : process.arch,
    };
  }

  get version(): SystemFacts {
    return this.facts;
  }

  /** `docker system df`. */
  async df(): Promise<{ layersSize: number; images: Awaited<ReturnType<ImageService['list']>>; containers: { rec: ReturnType<ContainerService['list']>[number]; sizeRw: number }[]; volumes: { v: ReturnType<VolumeService['list']>[number]; size: number; refCount: number }[] }> {
    const images = await this.images.list();
    const containers = await Promise.all(this.containers.list().map(async (rec) => ({ rec, sizeRw: await this.containers.sizeRw(rec).catch(() => 0) })));
    const volumes = await Promise.all(this.volumes.list().map(async (v) => ({ v, size: await this.volumes.size(v), refCount: this.containers.volumeUsers(v.name).length })));
    return { layersSize: this.images.layersSize(), images, containers, volumes };
  }
}
