import type { Command } from 'commander';
import { registerBuild } from './build.ts';
import { action, group, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { humanSize } from '../format/index.ts';
import { filterValue, listOption, parseFilters } from '../opts.ts';
import { confirm } from '../prompt.ts';
import { registerHistory } from './history.ts';
import { registerImages } from './images.ts';
import { registerImport } from './import.ts';
import { registerInspect } from './inspect.ts';
import { registerLoad } from './load.ts';
import { registerPull } from './pull.ts';
import { registerPush } from './push.ts';
import { registerRmi } from './rmi.ts';
import { registerSave } from './save.ts';
import { registerTag } from './tag.ts';

/** `image prune`, printing docker's `Deleted Images:` report. */
export async function pruneImages(ctx: CliContext, o: { all?: boolean; force?: boolean; filter: string[] }): Promise<void> {
  const warning = o.all
    ? 'WARNING! This will remove all images without at least one container associated to them.'
    : 'WARNING! This will remove all dangling images.';
  if (!o.force && !(await confirm(ctx, warning))) return;
  const filters = parseFilters(o.filter);
  filters['dangling'] = [o.all ? 'false' : 'true'];
  const report = await ctx.client.imagePrune(filters);
  let out = '';
  if (report.ImagesDeleted?.length) {
    out = 'Deleted Images:\n';
    for (const d of report.ImagesDeleted) {
      if (d.Untagged) out += `untagged: ${d.Untagged}\n`;
      if (d.Deleted) out += `deleted: ${d.Deleted}\n`;
    }
    out += '\n';
  }
  ctx.out(`${out}Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0, 4)}\n`);
}

/** `image history|import|inspect|load|ls|prune|pull|rm|save|tag`. */
export function registerImage(parent: Command, ctx: CliContext): Command {
  const img = group(parent, 'image', 'Manage images');
  registerBuild(img, ctx);
  registerHistory(img, ctx);
  registerImport(img, ctx);
  registerInspect(img, ctx, 'inspect', 'image');
  registerLoad(img, ctx);
  registerImages(img, ctx, 'ls', ['list']);
  const prune = verb(img, 'prune', '[OPTIONS]', 'Remove unused images', { max: 0 });
  prune.option('-a, --all', 'Remove all unused images, not just dangling ones').option('-f, --force', 'Do not prompt for confirmation');
  listOption(prune, '--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', filterValue);
  action<{ all?: boolean; force?: boolean; filter: string[] }>(prune, (_args, o) => pruneImages(ctx, o));
  registerPull(img, ctx);
  registerPush(img, ctx);
  registerRmi(img, ctx, 'rm', ['remove']);
  registerSave(img, ctx);
  registerTag(img, ctx);
  return img;
}
