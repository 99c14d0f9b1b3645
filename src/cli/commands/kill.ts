import type { Command } from 'commander';
import { action, forEachArg, verb } from '../command.ts';
import type { CliContext } from '../context.ts';

/** `kill [-s SIGNAL] CONTAINER...`: the daemon's default signal is SIGKILL. */
export function registerKill(parent: Command, ctx: CliContext, name = 'kill'): Command {
  const cmd = verb(parent, name, '[OPTIONS] CONTAINER [CONTAINER...]', 'Kill one or more running containers', { min: 1 });
  cmd.option('-s, --signal <string>', 'Signal to send to the container');
  return action<{ signal?: string }>(cmd, async (args, o) => {
    await forEachArg(ctx, args, async (c) => {
      await ctx.client.containerKill(c, o.signal);
      return c;
    });
  });
}
