import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { filterValue, listOption, parseFilters } from '../opts.ts';
import { IMAGES_DIGEST_TABLE, IMAGES_HEADERS, IMAGES_TABLE, imageViews, renderList } from '../views.ts';

interface ImagesFlags {
  all?: boolean;
  quiet?: boolean;
  digests?: boolean;
  trunc: boolean;
  filter: string[];
  format?: string;
}

/** `images [REPOSITORY[:TAG]]`: REPOSITORY TAG IMAGE ID CREATED SIZE, one row per tag. */
export function registerImages(parent: Command, ctx: CliContext, name = 'images', aliases: string[] = []): Command {
  const cmd = verb(parent, name, '[OPTIONS] [REPOSITORY[:TAG]]', 'List images', { max: 1 }).aliases(aliases);
  cmd
    .option('-a, --all', 'Show all images (default hides intermediate images)')
    .option('-q, --quiet', 'Only show image IDs')
    .option('--digests', 'Show digests')
    .option('--no-trunc', "Don't truncate output")
    .option('--format <string>', 'Format output using a custom template');
  listOption(cmd, '-f, --filter <filter>', 'Filter output based on conditions provided', filterValue);
  return action<ImagesFlags>(cmd, async ([ref], o) => {
    const filters = parseFilters(o.filter);
    if (ref) (filters['reference'] ??= []).push(ref);
    let format = o.format ?? '';
    const isTable = format === '' || format === 'table';
    if (o.quiet && isTable) format = '{{.ID}}';
    else if (isTable) format = o.digests ? IMAGES_DIGEST_TABLE : IMAGES_TABLE;
    const images = await ctx.client.imageList({ all: o.all, filters });
    const now = Date.now();
    const views = images.flatMap((img) => imageViews(img, { trunc: o.trunc, digests: !!o.digests || format.includes('.Digest'), now }));
    ctx.out(renderList(format, IMAGES_TABLE, views, IMAGES_HEADERS));
  });
}
