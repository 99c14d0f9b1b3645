import { invalid, messageOf } from '../../common/index.ts';
import type { Router } from '../router.ts';
import { qBool, qInt, sendJson } from '../http.ts';
import type { Backends } from '../backends.ts';
import { BuildError, parseAuthConfig, type Credentials } from '../../engine/index.ts';

/** A JSON query parameter (`buildargs`, `labels`, `cachefrom`); docker's text when it is malformed. */
function qJson<T>(q: URLSearchParams, name: string, dflt: T): T {
  const v = q.get(name);
  if (v === null || v === '' || v === 'null') return dflt;
  try {
    return JSON.parse(v) as T;
  } catch (err) {
    throw invalid(`${name}: ${messageOf(err)}`);
  }
}

/**
 * `X-Registry-Config`: base64url JSON of credentials by registry (the docker CLI sends every
 * login it has); FROM and COPY --from pulls pick theirs by registry host.
 */
export function registryConfig(header: string | string[] | undefined): (registry: string) => Credentials | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (!h) return () => undefined;
  let map: Record<string, unknown>;
  try {
    map = JSON.parse(Buffer.from(h.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, unknown>;
  } catch {
    return () => undefined;
  }
  const byHost = new Map<string, Credentials>();
  for (const [k, v] of Object.entries(map ?? {})) {
    const host = k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    // compat: Docker Hub's credentials are keyed https://index.docker.io/v1/
    const key = host === 'index.docker.io' ? 'docker.io' : host;
    try {
      byHost.set(key, parseAuthConfig(v));
    } catch {
      // a malformed entry is ignored, as dockerd does
    }
  }
  return (registry) => byHost.get(registry === 'registry-1.docker.io' || registry === 'index.docker.io' ? 'docker.io' : registry);
}

export function buildRoutes(r: Router, b: Backends): void {
  r.post('/build', async (req) => {
    const q = req.query;
    const buildArgs = qJson<Record<string, string | null>>(q, 'buildargs', {});
    const labels = qJson<Record<string, string>>(q, 'labels', {});
    const cacheFrom = qJson<string[]>(q, 'cachefrom', []);
    if (typeof buildArgs !== 'object' || Array.isArray(buildArgs)) throw invalid('buildargs must be a JSON object');
    if (typeof labels !== 'object' || Array.isArray(labels)) throw invalid('labels must be a JSON object');
    if (!Array.isArray(cacheFrom)) throw invalid('cachefrom must be a JSON array');
    if (q.get('remote')) throw new (await import('../../common/index.ts')).BerthError('not-implemented', 'remote build contexts (git or URL) are not supported by berth yet');
    const extraHosts = q.getAll('extrahosts').flatMap((h) => h.split(',')).filter(Boolean);
    const res = req.res;
    let started = false;
    const write = (m: object): void => {
      if (!started) {
        started = true;
        res.writeHead(200, { 'Content-Type': 'application/json' });
      }
      res.write(JSON.stringify(m) + '\n');
    };
    try {
      await b.build.build(req.raw, {
        dockerfile: q.get('dockerfile') || 'Dockerfile', tags: q.getAll('t').filter(Boolean), buildArgs, labels,
        target: q.get('target') || undefined, quiet: qBool(q, 'q'), noCache: qBool(q, 'nocache'), pull: qBool(q, 'pull'),
        rm: qBool(q, 'rm', true), forceRm: qBool(q, 'forcerm'), networkMode: q.get('networkmode') || 'default', extraHosts,
        platform: q.get('platform') || undefined, cacheFrom,
        resources: {
          memory: qInt(q, 'memory'), memorySwap: qInt(q, 'memswap'), cpuShares: qInt(q, 'cpushares'), cpusetCpus: q.get('cpusetcpus') || undefined,
          cpuPeriod: qInt(q, 'cpuperiod'), cpuQuota: qInt(q, 'cpuquota'), shmSize: qInt(q, 'shmsize'),
        },
        explainCache: qBool(q, 'explaincache'),
        auth: registryConfig(req.raw.headers['x-registry-config']),
      }, write, req.signal);
    } catch (err) {
      // errors before any output get a real status; later ones end the stream as docker's do
      if (!started && !(err instanceof BuildError)) throw err;
      const message = messageOf(err);
      const code = err instanceof BuildError ? err.code : undefined;
      write({ errorDetail: { ...(code !== undefined ? { code } : {}), message }, error: message });
    }
    if (!started) write({});
    res.end();
  });

  r.post('/build/prune', async (req) => {
    const all = qBool(req.query, 'all');
    const r = b.build.prune(all);
    sendJson(req.res, 200, { CachesDeleted: r.cachesDeleted, SpaceReclaimed: r.spaceReclaimed });
  });

  r.post('/build/cancel', async (req) => {
    req.res.writeHead(200).end();
  });
}
