import type { Command } from 'commander';
import type { EventMessage } from '../../api/index.ts';
import { exactTimeNano } from '../../client/index.ts';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { parseTemplate, render } from '../format/index.ts';
import { filterValue, getTimestamp, listOption, parseFilters } from '../opts.ts';

/** Go's jsonmessage.RFC3339NanoFixed in local time: `2006-01-02T15:04:05.000000000Z07:00`. */
export function rfc3339NanoFixed(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const nanos = String(timeNano % 1_000_000_000n).padStart(9, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${nanos}${zone}`;
}

/** One event as `docker events` prints it without --format. */
export function prettyEvent(e: EventMessage): string {
  let s = '';
  const exact = exactTimeNano(e);
  if (exact) s += `${rfc3339NanoFixed(exact)} `;
  else if (e.time) s += `${rfc3339NanoFixed(BigInt(e.time) * 1_000_000_000n)} `;
  s += `${e.Type ?? ''} ${e.Action ?? ''} ${e.Actor?.ID ?? ''}`;
  const attrs = Object.entries(e.Actor?.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (attrs.length) s += ` (${attrs.map(([k, v]) => `${k}=${v}`).join(', ')})`;
  return `${s}\n`;
}

/** `events [--since] [--until] [-f] [--format]`: streams until --until or until interrupted. */
export function registerEvents(parent: Command, ctx: CliContext, name = 'events'): Command {
  const cmd = verb(parent, name, '[OPTIONS]', 'Get real time events from the server', { max: 0 });
  cmd
    .option('--since <string>', 'Show all events created since timestamp')
    .option('--until <string>', 'Stream events until this timestamp')
    .option('--format <string>', 'Format output using a custom template');
  listOption(cmd, '-f, --filter <filter>', 'Filter output based on conditions provided', filterValue);
  return action<{ since?: string; until?: string; format?: string; filter: string[] }>(cmd, async (_args, o) => {
    const now = new Date();
    const tpl = o.format && o.format !== 'json' ? parseTemplate(o.format.replace(/\\t|\\n/g, (m) => (m === '\\t' ? '\t' : '\n'))) : undefined;
    const events = await ctx.client.events({
      since: o.since ? getTimestamp(o.since, now) : undefined,
      until: o.until ? getTimestamp(o.until, now) : undefined,
      filters: parseFilters(o.filter),
    });
    for await (const e of events) {
      if (tpl) ctx.out(`${render(tpl, e)}\n`);
      else if (o.format === 'json') ctx.out(`${JSON.stringify(e)}\n`);
      else ctx.out(prettyEvent(e));
    }
  });
}
