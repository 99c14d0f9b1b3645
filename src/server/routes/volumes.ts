import { invalid } from '../../common/index.ts';
import type { Router } from '../router.ts';
import { checkFilters, parseFilters, qBool, readJson, sendJson, sendNoContent } from '../http.ts';
import type { Backends } from '../backends.ts';
import { toVolume } from '../convert.ts';
import { labelMatch } from './containers.ts';

export function volumeRoutes(r: Router, b: Backends): void {
  const v = b.volumes;
  r.get('/volumes', async (req) => {
    const f = parseFilters(req.query);
    checkFilters(f, ['dangling', 'driver', 'label', 'name']);
    const list = v.list().filter((x) => {
      if (f.has('name') && !f.get('name')!.some((n) => x.name.includes(n))) return false;
      if (f.has('driver') && !f.get('driver')!.includes(x.driver)) return false;
      if (!labelMatch(f, x.labels)) return false;
      const d = f.get('dangling')?.[0];
      if (d !== undefined && (d === 'true' || d === '1') !== (b.volumeUsers(x.name).length === 0)) return false;
      return true;
    });
    sendJson(req.res, 200, { Volumes: list.map((x) => toVolume(x)), Warnings: null });
  });
  r.post('/volumes/create', async (req) => {
    const body = (await readJson(req)) ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('invalid volume create request');
    const o = body as { Name?: unknown; Driver?: unknown; Labels?: unknown; DriverOpts?: unknown };
    if (o.Name !== undefined && typeof o.Name !== 'string') throw invalid('invalid volume name');
    const rec = await v.create({
      name: (o.Name as string | undefined) || undefined, driver: typeof o.Driver === 'string' ? o.Driver : undefined,
      labels: (o.Labels as Record<string, string> | null) ?? {}, options: (o.DriverOpts as Record<string, string> | null) ?? {},
      anonymous: !o.Name,
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
    const all = ['true', '1'].includes(f.get('all')?.[0] ?? '');
    const res = await v.prune({ all, match: (x) => labelMatch(f, x.labels) });
    sendJson(req.res, 200, { VolumesDeleted: res.deleted, SpaceReclaimed: res.spaceReclaimed });
  }, { since: '1.25' });
}
