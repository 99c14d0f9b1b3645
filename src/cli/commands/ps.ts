import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { filterValue, listOption, parseFilters, parseGoInt, valueOption } from '../opts.ts';
import { PS_HEADERS, PS_TABLE, containerView, renderList } from '../views.ts';

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  last: number;
  latest?: boolean;
  size?: boolean;
  trunc: boolean;
  filter: string[];
  format?: string;
}

/** `ps`: docker's table (CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES), -q, --format. */
export function registerPs(parent: Command, ctx: CliContext, name = 'ps', aliases: string[] = []): Command {
  const cmd = verb(parent, name, '[OPTIONS]', 'List containers', { max: 0 }).aliases(aliases);
  cmd
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-q, --quiet', 'Only display container IDs')
    .option('-l, --latest', 'Show the latest created container (includes all states)')
    .option('-s, --size', 'Display total file sizes')
    .option('--no-trunc', "Don't truncate output")
    .option('--format <string>', 'Format output using a custom template');
  valueOption(cmd, '-n, --last <int>', 'Show n last created containers (includes all states)', parseGoInt, -1);
  listOption(cmd, '-f, --filter <filter>', 'Filter output based on conditions provided', filterValue);
  return action<PsFlags>(cmd, async (_args, o) => {
    let limit = o.last;
    if (o.latest && limit === -1) limit = 1;
    let format = o.format ?? '';
    if (o.quiet && (format === '' || format === 'table')) format = '{{.ID}}';
    else if (format === '' || format === 'table') format = o.size ? `${PS_TABLE}\t{{.Size}}` : PS_TABLE;
    const size = o.size || format.includes('.Size');
    const list = await ctx.client.containerList({ all: o.all, limit: limit > 0 ? limit : undefined, size, filters: parseFilters(o.filter) });
    const now = Date.now();
    ctx.out(renderList(format, PS_TABLE, list.map((c) => containerView(c, { trunc: o.trunc, now })), PS_HEADERS));
  });
}
