import type { Command } from 'commander';
import type { SystemDataUsageResponse } from '../../api/index.ts';
import { action, group, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { humanSize } from '../format/index.ts';
import { filterValue, listOption, parseFilters } from '../opts.ts';
import { confirm } from '../prompt.ts';
import { renderList, type View } from '../views.ts';
import { registerEvents } from './events.ts';
import { registerInfo } from './info.ts';

const DF_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const DF_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

function reclaim(total: number, reclaimable: number): string {
  const s = humanSize(reclaimable, 4);
  return total > 0 ? `${s} (${Math.trunc((reclaimable * 100) / total)}%)` : s;
}

/** The four rows of `system df`, computed as docker's disk-usage formatter does. */
export function dfViews(du: SystemDataUsageResponse): View[] {
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  const imgTotal = du.LayersSize ?? 0;
  let imgUsed = 0;
  for (const i of images) if (i.Containers > 0 && i.SharedSize !== -1) imgUsed += i.Size - i.SharedSize;
  const isActive = (state: string | undefined): boolean => state === 'running' || state === 'paused' || state === 'restarting';
  const ctrSize = containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const ctrFree = containers.filter((c) => !isActive(c.State)).reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const volSize = volumes.reduce((n, v) => n + Math.max(v.UsageData?.Size ?? 0, 0), 0);
  const volFree = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((n, v) => n + Math.max(v.UsageData?.Size ?? 0, 0), 0);
  const cacheSize = cache.reduce((n, b) => n + (b.Size ?? 0), 0);
  const cacheFree = cache.filter((b) => !b.InUse && !b.Shared).reduce((n, b) => n + (b.Size ?? 0), 0);
  const row = (Type: string, total: number, active: number, size: number, free: number, pct = true): View => ({
    Type,
    TotalCount: String(total),
    Active: String(active),
    Size: humanSize(size, 4),
    Reclaimable: pct ? reclaim(size, free) : humanSize(free, 4),
  });
  return [
    row('Images', images.length, images.filter((i) => i.Containers > 0).length, imgTotal, imgTotal - imgUsed),
    row('Containers', containers.length, containers.filter((c) => isActive(c.State)).length, ctrSize, ctrFree),
    row('Local Volumes', volumes.length, volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length, volSize, volFree),
    row('Build Cache', cache.length, cache.filter((b) => b.InUse).length, cacheSize, cacheFree, false),
  ];
}

/** `system df|events|info|prune`. */
export function registerSystem(parent: Command, ctx: CliContext): Command {
  const sys = group(parent, 'system', 'Manage Docker');

  const df = verb(sys, 'df', '[OPTIONS]', 'Show docker disk usage', { max: 0 });
  df.option('--format <string>', 'Format output using a custom template');
  action<{ format?: string }>(df, async (_args, o) => {
    const du = await ctx.client.systemDataUsage();
    ctx.out(renderList(o.format, DF_TABLE, dfViews(du), DF_HEADERS));
  });

  registerEvents(sys, ctx);
  registerInfo(sys, ctx);

  const prune = verb(sys, 'prune', '[OPTIONS]', 'Remove unused data', { max: 0 });
  prune
    .option('-a, --all', 'Remove all unused images not just dangling ones')
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--volumes', 'Prune anonymous volumes');
  listOption(prune, '--filter <filter>', 'Provide filter values (e.g. "label=<key>=<value>")', filterValue);
  action<{ all?: boolean; force?: boolean; volumes?: boolean; filter: string[] }>(prune, async (_args, o) => {
    const items = ['all stopped containers', 'all networks not used by at least one container'];
    if (o.volumes) items.push('all anonymous volumes not used by at least one container');
    items.push(o.all ? 'all images without at least one container associated to them' : 'all dangling images');
    items.push(o.all ? 'all build cache' : 'unused build cache');
    const warning = `WARNING! This will remove:\n${items.map((i) => `  - ${i}\n`).join('')}`;
    if (!o.force && !(await confirm(ctx, warning))) return;
    const filters = parseFilters(o.filter);
    let out = '';
    let space = 0;
    const c = await ctx.client.containerPrune(filters);
    if (c.ContainersDeleted?.length) out += `Deleted Containers:\n${c.ContainersDeleted.map((x) => `${x}\n`).join('')}\n`;
    space += c.SpaceReclaimed ?? 0;
    const n = await ctx.client.networkPrune(filters).catch(() => ({ NetworksDeleted: [] as string[] }));
    if (n.NetworksDeleted?.length) out += `Deleted Networks:\n${n.NetworksDeleted.map((x) => `${x}\n`).join('')}\n`;
    if (o.volumes) {
      const v = await ctx.client.volumePrune(filters);
      if (v.VolumesDeleted?.length) out += `Deleted Volumes:\n${v.VolumesDeleted.map((x) => `${x}\n`).join('')}\n`;
      space += v.SpaceReclaimed ?? 0;
    }
    const i = await ctx.client.imagePrune({ ...filters, dangling: [o.all ? 'false' : 'true'] });
    if (i.ImagesDeleted?.length) {
      out += 'Deleted Images:\n';
      for (const d of i.ImagesDeleted) {
        if (d.Untagged) out += `untagged: ${d.Untagged}\n`;
        if (d.Deleted) out += `deleted: ${d.Deleted}\n`;
      }
      out += '\n';
    }
    space += i.SpaceReclaimed ?? 0;
    const b = await ctx.client.buildPrune({ all: o.all, filters }).catch(() => ({ CachesDeleted: [] as string[], SpaceReclaimed: 0 }));
    if (b.CachesDeleted?.length) out += `Deleted build cache objects:\n${b.CachesDeleted.map((x) => `${x}\n`).join('')}\n`;
    space += b.SpaceReclaimed ?? 0;
    ctx.out(`${out}Total reclaimed space: ${humanSize(space, 4)}\n`);
  });
  return sys;
}
