import type { Command } from 'commander';
import { action, forEachArg, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { parseGoInt, valueOption } from '../opts.ts';

interface StopFlags {
  signal?: string;
  timeout?: number;
  time?: number;
}

/** `stop [-s SIGNAL] [-t SECONDS] CONTAINER...`: prints each name as given; exit 1 if any failed. */
export function registerStop(parent: Command, ctx: CliContext, name = 'stop'): Command {
  const cmd = verb(parent, name, '[OPTIONS] CONTAINER [CONTAINER...]', 'Stop one or more running containers', { min: 1 });
  cmd.option('-s, --signal <string>', 'Signal to send to the container');
  valueOption(cmd, '-t, --timeout <int>', 'Seconds to wait before killing the container', parseGoInt);
  valueOption(cmd, '--time <int>', 'Seconds to wait before killing the container (deprecated: use --timeout)', parseGoInt);
  return action<StopFlags>(cmd, async (args, o) => {
    const timeout = o.timeout ?? o.time;
    await forEachArg(ctx, args, async (c) => {
      await ctx.client.containerStop(c, { signal: o.signal, timeout });
      return c;
    });
  });
}
