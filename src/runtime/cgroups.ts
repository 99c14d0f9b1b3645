import { readFile, readdir, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface CgroupStats {
  cpuUsageNs: number;
  perCpuNs: number[];
  userNs: number;
  systemNs: number;
  memoryUsage: number;
  memoryLimit: number;
  memoryStats: Record<string, number>;
  pids: number;
  pidsLimit: number;
  blkioRead: number;
  blkioWrite: number;
  throttledPeriods: number;
  throttledTime: number;
  periods: number;
}

const CG = '/sys/fs/cgroup';

/** Which hierarchy the host uses: 'v2' when /sys/fs/cgroup is cgroup2, else 'v1' (including hybrid). */
export async function cgroupVersion(): Promise<'v1' | 'v2'> {
  try {
    await stat(join(CG, 'cgroup.controllers'));
    return 'v2';
  } catch {
    return 'v1';
  }
}

const num = async (p: string): Promise<number> => {
  try {
    const t = (await readFile(p, 'utf8')).trim();
    return t === 'max' ? 0 : Number(t);
  } catch {
    return 0;
  }
};
const kv = async (p: string): Promise<Record<string, number>> => {
  const out: Record<string, number> = {};
  try {
    for (const line of (await readFile(p, 'utf8')).split('\n')) {
      const [k, v] = line.split(' ');
      if (k && v !== undefined) out[k] = Number(v);
    }
  } catch {
    /* controller missing */
  }
  return out;
};

/** Resource usage of the cgroup at `path` (an absolute cgroupsPath such as /berth/<id>). */
export async function readCgroupStats(path: string, version: 'v1' | 'v2'): Promise<CgroupStats> {
  if (version === 'v2') {
    const d = join(CG, path);
    const cpu = await kv(join(d, 'cpu.stat'));
    const mem = await kv(join(d, 'memory.stat'));
    const io = await readFile(join(d, 'io.stat'), 'utf8').catch(() => '');
    let r = 0;
    let w = 0;
    for (const m of io.matchAll(/rbytes=(\d+) wbytes=(\d+)/g)) {
      r += Number(m[1]);
      w += Number(m[2]);
    }
    const limit = await num(join(d, 'memory.max'));
    return {
      cpuUsageNs: (cpu.usage_usec ?? 0) * 1000, perCpuNs: [], userNs: (cpu.user_usec ?? 0) * 1000, systemNs: (cpu.system_usec ?? 0) * 1000,
      memoryUsage: await num(join(d, 'memory.current')), memoryLimit: limit, memoryStats: mem,
      pids: await num(join(d, 'pids.current')), pidsLimit: await num(join(d, 'pids.max')), blkioRead: r, blkioWrite: w,
      throttledPeriods: cpu.nr_throttled ?? 0, throttledTime: (cpu.throttled_usec ?? 0) * 1000, periods: cpu.nr_periods ?? 0,
    };
  }
  const c = (ctrl: string, f: string): string => join(CG, ctrl, path, f);
  const perCpu = (await readFile(c('cpuacct', 'cpuacct.usage_percpu'), 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean).map(Number);
  const cpuStat = await kv(c('cpuacct', 'cpuacct.stat'));
  const throttle = await kv(c('cpu', 'cpu.stat'));
  const hz = 100; // USER_HZ
  let r = 0;
  let w = 0;
  const blk = await readFile(c('blkio', 'blkio.throttle.io_service_bytes'), 'utf8').catch(() => '');
  for (const line of blk.split('\n')) {
    const m = /^\S+ (Read|Write) (\d+)$/.exec(line);
    if (m?.[1] === 'Read') r += Number(m[2]);
    else if (m?.[1] === 'Write') w += Number(m[2]);
  }
  return {
    cpuUsageNs: await num(c('cpuacct', 'cpuacct.usage')), perCpuNs: perCpu,
    userNs: ((cpuStat.user ?? 0) * 1e9) / hz, systemNs: ((cpuStat.system ?? 0) * 1e9) / hz,
    memoryUsage: await num(c('memory', 'memory.usage_in_bytes')), memoryLimit: await num(c('memory', 'memory.limit_in_bytes')),
    memoryStats: await kv(c('memory', 'memory.stat')),
    pids: await num(c('pids', 'pids.current')), pidsLimit: await num(c('pids', 'pids.max')),
    blkioRead: r, blkioWrite: w,
    throttledPeriods: throttle.nr_throttled ?? 0, throttledTime: throttle.throttled_time ?? 0, periods: throttle.nr_periods ?? 0,
  };
}

/** Remove the container's cgroup directories (runc leaves the parents); missing ones are fine. */
export async function removeCgroup(path: string, version: 'v1' | 'v2'): Promise<void> {
  const dirs = version === 'v2' ? [join(CG, path)] : (await readdir(CG).catch(() => [] as string[])).map((ctrl) => join(CG, ctrl, path));
  await Promise.all(dirs.map((d) => rmdir(d).catch(() => {})));
}

/** True when the container's memory cgroup recorded an OOM kill (v1 memory.oom_control, v2 memory.events). */
export async function cgroupOomKilled(path: string, version: 'v1' | 'v2'): Promise<boolean> {
  if (version === 'v2') return ((await kv(join(CG, path, 'memory.events'))).oom_kill ?? 0) > 0;
  return ((await kv(join(CG, 'memory', path, 'memory.oom_control'))).oom_kill ?? 0) > 0;
}

/** Names of the capabilities in this process's bounding set (`CapBnd` of /proc/self/status), given the kernel's names by bit. */
export async function boundingCapabilities(namesByBit: readonly string[]): Promise<Set<string>> {
  const status = await readFile('/proc/self/status', 'utf8');
  const bits = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  return new Set(namesByBit.filter((_n, i) => (bits >> BigInt(i)) & 1n));
}
