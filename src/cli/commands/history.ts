import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { HISTORY_HEADERS, HISTORY_RAW_TABLE, HISTORY_TABLE, historyView, renderList } from '../views.ts';

/** `history [-H] [--no-trunc] [-q] [--format] IMAGE`. */
export function registerHistory(parent: Command, ctx: CliContext, name = 'history'): Command {
  const cmd = verb(parent, name, '[OPTIONS] IMAGE', 'Show the history of an image', { min: 1, max: 1 });
  cmd
    .option('-H, --human', 'Print sizes and dates in human readable format', true)
    .option('--no-human', 'Print sizes and dates as raw values')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .option('--format <string>', 'Format output using a custom template');
  return action<{ human: boolean; trunc: boolean; quiet?: boolean; format?: string }>(cmd, async ([img = ''], o) => {
    const history = await ctx.client.imageHistory(img);
    let format = o.format ?? '';
    if (o.quiet && (format === '' || format === 'table')) format = '{{.ID}}';
    else if (!o.human && (format === '' || format === 'table')) format = HISTORY_RAW_TABLE;
    const now = Date.now();
    ctx.out(renderList(format, HISTORY_TABLE, history.map((h) => historyView(h, { trunc: o.trunc, human: o.human, now })), HISTORY_HEADERS));
  });
}
