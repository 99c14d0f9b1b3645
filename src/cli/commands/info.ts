import os from 'node:os';
import type { Command } from 'commander';
import type { SystemInfo } from '../../api/index.ts';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { bytesSize } from '../format/units.ts';
import { BERTH_VERSION } from '../version.ts';

/** The server part of `docker info`, in its layout. */
export function formatInfo(info: SystemInfo): string {
  const l: string[] = [];
  const add = (s: string): number => l.push(s);
  add(` Containers: ${info.Containers ?? 0}`);
  add(`  Running: ${info.ContainersRunning ?? 0}`);
  add(`  Paused: ${info.ContainersPaused ?? 0}`);
  add(`  Stopped: ${info.ContainersStopped ?? 0}`);
  add(` Images: ${info.Images ?? 0}`);
  add(` Server Version: ${info.ServerVersion ?? ''}`);
  add(` Storage Driver: ${info.Driver ?? ''}`);
  for (const [k, v] of info.DriverStatus ?? []) add(`  ${k}: ${v}`);
  add(` Logging Driver: ${info.LoggingDriver ?? ''}`);
  add(` Cgroup Driver: ${info.CgroupDriver ?? ''}`);
  add(` Cgroup Version: ${info.CgroupVersion ?? ''}`);
  add(' Plugins:');
  add(`  Volume: ${(info.Plugins?.Volume ?? []).join(' ')}`);
  add(`  Network: ${(info.Plugins?.Network ?? []).join(' ')}`);
  add(`  Log: ${(info.Plugins?.Log ?? []).join(' ')}`);
  add(` Swarm: ${info.Swarm?.LocalNodeState || 'inactive'}`);
  add(` Runtimes: ${Object.keys(info.Runtimes ?? {}).sort().join(' ')}`);
  add(` Default Runtime: ${info.DefaultRuntime ?? ''}`);
  add(` Init Binary: ${info.InitBinary ?? ''}`);
  add(` containerd version: ${info.ContainerdCommit?.ID ?? ''}`);
  add(` runc version: ${info.RuncCommit?.ID ?? ''}`);
  add(` init version: ${info.InitCommit?.ID ?? ''}`);
  if (info.SecurityOptions?.length) {
    add(' Security Options:');
    for (const o of info.SecurityOptions) {
      const parts = o.split(',');
      for (const [i, p] of parts.entries()) {
        const [k, v] = p.split('=');
        if (i === 0) add(`  ${k === 'name' ? v : p}`);
        else add(`   ${(k ?? '').charAt(0).toUpperCase()}${(k ?? '').slice(1)}: ${v ?? ''}`);
      }
    }
  }
  add(` Kernel Version: ${info.KernelVersion ?? ''}`);
  add(` Operating System: ${info.OperatingSystem ?? ''}`);
  add(` OSType: ${info.OSType ?? ''}`);
  add(` Architecture: ${info.Architecture ?? ''}`);
  add(` CPUs: ${info.NCPU ?? 0}`);
  add(` Total Memory: ${bytesSize(info.MemTotal ?? 0)}`);
  add(` Name: ${info.Name ?? ''}`);
  add(` ID: ${info.ID ?? ''}`);
  add(` Docker Root Dir: ${info.DockerRootDir ?? ''}`);
  add(` Debug Mode: ${info.Debug ? 'true' : 'false'}`);
  if (info.Labels?.length) {
    add(' Labels:');
    for (const lb of info.Labels) add(`  ${lb}`);
  }
  add(` Experimental: ${info.ExperimentalBuild ? 'true' : 'false'}`);
  const insecure = info.RegistryConfig?.InsecureRegistryCIDRs ?? [];
  if (insecure.length) {
    add(' Insecure Registries:');
    for (const r of insecure) add(`  ${r}`);
  }
  add(` Live Restore Enabled: ${info.LiveRestoreEnabled ? 'true' : 'false'}`);
  let s = `${l.join('\n')}\n`;
  if (info.Warnings?.length) s += `\n${info.Warnings.join('\n')}\n`;
  return s;
}

function clientInfo(ctx: CliContext): Record<string, unknown> {
  return { Debug: false, Version: BERTH_VERSION, Context: 'default', Plugins: [], Warnings: null, Os: os.platform(), Arch: os.arch() };
}

/** `info [--format]`: client and server summaries; the server part fails with exit 1 when unreachable. */
export function registerInfo(parent: Command, ctx: CliContext, name = 'info'): Command {
  const cmd = verb(parent, name, '[OPTIONS]', 'Display system-wide information', { max: 0 });
  cmd.option('-f, --format <string>', 'Format output using a custom template');
  return action<{ format?: string }>(cmd, async (_args, o) => {
    if (o.format) {
      const info = await ctx.client.info();
      const data = { ...info, ClientInfo: clientInfo(ctx) };
      if (o.format === 'json') ctx.out(`${JSON.stringify(data)}\n`);
      else {
        // Loaded here: the template engine is most of this verb's code, and only --format uses it.
        const { parseTemplate, render } = await import('../format/template.ts');
        ctx.out(`${render(parseTemplate(o.format), data)}\n`);
      }
      return;
    }
    ctx.out(`Client:\n Version:    ${BERTH_VERSION}\n Context:    default\n Debug Mode: false\n\nServer:\n`);
    const info = await ctx.client.info();
    ctx.out(formatInfo(info));
  });
}
