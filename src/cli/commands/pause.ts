import type { Command } from 'commander';
import { action, forEachArg, verb } from '../command.ts';
import type { CliContext } from '../context.ts';

/** `pause CONTAINER...`. */
export function registerPause(parent: Command, ctx: CliContext, name = 'pause'): Command {
  const cmd = verb(parent, name, 'CONTAINER [CONTAINER...]', 'Pause all processes within one or more containers', { min: 1 });
  return action(cmd, async (args) => {
    await forEachArg(ctx, args, async (c) => {
      await ctx.client.containerPause(c);
      return c;
    });
  });
}
