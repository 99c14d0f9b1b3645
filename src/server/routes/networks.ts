import { BerthError } from '../../common/index.ts';
import type { Router } from '../router.ts';
import { checkFilters, parseFilters, sendJson } from '../http.ts';
import type { Backends } from '../backends.ts';
import { toNetwork } from '../convert.ts';
import { labelMatch } from './containers.ts';

const BUILTIN = new Set(['bridge', 'host', 'none']);

export function networkRoutes(r: Router, b: Backends): void {
  const n = b.networks;
  r.get('/networks', async (req) => {
    const f = parseFilters(req.query);
    checkFilters(f, ['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling']);
    const list = n.list().filter((x) => {
      if (f.has('name') && !f.get('name')!.some((v) => x.name.includes(v))) return false;
      if (f.has('id') && !f.get('id')!.some((v) => x.id.startsWith(v))) return false;
      if (f.has('driver') && !f.get('driver')!.includes(x.driver)) return false;
      if (f.has('scope') && !f.get('scope')!.includes('local')) return false;
      if (f.has('type') && !f.get('type')!.includes(BUILTIN.has(x.name) ? 'builtin' : 'custom')) return false;
      return labelMatch(f, x.labels);
    });
    sendJson(req.res, 200, list.map((x) => toNetwork(x)));
  });
  r.get('/networks/{id}', async (req) => {
    sendJson(req.res, 200, toNetwork(n.get(req.params.id!), b.containers.list()));
  });
  r.delete('/networks/{id}', async (req) => {
    const x = n.get(req.params.id!);
    // compat: dockerd's answer for the built-in networks
    if (BUILTIN.has(x.name)) throw new BerthError('forbidden', `${x.name} is a pre-defined network and cannot be removed`);
    throw new BerthError('not-implemented', 'user-defined networks are not supported yet');
  });
  r.post('/networks/prune', async (req) => {
    sendJson(req.res, 200, { NetworksDeleted: null });
  }, { since: '1.25' });
  for (const path of ['/networks/create', '/networks/{id}/connect', '/networks/{id}/disconnect']) {
    r.post(path, async () => {
      // TODO(#5): user-defined bridge networks with embedded DNS
      throw new BerthError('not-implemented', 'user-defined networks are not supported yet');
    });
  }
}
