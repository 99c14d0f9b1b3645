import { BerthError, invalid } from '../../common/index.ts';
import type { Router } from '../router.ts';
import { checkFilters, jsonLines, parseFilters, qBool, readJson, sendJson, type Req } from '../http.ts';
import type { Backends } from '../backends.ts';
import { toImageInspect, toImageSummary } from '../convert.ts';
import { applyChanges, decodeRegistryAuth, parseAuthConfig, type Credentials, type ImageView } from '../../engine/index.ts';

/** Credentials from `X-Registry-Auth` (base64url JSON; `e30=` is anonymous). */
const registryAuth = (req: Req): Credentials => {
  const h = req.raw.headers['x-registry-auth'];
  return decodeRegistryAuth(Array.isArray(h) ? h[0] : h);
};
import { durationMs, labelMatch } from './containers.ts';

export function imageRoutes(r: Router, b: Backends): void {
  const im = b.images;

  r.get('/images/json', async (req) => {
    const f = parseFilters(req.query);
    checkFilters(f, ['before', 'dangling', 'label', 'reference', 'since', 'until']);
    const all = qBool(req.query, 'all');
    let list = await im.list();
    const createdOf = (v: ImageView): number => Date.parse(v.config.created ?? v.record.created);
    const before = f.has('before') ? createdOf(await im.get(f.get('before')![0]!)) : undefined;
    const since = f.has('since') ? createdOf(await im.get(f.get('since')![0]!)) : undefined;
    const dangling = f.get('dangling')?.[0];
    if (dangling !== undefined && !['true', 'false', '1', '0'].includes(dangling)) throw invalid(`Invalid filter 'dangling=${dangling}'`);
    const until = untilOf(f);
    const refs = f.get('reference');
    const shownTags = new Map<string, string[]>();
    list = list.filter((v) => {
      const isDangling = v.repoTags.length === 0 && v.repoDigests.length === 0;
      if (dangling !== undefined && (dangling === 'true' || dangling === '1') !== isDangling) return false;
      if (isDangling && (dangling === 'true' || dangling === '1') && v.children.length > 0) return false; // dockerd looks at heads only
      if (refs) {
        // compat: dockerd lists only the matching tags of a matching image
        const tags = v.repoTags.filter((t) => refs.some((pat) => refMatch(pat, t)));
        if (tags.length === 0) return false;
        shownTags.set(v.record.id, tags);
      }
      if (!labelMatch(f, v.config.config?.Labels ?? {})) return false;
      if (before !== undefined && createdOf(v) >= before) return false;
      if (since !== undefined && createdOf(v) <= since) return false;
      if (until !== undefined && createdOf(v) >= until) return false;
      return true;
    });
    // compat: without -a, docker hides untagged parents of other images (intermediate build images)
    if (!all) list = list.filter((v) => v.repoTags.length > 0 || v.repoDigests.length > 0 || v.children.length === 0);
    list.sort((a, c) => createdOf(c) - createdOf(a) || a.record.id.localeCompare(c.record.id));
    const sharedSize = qBool(req.query, 'shared-size');
    sendJson(req.res, 200, list.map((v) => toImageSummary(v, -1, { sharedSize, repoTags: shownTags.get(v.record.id) })));
  });

  r.post('/images/create', async (req) => {
    const fromSrc = req.query.get('fromSrc');
    const fromImage = req.query.get('fromImage');
    if (fromSrc !== null) {
      if (fromSrc !== '-') throw new BerthError('not-implemented', 'importing from a URL is not supported');
      const repo = req.query.get('repo') ?? '';
      const tag = req.query.get('tag') ?? '';
      const changes = req.query.getAll('changes').flatMap((x) => x.split('\n'));
      const cfg = applyChanges({}, changes);
      const out = jsonLines(req.res);
      // compat: dockerd's default comment (image Comment and its history entry)
      const message = req.query.get('message') || `Imported from ${fromSrc}`;
      const id = await im.importTarball(req.raw, { ref: repo ? (tag ? `${repo}:${tag}` : repo) : undefined, message, changes: cfg, signal: req.signal });
      out.write({ status: id });
      out.end();
      return;
    }
    if (fromImage) {
      const tag = req.query.get('tag');
      const ref = tag ? (tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`) : fromImage;
      const out = jsonLines(req.res);
      try {
        // compat: dockerd pulls every tag when neither `tag` nor fromImage names one (`docker pull -a`)
        await im.pull(ref, { auth: registryAuth(req), platform: req.query.get('platform') || undefined, allTags: !tag, progress: (e) => out.write(e), signal: req.signal });
      } catch (err) {
        if (!out.started) throw err; // nothing sent yet: a real status code
        out.fail(err);
      }
      out.end();
      return;
    }
    throw invalid('either fromSrc or fromImage must be given');
  });

  r.post('/images/load', async (req) => {
    const quiet = qBool(req.query, 'quiet');
    const out = jsonLines(req.res);
    try {
      const loaded = await im.load(req.raw, { progress: quiet ? () => {} : (e) => (e.stream ? undefined : out.write(e)), signal: req.signal });
      for (const l of loaded) out.write({ stream: `${l}\n` });
    } catch (err) {
      if (!out.started) throw err;
      out.fail(err);
    }
    out.end();
  });

  const save = async (req: Parameters<Parameters<Router['get']>[1]>[0], names: string[]): Promise<void> => {
    for (const n of names) im.resolve(n); // 404 before any byte
    const s = await im.save(names);
    req.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await new Promise<void>((resolve, reject) => {
      s.on('error', reject);
      req.res.on('close', resolve);
      s.pipe(req.res);
    }).catch(() => req.res.destroy());
  };
  r.get('/images/get', async (req) => save(req, req.query.getAll('names')));
  r.get('/images/{name*}/get', async (req) => save(req, [req.params.name!]));

  r.get('/images/{name*}/json', async (req) => {
    sendJson(req.res, 200, toImageInspect(await im.get(req.params.name!), b.system.version.storageDriver));
  });

  r.get('/images/{name*}/history', async (req) => {
    const h = await im.history(req.params.name!);
    sendJson(req.res, 200, h.map((x) => ({ Id: x.id, Created: x.created, CreatedBy: x.createdBy, Tags: x.tags.length ? x.tags : null, Size: x.size, Comment: x.comment })));
  });

  r.post('/images/{name*}/tag', async (req) => {
    const repo = req.query.get('repo');
    if (!repo) throw invalid('repository name must have at least one component');
    const tag = req.query.get('tag') || 'latest';
    await im.tag(req.params.name!, `${repo}:${tag}`);
    req.res.writeHead(201).end();
  });

  r.post('/images/prune', async (req) => {
    const f = parseFilters(req.query);
    checkFilters(f, ['dangling', 'label', 'label!', 'until']);
    const dangling = f.get('dangling')?.[0] ?? 'true';
    if (!['true', 'false', '1', '0'].includes(dangling)) throw invalid(`invalid filter 'dangling=${dangling}'`);
    const until = untilOf(f);
    const match = (v: ImageView): boolean => labelMatch(f, v.config.config?.Labels ?? {}) && (until === undefined || Date.parse(v.config.created ?? v.record.created) < until);
    const res = await im.prune({ all: dangling === 'false' || dangling === '0', match });
    sendJson(req.res, 200, { ImagesDeleted: res.deleted.map((d) => (d.deleted ? { Deleted: d.deleted } : { Untagged: d.untagged })), SpaceReclaimed: res.spaceReclaimed });
  });

  r.delete('/images/{name*}', async (req) => {
    const res = await im.remove(req.params.name!, { force: qBool(req.query, 'force'), noPrune: qBool(req.query, 'noprune') });
    sendJson(req.res, 200, res.map((d) => (d.deleted ? { Deleted: d.deleted } : { Untagged: d.untagged })));
  });

  r.post('/images/{name*}/push', async (req) => {
    const out = jsonLines(req.res);
    try {
      await im.push(req.params.name!, req.query.get('tag') || undefined, { auth: registryAuth(req), progress: (e) => out.write(e), signal: req.signal });
    } catch (err) {
      if (!out.started) throw err;
      out.fail(err);
    }
    out.end();
  });

  r.post('/auth', async (req) => {
    const creds = parseAuthConfig(await readJson(req));
    const res = await im.login(creds, req.signal);
    sendJson(req.res, 200, { Status: res.status, IdentityToken: res.identityToken ?? '' });
  });

  r.get('/distribution/{name*}/json', async (req) => {
    const d = await im.distribution(req.params.name!, { auth: registryAuth(req), signal: req.signal });
    sendJson(req.res, 200, {
      Descriptor: { mediaType: d.descriptor.mediaType, digest: d.descriptor.digest, size: d.descriptor.size },
      Platforms: d.platforms.map((p) => ({ architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) })),
    });
  }, { since: '1.30' });

  r.get('/images/search', async (req) => {
    const term = req.query.get('term') ?? '';
    const limitText = req.query.get('limit');
    let limit: number | undefined;
    if (limitText) {
      limit = Number(limitText);
      if (!/^-?\d+$/.test(limitText)) throw invalid(`strconv.Atoi: parsing ${JSON.stringify(limitText)}: invalid syntax`);
    }
    const results = await im.search(term, { limit, filters: parseFilters(req.query), auth: registryAuth(req), signal: req.signal });
    sendJson(req.res, 200, results);
  });
}

/** The `until` filter as a time in ms: a Unix timestamp or a duration before now. */
function untilOf(f: Map<string, string[]>): number | undefined {
  const u = f.get('until');
  if (!u) return undefined;
  if (u.length > 1) throw invalid('more than one until filter specified');
  const x = u[0]!;
  if (/^\d+(\.\d+)?$/.test(x)) return Number(x) * 1000;
  const t = Date.parse(x);
  return Number.isNaN(t) ? Date.now() - durationMs(x) : t;
}

/** Docker's reference filter: a glob on `repo:tag` (or on the repository alone). */
function refMatch(pattern: string, tag: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
  const repo = tag.slice(0, tag.lastIndexOf(':'));
  return re.test(tag) || re.test(repo);
}
