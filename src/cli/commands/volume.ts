import type { Command } from 'commander';
import { action, forEachArg, group, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { humanSize } from '../format/index.ts';
import { filterValue, keyValueMap, listOption, parseFilters } from '../opts.ts';
import { confirm } from '../prompt.ts';
import { VOLUME_HEADERS, VOLUME_TABLE, renderList, volumeView } from '../views.ts';
import { registerInspect } from './inspect.ts';

/** `volume create|ls|inspect|rm|prune`. */
export function registerVolume(parent: Command, ctx: CliContext): Command {
  const vol = group(parent, 'volume', 'Manage volumes');

  const create = verb(vol, 'create', '[OPTIONS] [VOLUME]', 'Create a volume', { max: 1 });
  create.option('-d, --driver <string>', 'Specify volume driver name', 'local').option('--name <string>', 'Specify volume name');
  listOption(create, '-o, --opt <map>', 'Set driver specific options');
  listOption(create, '--label <list>', 'Set metadata for a volume');
  action<{ driver: string; name?: string; opt: string[]; label: string[] }>(create, async ([name], o) => {
    if (name && o.name && name !== o.name) {
      throw new Error(`conflicting options: cannot specify a volume-name through both --name and as a positional arg`);
    }
    const v = await ctx.client.volumeCreate({ Name: name ?? o.name ?? '', Driver: o.driver, DriverOpts: keyValueMap(o.opt), Labels: keyValueMap(o.label) });
    ctx.out(`${v.Name}\n`);
  });

  const ls = verb(vol, 'ls', '[OPTIONS]', 'List volumes', { max: 0 }).aliases(['list']);
  ls.option('-q, --quiet', 'Only display volume names').option('--format <string>', 'Format output using a custom template');
  listOption(ls, '-f, --filter <filter>', "Provide filter values (e.g. 'dangling=true')", filterValue);
  action<{ quiet?: boolean; format?: string; filter: string[] }>(ls, async (_args, o) => {
    const res = await ctx.client.volumeList({ filters: parseFilters(o.filter) });
    let format = o.format ?? '';
    if (o.quiet && (format === '' || format === 'table')) format = '{{.Name}}';
    const vols = [...(res.Volumes ?? [])].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    ctx.out(renderList(format, VOLUME_TABLE, vols.map(volumeView), VOLUME_HEADERS));
  });

  registerInspect(vol, ctx, 'inspect', 'volume');

  const rm = verb(vol, 'rm', '[OPTIONS] VOLUME [VOLUME...]', 'Remove one or more volumes', { min: 1 }).aliases(['remove']);
  rm.option('-f, --force', 'Force the removal of one or more volumes');
  action<{ force?: boolean }>(rm, async (args, o) => {
    await forEachArg(ctx, args, async (v) => {
      await ctx.client.volumeRemove(v, { force: o.force });
      return v;
    });
  });

  const prune = verb(vol, 'prune', '[OPTIONS]', 'Remove unused local volumes', { max: 0 });
  prune.option('-a, --all', 'Remove all unused volumes, not just anonymous ones').option('-f, --force', 'Do not prompt for confirmation');
  listOption(prune, '--filter <filter>', "Provide filter values (e.g. 'label=<label>')", filterValue);
  action<{ all?: boolean; force?: boolean; filter: string[] }>(prune, async (_args, o) => {
    const warning = o.all
      ? 'WARNING! This will remove all local volumes not used by at least one container.'
      : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
    if (!o.force && !(await confirm(ctx, warning))) return;
    const filters = parseFilters(o.filter);
    if (o.all) filters['all'] = ['true'];
    const report = await ctx.client.volumePrune(filters);
    let out = '';
    if (report.VolumesDeleted?.length) out = `Deleted Volumes:\n${report.VolumesDeleted.map((v) => `${v}\n`).join('')}\n`;
    ctx.out(`${out}Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0, 4)}\n`);
  });
  return vol;
}
