import type { Command } from 'commander';
import { action, forEachArg, verb } from '../command.ts';
import type { CliContext } from '../context.ts';

/** `unpause CONTAINER...`. */
export function registerUnpause(parent: Command, ctx: CliContext, name = 'unpause'): Command {
  const cmd = verb(parent, name, 'CONTAINER [CONTAINER...]', 'Unpause all processes within one or more containers', { min: 1 });
  return action(cmd, async (args) => {
    await forEachArg(ctx, args, async (c) => {
      await ctx.client.containerUnpause(c);
      return c;
    });
  });
}
