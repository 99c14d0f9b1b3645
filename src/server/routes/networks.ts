import type { Router } from '../router.ts';
import { checkFilters, parseFilters, readJson, sendJson, sendNoContent } from '../http.ts';
import type { Backends } from '../backends.ts';
import { endpointConfigFrom, networkCreateFrom, toNetwork } from '../convert.ts';
import { durationMs, labelMatch } from './containers.ts';
import { BerthError } from '../../common/index.ts';

const BUILTIN = new Set(['bridge', 'host', 'none']);

function bodyObject(v: unknown): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new BerthError('invalid-argument', 'invalid request body: expected an object');
  return v as Record<string, unknown>;
}

export function networkRoutes(r: Router, b: Backends): void {
  const n = b.networks;
  r.get('/networks', async (req) => {
    const f = parseFilters(req.query);
    checkFilters(f, ['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling']);
    const dangling = f.get('dangling')?.[0];
    if (dangling !== undefined && !['true', 'false', '1', '0'].includes(dangling)) throw new BerthError('invalid-argument', `invalid filter 'dangling=${dangling}'`);
    for (const t of f.get('type') ?? []) if (t !== 'custom' && t !== 'builtin') throw new BerthError('invalid-argument', `invalid filter: 'type'='${t}'`);
    const containers = f.has('dangling') ? b.containers.list() : [];
    const list = n.list().filter((x) => {
      if (f.has('name') && !f.get('name')!.some((v) => x.name.includes(v))) return false;
      if (f.has('id') && !f.get('id')!.some((v) => x.id.startsWith(v))) return false;
      if (f.has('driver') && !f.get('driver')!.includes(x.driver)) return false;
      if (f.has('scope') && !f.get('scope')!.includes('local')) return false;
      if (f.has('type') && !f.get('type')!.includes(BUILTIN.has(x.name) ? 'builtin' : 'custom')) return false;
      if (dangling !== undefined) {
        // compat: dockerd's filterNetworkByUse: dangling = a custom network with no container
        const used = Object.keys(toNetwork(x, containers).Containers ?? {}).length > 0;
        const isDangling = !BUILTIN.has(x.name) && !used;
        if ((dangling === 'true' || dangling === '1') !== isDangling) return false;
      }
      return labelMatch(f, x.labels);
    });
    sendJson(req.res, 200, list.map((x) => toNetwork(x)));
  });
  r.get('/networks/{id}', async (req) => {
    sendJson(req.res, 200, toNetwork(n.get(req.params.id!), b.containers.list()));
  });
  r.post('/networks/create', async (req) => {
    const res = await n.create(networkCreateFrom(await readJson(req)));
    sendJson(req.res, 201, { Id: res.id, Warning: res.warning });
  });
  r.delete('/networks/{id}', async (req) => {
    await n.remove(req.params.id!);
    sendNoContent(req.res);
  });
  r.post('/networks/{id}/connect', async (req) => {
    const body = bodyObject(await readJson(req));
    if (typeof body.Container !== 'string' || !body.Container) throw new BerthError('invalid-argument', 'no container specified');
    await b.containers.connectNetwork(body.Container, req.params.id!, endpointConfigFrom(body.EndpointConfig));
    sendNoContent(req.res, 200);
  });
  r.post('/networks/{id}/disconnect', async (req) => {
    const body = bodyObject(await readJson(req));
    if (typeof body.Container !== 'string' || !body.Container) throw new BerthError('invalid-argument', 'no container specified');
    await b.containers.disconnectNetwork(body.Container, req.params.id!, { force: body.Force === true });
    sendNoContent(req.res, 200);
  });
  r.post('/networks/prune', async (req) => {
    const f = parseFilters(req.query);
    checkFilters(f, ['label', 'label!', 'until']);
    const until = f.get('until')?.[0];
    const untilMs = until ? (/^\d+$/.test(until) ? Number(until) * 1000 : Date.now() - durationMs(until)) : undefined;
    const deleted = await n.prune((x) => labelMatch(f, x.labels) && (untilMs === undefined || Date.parse(x.created) < untilMs));
    sendJson(req.res, 200, { NetworksDeleted: deleted });
  }, { since: '1.25' });
}
