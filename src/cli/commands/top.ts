import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { tabwrite } from '../format/index.ts';

/** `top CONTAINER [ps OPTIONS]`: the daemon's ps table, tab-aligned. */
export function registerTop(parent: Command, ctx: CliContext, name = 'top'): Command {
  const cmd = verb(parent, name, 'CONTAINER [ps OPTIONS]', 'Display the running processes of a container', { min: 1 }).passThroughOptions();
  return action(cmd, async ([c = '', ...psArgs]) => {
    const top = await ctx.client.containerTop(c, psArgs.join(' ') || undefined);
    const rows = [top.Titles ?? [], ...(top.Processes ?? [])];
    ctx.out(tabwrite(rows, { minwidth: 20, padding: 3 }));
  });
}
