import type { Command } from 'commander';
import { action, forEachArg, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { parseGoInt, valueOption } from '../opts.ts';

/** `restart [-s SIGNAL] [-t SECONDS] CONTAINER...`. */
export function registerRestart(parent: Command, ctx: CliContext, name = 'restart'): Command {
  const cmd = verb(parent, name, '[OPTIONS] CONTAINER [CONTAINER...]', 'Restart one or more containers', { min: 1 });
  cmd.option('-s, --signal <string>', 'Signal to send to the container');
  valueOption(cmd, '-t, --timeout <int>', 'Seconds to wait before killing the container', parseGoInt);
  valueOption(cmd, '--time <int>', 'Seconds to wait before killing the container (deprecated: use --timeout)', parseGoInt);
  return action<{ signal?: string; timeout?: number; time?: number }>(cmd, async (args, o) => {
    await forEachArg(ctx, args, async (c) => {
      await ctx.client.containerRestart(c, { signal: o.signal, timeout: o.timeout ?? o.time });
      return c;
    });
  });
}
