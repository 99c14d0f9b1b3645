import type { Command } from 'commander';
import { action, group, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { humanSize } from '../format/index.ts';
import { filterValue, listOption, parseFilters } from '../opts.ts';
import { confirm } from '../prompt.ts';
import { registerAttach } from './attach.ts';
import { registerCommit } from './commit.ts';
import { registerCp } from './cp.ts';
import { registerCreate } from './create.ts';
import { registerDiff } from './diff.ts';
import { registerExec } from './exec.ts';
import { registerExport } from './export.ts';
import { registerInspect } from './inspect.ts';
import { registerKill } from './kill.ts';
import { registerLogs } from './logs.ts';
import { registerPause } from './pause.ts';
import { registerPort } from './port.ts';
import { registerPs } from './ps.ts';
import { registerRename } from './rename.ts';
import { registerRestart } from './restart.ts';
import { registerRm } from './rm.ts';
import { registerRun } from './run.ts';
import { registerStart } from './start.ts';
import { registerStats } from './stats.ts';
import { registerStop } from './stop.ts';
import { registerTop } from './top.ts';
import { registerUnpause } from './unpause.ts';
import { registerUpdate } from './update.ts';
import { registerWait } from './wait.ts';

/** `container prune`, printing docker's `Deleted Containers:` report. */
export async function pruneContainers(ctx: CliContext, o: { force?: boolean; filter: string[] }): Promise<void> {
  if (!o.force && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.'))) return;
  const report = await ctx.client.containerPrune(parseFilters(o.filter));
  let out = '';
  if (report.ContainersDeleted?.length) out = `Deleted Containers:\n${report.ContainersDeleted.map((c) => `${c}\n`).join('')}\n`;
  ctx.out(`${out}Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0, 4)}\n`);
}

/** `container <verb>`: the management form of the container verbs, plus `prune`. */
export function registerContainer(parent: Command, ctx: CliContext): Command {
  const c = group(parent, 'container', 'Manage containers');
  registerAttach(c, ctx);
  registerCommit(c, ctx);
  registerCp(c, ctx);
  registerCreate(c, ctx);
  registerDiff(c, ctx);
  registerExec(c, ctx);
  registerExport(c, ctx);
  registerInspect(c, ctx, 'inspect', 'container');
  registerKill(c, ctx);
  registerLogs(c, ctx);
  registerPs(c, ctx, 'ls', ['ps', 'list']);
  registerPause(c, ctx);
  registerPort(c, ctx);
  const prune = verb(c, 'prune', '[OPTIONS]', 'Remove all stopped containers', { max: 0 });
  prune.option('-f, --force', 'Do not prompt for confirmation');
  listOption(prune, '--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', filterValue);
  action<{ force?: boolean; filter: string[] }>(prune, (_args, o) => pruneContainers(ctx, o));
  registerRename(c, ctx);
  registerRestart(c, ctx);
  registerRm(c, ctx);
  registerRun(c, ctx);
  registerStart(c, ctx);
  registerStats(c, ctx);
  registerStop(c, ctx);
  registerTop(c, ctx);
  registerUnpause(c, ctx);
  registerUpdate(c, ctx);
  registerWait(c, ctx);
  return c;
}
