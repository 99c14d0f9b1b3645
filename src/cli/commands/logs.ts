import type { Command } from 'commander';
import { copyOutput } from '../../client/index.ts';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { getTimestamp } from '../opts.ts';

interface LogsFlags {
  follow?: boolean;
  tail: string;
  since?: string;
  until?: string;
  timestamps?: boolean;
  details?: boolean;
}

/** `logs [-f] [--tail N] [--since T] [--until T] [-t] CONTAINER`: stdout and stderr kept apart. */
export function registerLogs(parent: Command, ctx: CliContext, name = 'logs'): Command {
  const cmd = verb(parent, name, '[OPTIONS] CONTAINER', 'Fetch the logs of a container', { min: 1, max: 1 });
  cmd
    .option('-f, --follow', 'Follow log output')
    .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
    .option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('--until <string>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--details', 'Show extra details provided to logs');
  return action<LogsFlags>(cmd, async ([c = ''], o) => {
    // compat: docker inspects first to know whether the stream is multiplexed (no TTY).
    const info = await ctx.client.containerInspect(c);
    const now = new Date();
    const res = await ctx.client.containerLogs(info.Id ?? c, {
      follow: o.follow,
      tail: o.tail,
      since: o.since ? getTimestamp(o.since, now) : undefined,
      until: o.until ? getTimestamp(o.until, now) : undefined,
      timestamps: o.timestamps,
      details: o.details,
    });
    await copyOutput(res, ctx.io.stdout, ctx.io.stderr, !info.Config?.Tty);
  });
}
