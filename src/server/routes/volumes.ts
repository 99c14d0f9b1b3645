import { invalid } from '../../common/index.ts';
import type { Router } from '../router.ts';
import { checkFilters, parseFilters, qBool, readJson, sendJson, sendNoContent } from '../http.ts';
import type { Backends } from '../backends.ts';
import { toVolume } from '../convert.ts';
import { labelMatch } from './containers.ts';

/** dockerd's boolean filter values. */
function boolFilter(f: Map<string, string[]>, key: string): boolean | undefined {
  const v = f.get(key)?.[0];
  if (v === undefined) return undefined;
  if (['true', '1'].includes(v.toLowerCase())) return true;
  if (['false', '0'].includes(v.toLowerCase())) return false;
  throw invalid(`invalid filter '${key}=${v}'`);
}

/** dockerd's filters.Match: an exact name, or an (unanchored) regular expression. */
function nameMatch(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return false;
  }
}

function strMap(v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) throw invalid(`invalid ${what}: expected an object of strings`);
  return v as Record<string, string>;
}

export function volumeRoutes(r: Router, b: Backends): void {
  const v = b.volumes;
  r.get('/volumes', async (req) => {
    const f = parseFilters(req.query);
    checkFilters(f, ['dangling', 'driver', 'label', 'name']);
    const dangling = boolFilter(f, 'dangling');
    const list = v.list().filter((x) => {
      if (f.has('name') && !f.get('name')!.some((n) => nameMatch(n, x.name))) return false;
      if (f.has('driver') && !f.get('driver')!.includes(x.driver)) return false;
      if (!labelMatch(f, x.labels)) return false;
      if (dangling !== undefined && dangling !== (b.volumeUsers(x.name).length === 0)) return false;
      return true;
    });
    sendJson(req.res, 200, { Volumes: list.map((x) => toVolume(x)), Warnings: null });
  });
  r.post('/volumes/create', async (req) => {
    const body = (await readJson(req)) ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('invalid volume create request');
    const o = body as { Name?: unknown; Driver?: unknown; Labels?: unknown; DriverOpts?: unknown };
    if (o.Name !== undefined && o.Name !== null && typeof o.Name !== 'string') throw invalid('invalid volume name');
    if (o.Driver !== undefined && o.Driver !== null && typeof o.Driver !== 'string') throw invalid('invalid volume driver');
    const rec = await v.create({
      name: (o.Name as string | null | undefined) || undefined, driver: (o.Driver as string | null | undefined) || undefined,
      labels: strMap(o.Labels, 'Labels'), options: strMap(o.DriverOpts, 'DriverOpts'), api: true,
    });
    sendJson(req.res, 201, toVolume(rec));
  }, { since: '1.25' });
  r.get('/volumes/{name}', async (req) => {
    sendJson(req.res, 200, toVolume(v.get(req.params.name!)));
  });
  r.delete('/volumes/{name}', async (req) => {
    await v.remove(req.params.name!, { force: qBool(req.query, 'force') });
    sendNoContent(req.res);
  });
  r.post('/volumes/prune', async (req) => {
    const f = parseFilters(req.query);
    checkFilters(f, ['label', 'label!', 'all']);
    const all = boolFilter(f, 'all') ?? false;
    const res = await v.prune({ all, match: (x) => labelMatch(f, x.labels) });
    sendJson(req.res, 200, { VolumesDeleted: res.deleted, SpaceReclaimed: res.spaceReclaimed });
  }, { since: '1.25' });
}
