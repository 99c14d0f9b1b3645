import type { Command } from 'commander';
import type { ContainerStats } from '../../api/index.ts';
import { describeError, action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { StatusError } from '../errors.ts';
import { STATS_HEADERS, STATS_TABLE, renderList, statsEntry, statsView, type StatsEntry } from '../views.ts';

interface StatsFlags {
  all?: boolean;
  stream: boolean;
  trunc: boolean;
  format?: string;
}

/**
 * `stats [-a] [--no-stream] [--no-trunc] [--format] [CONTAINER...]`. With --no-stream prints one
 * table; otherwise redraws it (clear screen, home) on every sample until all streams end.
 */
export function registerStats(parent: Command, ctx: CliContext, name = 'stats'): Command {
  const cmd = verb(parent, name, '[OPTIONS] [CONTAINER...]', 'Display a live stream of container(s) resource usage statistics');
  cmd
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('--no-stream', 'Disable streaming stats and only pull the first result')
    .option('--no-trunc', "Don't truncate output")
    .option('--format <string>', 'Format output using a custom template');
  return action<StatsFlags>(cmd, async (args, o) => {
    let targets = args;
    if (!targets.length) {
      const list = await ctx.client.containerList({ all: o.all });
      targets = list.map((c) => c.Id ?? '').filter(Boolean);
    }
    const render = (entries: StatsEntry[]): string =>
      renderList(o.format, STATS_TABLE, entries.map((e) => statsView(e, { trunc: o.trunc })), STATS_HEADERS);

    if (!o.stream) {
      const entries: StatsEntry[] = [];
      const errors: string[] = [];
      for (const t of targets) {
        try {
          entries.push(statsEntry(t, await ctx.client.containerStatsOnce(t)));
        } catch (err) {
          if (args.length) errors.push(describeError(err));
        }
      }
      if (errors.length) throw new StatusError(errors.join('\n'), 1);
      ctx.out(render(entries));
      return;
    }

    const latest = new Map<string, StatsEntry>(targets.map((t) => [t, { container: t, name: '', id: '', cpuPercent: 0, memory: 0, memoryLimit: 0, memoryPercent: 0, netRx: 0, netTx: 0, blockRead: 0, blockWrite: 0, pids: 0, invalid: true }]));
    const draw = (): void => {
      // compat: docker clears the screen and homes the cursor before each redraw.
      ctx.out(`\x1b[2J\x1b[H${render([...latest.values()])}`);
    };
    let pending: NodeJS.Timeout | undefined;
    const schedule = (): void => {
      pending ??= setTimeout(() => {
        pending = undefined;
        draw();
      }, 100);
    };
    await Promise.all(
      targets.map(async (t) => {
        let stream: AsyncIterable<ContainerStats>;
        try {
          stream = await ctx.client.containerStats(t);
        } catch (err) {
          if (args.length) throw err;
          return;
        }
        for await (const s of stream) {
          latest.set(t, statsEntry(t, s));
          schedule();
        }
      }),
    );
    if (pending) clearTimeout(pending);
    draw();
  });
}
