import type { Command } from 'commander';
import type { ImageSearchResult } from '../../api/index.ts';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { registryAuthHeader } from '../docker-config.ts';
import { StatusError } from '../errors.ts';
import { ellipsis } from '../format/index.ts';
import { filterValue, listOption, parseFilters } from '../opts.ts';
import { renderList, type View } from '../views.ts';

export const SEARCH_TABLE = 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}';
export const SEARCH_HEADERS: Record<string, string> = { Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL' };

/** docker's searchContext: descriptions on one line, cut at 45 columns; `[OK]` for official ones (`true`/`false` in JSON). */
export function searchView(r: ImageSearchResult, trunc: boolean): View {
  let desc = (r.description ?? '').replace(/\n/g, ' ').replace(/\r/g, ' ');
  if (trunc) desc = ellipsis(desc, 45);
  const fields = { Name: r.name, Description: desc, StarCount: String(r.star_count ?? 0), IsOfficial: r.is_official ? '[OK]' : '' };
  return { ...fields, toJSON: () => ({ ...fields, IsOfficial: r.is_official ? 'true' : 'false' }) };
}

/** `search [--limit N] [-f F] [--no-trunc] [--format F] TERM`: the registry's `/v1/search`, through the daemon. */
export function registerSearch(parent: Command, ctx: CliContext): Command {
  const cmd = verb(parent, 'search', '[OPTIONS] TERM', 'Search Docker Hub for images', { min: 1, max: 1 });
  listOption(cmd, '-f, --filter <filter>', 'Filter output based on conditions provided', filterValue);
  cmd
    .option('--format <string>', 'Pretty-print search using a Go template')
    .option('--limit <int>', 'Max number of search results')
    .option('--no-trunc', "Don't truncate output");
  return action<{ filter: string[]; format?: string; limit?: string; trunc: boolean }>(cmd, async ([term = ''], o) => {
    let limit: number | undefined;
    if (o.limit !== undefined) {
      limit = Number(o.limit);
      if (!/^-?\d+$/.test(o.limit)) throw new StatusError(`invalid argument "${o.limit}" for "--limit" flag: strconv.ParseInt: parsing "${o.limit}": invalid syntax\n\nUsage:  ${ctx.programName} search [OPTIONS] TERM\n\nRun '${ctx.programName} search --help' for more information`, 125);
    }
    const results = await ctx.client.imageSearch(term, { limit: limit || undefined, filters: parseFilters(o.filter), auth: await registryAuthHeader(ctx, term) });
    ctx.out(renderList(o.format, SEARCH_TABLE, results.map((r) => searchView(r, o.trunc)), SEARCH_HEADERS));
  });
}
