import type { Command } from 'commander';
import type { ContainerUpdateRequest } from '../../api/index.ts';
import { action, forEachArg, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { memSwapBytes, nanoCpus, parseGoInt, ramInBytes, valueOption } from '../opts.ts';
import { parseRestartPolicy } from '../run-flags.ts';

interface UpdateFlags {
  blkioWeight?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuRtPeriod?: number;
  cpuRtRuntime?: number;
  cpuShares?: number;
  cpus?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  memory?: number;
  memoryReservation?: number;
  memorySwap?: number;
  pidsLimit?: number;
  restart?: string;
}

/** The update body as docker CLI 28 sends it: every field, zero meaning "unchanged". */
export function buildUpdateRequest(o: UpdateFlags): ContainerUpdateRequest {
  return {
    CpuShares: o.cpuShares ?? 0,
    Memory: o.memory ?? 0,
    NanoCpus: o.cpus ?? 0,
    CgroupParent: '',
    BlkioWeight: o.blkioWeight ?? 0,
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: o.cpuPeriod ?? 0,
    CpuQuota: o.cpuQuota ?? 0,
    CpuRealtimePeriod: o.cpuRtPeriod ?? 0,
    CpuRealtimeRuntime: o.cpuRtRuntime ?? 0,
    CpusetCpus: o.cpusetCpus ?? '',
    CpusetMems: o.cpusetMems ?? '',
    Devices: null,
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: o.memoryReservation ?? 0,
    MemorySwap: o.memorySwap ?? 0,
    MemorySwappiness: null,
    OomKillDisable: null,
    PidsLimit: o.pidsLimit ?? null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    RestartPolicy: o.restart ? parseRestartPolicy(o.restart) : { Name: '', MaximumRetryCount: 0 },
  };
}

/** `update [OPTIONS] CONTAINER...`: prints each name; exit 1 if any failed. */
export function registerUpdate(parent: Command, ctx: CliContext, name = 'update'): Command {
  const cmd = verb(parent, name, '[OPTIONS] CONTAINER [CONTAINER...]', 'Update configuration of one or more containers', { min: 1 });
  valueOption(cmd, '--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable', parseGoInt);
  valueOption(cmd, '--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period', parseGoInt);
  valueOption(cmd, '--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota', parseGoInt);
  valueOption(cmd, '--cpu-rt-period <int>', 'Limit the CPU real-time period in microseconds', parseGoInt);
  valueOption(cmd, '--cpu-rt-runtime <int>', 'Limit the CPU real-time runtime in microseconds', parseGoInt);
  valueOption(cmd, '-c, --cpu-shares <int>', 'CPU shares (relative weight)', parseGoInt);
  valueOption(cmd, '--cpus <decimal>', 'Number of CPUs', nanoCpus);
  cmd.option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)');
  cmd.option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)');
  valueOption(cmd, '-m, --memory <bytes>', 'Memory limit', ramInBytes);
  valueOption(cmd, '--memory-reservation <bytes>', 'Memory soft limit', ramInBytes);
  valueOption(cmd, '--memory-swap <bytes>', "Swap limit equal to memory plus swap: -1 to enable unlimited swap", memSwapBytes);
  valueOption(cmd, '--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)', parseGoInt);
  cmd.option('--restart <string>', 'Restart policy to apply when a container exits');
  return action<UpdateFlags>(cmd, async (args, o) => {
    const body = buildUpdateRequest(o);
    await forEachArg(ctx, args, async (c) => {
      const res = await ctx.client.containerUpdate(c, body);
      for (const w of res?.Warnings ?? []) ctx.err(`${w}\n`);
      return c;
    });
  });
}
