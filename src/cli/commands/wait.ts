import type { Command } from 'commander';
import { action, forEachArg, verb } from '../command.ts';
import type { CliContext } from '../context.ts';

/** `wait CONTAINER...`: prints each exit code. */
export function registerWait(parent: Command, ctx: CliContext, name = 'wait'): Command {
  const cmd = verb(parent, name, 'CONTAINER [CONTAINER...]', 'Block until one or more containers stop, then print their exit codes', { min: 1 });
  return action(cmd, async (args) => {
    await forEachArg(ctx, args, async (c) => {
      const res = await ctx.client.containerWait(c);
      if (res.Error?.Message) throw new Error(res.Error.Message);
      return String(res.StatusCode);
    });
  });
}
