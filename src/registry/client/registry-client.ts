// The distribution v2 / OCI distribution client: endpoints, manifests, verified blobs, uploads.
import { Transform, type Readable } from 'node:stream';
import { BerthError, kindOf, messageOf, sha256, wrap, type Digest } from '../../common/index.ts';
import { familiarRepository, type Descriptor } from '../../oci/index.ts';
import type { ContentStore, PartialBlob } from '../../store/index.ts';
import { Authorizer, type Credentials } from './auth.ts';
import { DEFAULT_INSECURE, apiHost, domainOfServerAddress, isInsecure, tlsMaterial, type Mirror, type RegistrySettings } from './hosts.ts';
import { MANIFEST_ACCEPT, MAX_MANIFEST, parseManifest, selectPlatform, type ParsedManifest, type Platform } from './manifest.ts';
import { drain, errorText, readBody, send, type HttpResponse, type SendOptions } from './transport.ts';

interface Endpoint {
  origin: URL;
  tls: SendOptions['tls'];
}

export interface FetchedManifest {
  digest: Digest;
  raw: Buffer;
  parsed: ParsedManifest;
}

/** An image as a registry holds it, for one platform. */
export interface ResolvedImage {
  /** The digest the reference resolves to (an index's when there is one): what RepoDigests record. */
  digest: Digest;
  mediaType: string;
  size: number;
  /** The platform's image manifest. */
  manifest: FetchedManifest & { parsed: Extract<ParsedManifest, { kind: 'manifest' }> };
}

export type ByteProgress = (current: number, total: number) => void;

/** Retries in a row of a blob download that made no progress (each resumes where the last broke off). */
const BLOB_RETRIES = 3;

/** Default size of PATCH chunks, and the blob size from which uploads are chunked. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024;

/** One result of `GET /v1/search`, in Docker's casing of the API's `SearchResult`. */
export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

/** TLS failures that mean "this certificate is not trusted", not "no TLS here". */
const CERT_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/;

const delay = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => {
    clearTimeout(t);
    reject(signal.reason as Error);
  }, { once: true });
});

/** A blob answer's body, counted from `base` and capped at `size`; a broken connection is 'unavailable'. */
async function* counted(res: HttpResponse, base: number, size: number, progress?: ByteProgress): AsyncGenerator<Buffer> {
  let n = base;
  try {
    for await (const c of res.body) {
      n += (c as Buffer).length;
      if (n > size) throw new BerthError('invalid-argument', `size mismatch: more than the ${size} bytes expected`);
      progress?.(n, size);
      yield c as Buffer;
    }
  } catch (err) {
    if (err instanceof BerthError || (err as Error).name === 'AbortError') throw err;
    throw new BerthError('unavailable', `connection lost after ${n} bytes: ${messageOf(err)}`, { cause: err });
  } finally {
    res.body.destroy();
  }
  if (n < size) throw new BerthError('unavailable', `connection lost after ${n} of ${size} bytes`);
}

/** An upload answer's Location, absolute. */
function locationOf(res: HttpResponse, what: string): URL {
  const loc = res.headers.location;
  if (typeof loc !== 'string' || !loc) throw new BerthError('unavailable', `the registry ${what} without a Location`);
  return new URL(loc, res.url);
}

/**
 * One daemon's registry client: knows each host's scheme and TLS material, and shares one token
 * cache across repositories.
 */
export class RegistryClient {
  readonly #settings: RegistrySettings;
  readonly #endpoints = new Map<string, Promise<Endpoint>>();
  readonly auth: Authorizer;

  /** `settings.insecure` replaces the default list (loopback): pass `[...DEFAULT_INSECURE, …]` to extend it. */
  constructor(settings: Partial<RegistrySettings> = {}) {
    this.#settings = {
      insecure: settings.insecure ?? DEFAULT_INSECURE,
      mirrors: settings.mirrors ?? [],
      certsDir: settings.certsDir ?? '/etc/berth/certs.d',
      chunkSize: settings.chunkSize ?? DEFAULT_CHUNK_SIZE,
    };
    this.auth = new Authorizer(async (url) => this.#tls(url.host, url.protocol === 'https:'));
  }

  get settings(): Readonly<RegistrySettings> {
    return this.#settings;
  }

  /**
   * TLS settings for `host`. An insecure host skips verification, unless the certs dir holds a CA
   * for it: a CA put there is a statement of trust, and checking against it is the point.
   */
  async #tls(host: string, https: boolean): Promise<SendOptions['tls']> {
    if (!https) return undefined;
    const m = await tlsMaterial(this.#settings.certsDir, host);
    return { ...m, skipVerify: !m.ca && isInsecure(host, this.#settings.insecure) };
  }

  /**
   * The scheme for `host`: https (verified against the system CAs and the host's certs.d CAs); for an
   * insecure host https without verification, else plain http (Docker's order). The first answer
   * to `GET /v2/` decides; any 401 challenge it carries is remembered.
   */
  endpoint(host: string, signal?: AbortSignal): Promise<Endpoint> {
    let p = this.#endpoints.get(host);
    if (!p) {
      p = this.#probe(host, signal);
      this.#endpoints.set(host, p);
      p.catch(() => this.#endpoints.delete(host));
    }
    return p;
  }

  forget(host: string): void {
    this.#endpoints.delete(host);
  }

  async #probe(host: string, signal?: AbortSignal): Promise<Endpoint> {
    const insecure = isInsecure(host, this.#settings.insecure);
    const https: Endpoint = { origin: new URL(`https://${host}/`), tls: await this.#tls(host, true) };
    try {
      const res = await send({ method: 'GET', url: new URL('/v2/', https.origin), signal, tls: https.tls, idleTimeout: 15_000 });
      if (res.status === 401) this.auth.challenged(host, res.headers['www-authenticate'], {});
      await drain(res);
      return https;
    } catch (err) {
      if (!insecure || signal?.aborted) throw err;
      // a CA was configured for this host and its certificate fails it: say so, never fall back to http
      const code = String((err as { cause?: { code?: unknown } }).cause?.code ?? '');
      if (https.tls?.ca && CERT_ERRORS.test(code)) throw err;
    }
    const http: Endpoint = { origin: new URL(`http://${host}/`), tls: undefined };
    const res = await send({ method: 'GET', url: new URL('/v2/', http.origin), signal, idleTimeout: 15_000 });
    if (res.status === 401) this.auth.challenged(host, res.headers['www-authenticate'], {});
    await drain(res);
    return http;
  }

  /** A repository (`domain` as in a reference: `docker.io`, `127.0.0.1:5000`; `path`: `library/busybox`). */
  repository(domain: string, path: string, creds: Credentials = {}): Repository {
    return new Repository(this, domain, path, creds);
  }

  /** The mirrors configured for `domain`, in order. */
  mirrorsOf(domain: string): Mirror[] {
    return this.#settings.mirrors.filter((m) => m.registry === domain);
  }

  /**
   * Where to pull `domain/path` from: its mirrors, in order, then the registry itself. Mirrors get
   * the same credentials, as dockerd sends Docker Hub's to its mirrors.
   */
  async pullSource(domain: string, path: string, creds: Credentials = {}, onFallback?: (from: Repository, err: unknown) => void): Promise<PullSource> {
    const mirrors = await Promise.all(this.mirrorsOf(domain).map(async (m) => new Repository(this, domain, path, creds, { origin: m.url, tls: await this.#tls(m.url.host, m.url.protocol === 'https:') })));
    return new PullSource([...mirrors, this.repository(domain, path, creds)], onFallback);
  }

  /**
   * `docker search`: `GET /v1/search?q=&n=` on the registry `domain` (Docker Hub's index for
   * docker.io). not-implemented when the registry has no search (Docker's distribution registry
   * answers 404); unauthorized when it refuses; unavailable when it cannot be reached.
   */
  async search(domain: string, term: string, limit: number, creds: Credentials = {}, signal?: AbortSignal): Promise<SearchResult[]> {
    const host = domain === 'docker.io' ? 'index.docker.io' : domain;
    const ep = await this.endpoint(host, signal);
    const url = new URL(`/v1/search?q=${encodeURIComponent(term)}&n=${limit}`, ep.origin);
    for (let attempt = 0; ; attempt++) {
      const header = await this.auth.header(host, [], creds, signal);
      const res = await send({ method: 'GET', url, headers: header ? { Authorization: header } : {}, signal, tls: ep.tls });
      if (res.status === 401 && attempt === 0 && this.auth.challenged(host, res.headers['www-authenticate'], creds, header)) {
        await drain(res);
        continue;
      }
      if (res.status === 404 || res.status === 405) {
        await drain(res);
        throw new BerthError('not-implemented', `registry ${domain} does not support search: GET ${url.pathname} answered ${res.status} (Docker's distribution registry has no search API; only registries with the v1 search endpoint, such as Docker Hub, do)`);
      }
      if (res.status === 401 || res.status === 403) throw new BerthError(res.status === 401 ? 'unauthorized' : 'forbidden', `search on ${domain}: ${await errorText(res)}`);
      if (res.status !== 200) throw new BerthError('unavailable', `search on ${domain}: Unexpected status code ${res.status}: ${await errorText(res)}`);
      let j: { results?: unknown };
      try {
        j = JSON.parse((await readBody(res, 16 << 20, 'search answer')).toString()) as { results?: unknown };
      } catch (err) {
        if (err instanceof BerthError) throw err;
        throw new BerthError('unavailable', `search on ${domain}: malformed answer`);
      }
      if (!Array.isArray(j.results)) throw new BerthError('unavailable', `search on ${domain}: malformed answer (no results list)`);
      return j.results.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null && typeof (r as { name?: unknown }).name === 'string').map((r) => ({
        name: r.name as string,
        description: typeof r.description === 'string' ? r.description : '',
        star_count: typeof r.star_count === 'number' ? r.star_count : 0,
        is_official: r.is_official === true,
        is_automated: r.is_automated === true,
      }));
    }
  }

  /**
   * `docker login`: check the credentials against the registry named by `serverAddress`.
   * unauthorized when refused; unavailable when the registry cannot be reached.
   */
  async login(serverAddress: string, creds: Credentials, signal?: AbortSignal): Promise<{ status: string; identityToken?: string }> {
    const domain = domainOfServerAddress(serverAddress);
    const host = apiHost(domain);
    const ep = await this.endpoint(host, signal);
    const url = new URL('/v2/', ep.origin);
    for (let attempt = 0; attempt < 2; attempt++) {
      let header: string | undefined;
      try {
        header = await this.auth.header(host, [], creds, signal);
      } catch (err) {
        if (kindOf(err) === 'unauthorized') throw new BerthError('unauthorized', `Get "${url.href}": ${messageOf(err)}`, { cause: err });
        throw err;
      }
      const res = await send({ method: 'GET', url, headers: header ? { Authorization: header } : {}, signal, tls: ep.tls });
      if (res.status === 200) {
        await drain(res);
        return { status: 'Login Succeeded' };
      }
      if (res.status === 401 && attempt === 0 && (header === undefined || header.startsWith('Bearer ')) && this.auth.challenged(host, res.headers['www-authenticate'], creds, header)) {
        await drain(res);
        continue;
      }
      const text = await errorText(res);
      throw new BerthError(res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : 'unavailable', `login attempt to ${url.href} failed with status: ${res.status} ${res.body.statusMessage ?? ''}: ${text}`);
    }
    throw new BerthError('unauthorized', `login attempt to ${url.href} failed with status: 401 Unauthorized`);
  }
}

/** One repository on one registry, with the credentials of one request. */
export class Repository {
  readonly host: string;
  /** `127.0.0.1:5000/bb`, `busybox`: as Docker names the repository in messages. */
  readonly familiar: string;
  /** A mirror's endpoint: used as is, never probed. */
  readonly #fixed: Endpoint | undefined;

  constructor(private readonly client: RegistryClient, readonly domain: string, readonly path: string, private readonly creds: Credentials, mirror?: Endpoint) {
    this.host = mirror ? mirror.origin.host : apiHost(domain);
    this.familiar = familiarRepository({ domain, path });
    this.#fixed = mirror;
  }

  /** Where this repository is served from (`http://127.0.0.1:6000/` for a mirror). */
  get source(): string {
    return this.#fixed ? this.#fixed.origin.href : this.host;
  }

  async #request(method: string, target: string | URL, o: { push?: boolean; extraScopes?: string[]; headers?: Record<string, string>; body?: SendOptions['body']; signal?: AbortSignal; idleTimeout?: number } = {}): Promise<HttpResponse> {
    const ep = this.#fixed ?? (await this.client.endpoint(this.host, o.signal));
    const url = typeof target === 'string' ? new URL(target, ep.origin) : target;
    const scopes = [`repository:${this.path}:${o.push ? 'pull,push' : 'pull'}`, ...(o.extraScopes ?? [])];
    const sameOrigin = url.origin === ep.origin.origin;
    for (let attempt = 0; ; attempt++) {
      const auth = sameOrigin ? await this.client.auth.header(this.host, scopes, this.creds, o.signal) : undefined;
      let res: HttpResponse;
      try {
        res = await send({ method, url, headers: { ...(o.headers ?? {}), ...(auth ? { Authorization: auth } : {}) }, body: o.body, signal: o.signal, tls: sameOrigin ? ep.tls : undefined, idleTimeout: o.idleTimeout });
      } catch (err) {
        if (kindOf(err) === 'unavailable' && !this.#fixed) this.client.forget(this.host);
        throw err;
      }
      if (res.status === 401 && attempt === 0 && sameOrigin && this.client.auth.challenged(this.host, res.headers['www-authenticate'], this.creds, auth)) {
        await drain(res);
        continue;
      }
      return res;
    }
  }

  /** A failed answer as an error of the right kind. */
  async #fail(res: HttpResponse, what: string): Promise<BerthError> {
    const text = await errorText(res);
    switch (res.status) {
      case 401:
        return new BerthError('unauthorized', `${what}: ${text}`);
      case 403:
        return new BerthError('forbidden', `${what}: ${text}`);
      case 404:
        return new BerthError('not-found', `${what}: ${text}`);
      case 400:
      case 405:
        return new BerthError('invalid-argument', `${what}: ${text}`);
      default:
        return new BerthError('unavailable', `${what}: ${res.status}: ${text}`);
    }
  }

  /**
   * `pull access denied for x, …`: dockerd's words for a pull the registry refuses. compat: dockerd
   * answers 404 (a private repository looks like a missing one), and a 401 would make the docker
   * CLI prompt for a login.
   */
  #pullDenied(err: BerthError): BerthError {
    if (err.kind !== 'unauthorized' && err.kind !== 'forbidden') return err;
    return new BerthError('not-found', `pull access denied for ${this.familiar}, repository does not exist or may require 'docker login': ${err.message.replace(/^[^:]*: /, '')}`, { cause: err });
  }

  /**
   * GET one manifest by tag or digest, verified: at most 4 MiB, its digest matching the reference
   * (or `expect`) and the registry's Docker-Content-Digest, its size matching `expect`.
   * not-found for an unknown tag; invalid-argument for anything malformed or mismatched.
   */
  async manifest(tagOrDigest: string, o: { expect?: Descriptor; signal?: AbortSignal; seen?: ReadonlySet<string> } = {}): Promise<FetchedManifest> {
    const refText = tagOrDigest.startsWith('sha256:') ? `${this.familiar}@${tagOrDigest}` : `${this.familiar}:${tagOrDigest}`;
    const res = await this.#request('GET', `/v2/${this.path}/manifests/${tagOrDigest}`, { headers: { Accept: MANIFEST_ACCEPT }, signal: o.signal }).catch((err: unknown) => {
      throw err instanceof BerthError ? this.#pullDenied(err) : err;
    });
    if (res.status === 404) {
      const text = await errorText(res);
      throw new BerthError('not-found', `manifest for ${refText} not found: ${text}`);
    }
    if (res.status !== 200) throw this.#pullDenied(await this.#fail(res, `GET manifest ${refText}`));
    const raw = await readBody(res, MAX_MANIFEST, `manifest ${refText}`).catch((err: unknown) => {
      throw wrap(err, 'invalid manifest');
    });
    const digest = sha256(raw);
    const want = o.expect?.digest ?? (tagOrDigest.startsWith('sha256:') ? tagOrDigest : undefined);
    if (want && want !== digest && o.seen?.has(digest)) throw new BerthError('invalid-argument', `invalid manifest: index ${digest} points to itself (a cycle): asked for ${want}, the registry sent the index again`);
    if (want && want !== digest) throw new BerthError('invalid-argument', `manifest verification failed for digest ${want}: the registry sent ${digest}`);
    const header = res.headers['docker-content-digest'];
    if (!want && typeof header === 'string' && header.startsWith('sha256:') && header !== digest) {
      throw new BerthError('invalid-argument', `manifest verification failed: the registry says ${header}, the content is ${digest}`);
    }
    if (o.expect && o.expect.size !== raw.length) throw new BerthError('invalid-argument', `manifest verification failed for digest ${digest}: size ${raw.length}, the index says ${o.expect.size}`);
    const ct = res.headers['content-type'];
    return { digest, raw, parsed: parseManifest(raw, ct, refText) };
  }

  /**
   * Resolve a tag or digest to the image manifest for `platform`, following an index (nested at
   * most once). invalid-argument for an index that points to itself or nests deeper; not-found
   * when no entry matches the platform.
   */
  async resolve(tagOrDigest: string, platform: Platform, signal?: AbortSignal): Promise<ResolvedImage> {
    const top = await this.manifest(tagOrDigest, { signal });
    const seen = new Set<string>([top.digest]);
    let cur = top;
    for (let depth = 0; cur.parsed.kind === 'index'; depth++) {
      if (depth >= 2) throw new BerthError('invalid-argument', `invalid manifest: index ${cur.digest} nests indexes too deeply`);
      const d = selectPlatform(cur.parsed.manifests, platform);
      if (seen.has(d.digest)) throw new BerthError('invalid-argument', `invalid manifest: index ${cur.digest} points to itself (a cycle)`);
      seen.add(d.digest);
      cur = await this.manifest(d.digest, { expect: d, signal, seen });
    }
    return { digest: top.digest, mediaType: top.parsed.mediaType, size: top.raw.length, manifest: cur as ResolvedImage['manifest'] };
  }

  async #getBlob(d: Descriptor, signal?: AbortSignal, from = 0): Promise<HttpResponse> {
    let target: string | URL = `/v2/${this.path}/blobs/${d.digest}`;
    const headers: Record<string, string> = from > 0 ? { Range: `bytes=${from}-` } : {};
    for (let hops = 0; hops < 6; hops++) {
      const res: HttpResponse = await this.#request('GET', target, { signal, headers }).catch((err: unknown) => {
        throw err instanceof BerthError ? this.#pullDenied(err) : err;
      });
      if (res.status >= 300 && res.status < 400 && typeof res.headers.location === 'string') {
        await drain(res);
        target = new URL(res.headers.location, res.url);
        continue;
      }
      if (res.status === 416 && from > 0) {
        // the registry holds fewer bytes than we kept: the partial is not this blob's
        await drain(res);
        throw new BerthError('invalid-argument', `blob ${d.digest}: size mismatch: the registry refuses bytes from ${from} on`);
      }
      if (res.status !== 200 && res.status !== 206) throw this.#pullDenied(await this.#fail(res, `GET blob ${d.digest}`));
      const fail = (msg: string): never => {
        res.body.destroy();
        throw new BerthError('invalid-argument', `blob ${d.digest}: size mismatch: ${msg}`);
      };
      const cl = res.headers['content-length'];
      const len = Number(cl);
      if (res.status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
        if (!m || Number(m[1]) !== from) fail(`asked for bytes from ${from}, the registry sends ${String(res.headers['content-range'] ?? 'no Content-Range')}`);
        if (m![3] !== '*' && Number(m![3]) !== d.size) fail(`expected ${d.size}, the registry says ${m![3]}`);
        if (cl !== undefined && Number.isFinite(len) && len !== d.size - from) fail(`expected ${d.size - from} more bytes, the registry sends ${len}`);
      } else if (cl !== undefined && Number.isFinite(len) && len !== d.size) {
        fail(`expected ${d.size}, the registry sends ${len}`);
      }
      return res;
    }
    throw new BerthError('unavailable', `GET blob ${d.digest}: too many redirects`);
  }

  /** A small blob (a config) whole, verified against its descriptor. */
  async blobBytes(d: Descriptor, limit: number, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.#getBlob(d, signal);
    const raw = await readBody(res, Math.min(limit, d.size), `blob ${d.digest}`).catch((err: unknown) => {
      if (kindOf(err) === 'invalid-argument') throw new BerthError('invalid-argument', `blob ${d.digest}: size mismatch: more than ${d.size} bytes`);
      throw err;
    });
    if (raw.length !== d.size) throw new BerthError('invalid-argument', `blob ${d.digest}: size mismatch: expected ${d.size}, got ${raw.length}`);
    const got = sha256(raw);
    if (got !== d.digest) throw new BerthError('invalid-argument', `blob ${d.digest}: digest mismatch: got ${got}`);
    return raw;
  }

  /**
   * Download a blob into `store`, resumably: bytes an earlier attempt kept are hashed again and the
   * rest is asked for with a Range request; a dropped connection is retried from where it broke
   * (BLOB_RETRIES times in a row without progress). The blob is committed only when its size and
   * digest match `d` (invalid-argument otherwise, and the kept bytes are dropped). One download per
   * digest at a time: a second caller waits and finds the blob there ('present'). `onStart` gets
   * the partial blob as the download begins, for a reader that follows the bytes.
   */
  async fetchBlob(d: Descriptor, store: ContentStore, o: { signal?: AbortSignal; progress?: ByteProgress; onStart?: (p: PartialBlob) => void } = {}): Promise<'fetched' | 'present'> {
    return store.resume(d, async (p) => {
      if (await store.holds(d)) return 'present';
      o.onStart?.(p);
      let stalls = 0;
      for (;;) {
        const from = p.offset;
        try {
          if (from < d.size || d.size === 0) {
            const res = await this.#getBlob(d, o.signal, from);
            if (res.status === 200 && from > 0) await p.reset(); // the registry ignored the Range
            await p.append(counted(res, p.offset, d.size, o.progress), o.signal);
          }
          await p.commit();
          return 'fetched';
        } catch (err) {
          if (kindOf(err) === 'unavailable' && !o.signal?.aborted) {
            stalls = p.offset > from ? 0 : stalls + 1;
            if (stalls <= BLOB_RETRIES) {
              await delay(Math.min(2000, 100 * 2 ** stalls), o.signal).catch(() => {});
              continue;
            }
          }
          // bytes that contradict the descriptor are not kept for a later attempt
          if (kindOf(err) === 'invalid-argument') await p.discard(err);
          else p.fail(err);
          throw wrap(err, `blob ${d.digest}`);
        }
      }
    });
  }

  /** True when the registry holds the blob (HEAD). */
  async hasBlob(digest: Digest, signal?: AbortSignal): Promise<boolean> {
    const res = await this.#request('HEAD', `/v2/${this.path}/blobs/${digest}`, { push: true, signal });
    await drain(res);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await this.#fail(res, `HEAD blob ${digest}`);
  }

  /**
   * Upload a blob. With `mountFrom` (repositories of this registry known to hold it) the registry is
   * first asked to mount it from there (`POST …/uploads/?mount=&from=`), which sends no bytes.
   * Otherwise, or when the registry declines, the bytes go up in one PUT, or in PATCH chunks of
   * `chunkSize` bytes (`Content-Range`) when the blob is larger than that, then a closing PUT with
   * the digest. `open(start, end)` reads the blob's bytes [start, end] (inclusive). Returns
   * `{ mounted }` naming the repository it was mounted from.
   */
  async pushBlob(d: { digest: Digest; size: number }, open: (start: number, end: number) => Readable, o: { signal?: AbortSignal; progress?: ByteProgress; mountFrom?: string[] } = {}): Promise<{ mounted?: string }> {
    const uploads = `/v2/${this.path}/blobs/uploads/`;
    let start: HttpResponse | undefined;
    for (const from of (o.mountFrom ?? []).filter((f) => f !== this.path).slice(0, 3)) {
      const target = `${uploads}?mount=${encodeURIComponent(d.digest)}&from=${encodeURIComponent(from)}`;
      const res = await this.#request('POST', target, { push: true, extraScopes: [`repository:${from}:pull`], headers: { 'Content-Length': '0' }, body: Buffer.alloc(0), signal: o.signal });
      if (res.status === 201) {
        await drain(res);
        o.progress?.(d.size, d.size);
        return { mounted: from };
      }
      if (res.status === 202) {
        start = res; // declined: the answer opened an ordinary upload
        break;
      }
      await drain(res); // 401/403 on the source, or a registry without mounts: try the next or upload
    }
    start ??= await this.#request('POST', uploads, { push: true, headers: { 'Content-Length': '0' }, body: Buffer.alloc(0), signal: o.signal });
    if (start.status !== 202) throw await this.#fail(start, `POST upload for ${d.digest}`);
    await drain(start);
    let url = locationOf(start, 'started an upload');
    const chunk = this.client.settings.chunkSize;
    const body = (s: number, e: number, base: number) => (): Readable => {
      let n = base;
      const counter = new Transform({
        transform(c: Buffer, _enc, cb) {
          n += c.length;
          o.progress?.(n, d.size);
          cb(null, c);
        },
      });
      const src = open(s, e);
      src.on('error', (err) => counter.destroy(err));
      return src.pipe(counter);
    };
    if (d.size > chunk) {
      for (let off = 0; off < d.size; off += chunk) {
        const end = Math.min(d.size, off + chunk) - 1;
        const res = await this.#request('PATCH', url, {
          push: true, signal: o.signal, idleTimeout: 120_000, body: body(off, end, off),
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(end - off + 1), 'Content-Range': `${off}-${end}` },
        });
        if (res.status !== 202) throw await this.#fail(res, `PATCH blob ${d.digest} bytes ${off}-${end}`);
        await drain(res);
        const got = /^(?:bytes=)?0-(\d+)$/.exec(String(res.headers.range ?? ''));
        if (got && Number(got[1]) !== end) throw new BerthError('unavailable', `PATCH blob ${d.digest}: the registry holds bytes 0-${got[1]}, expected 0-${end}`);
        url = locationOf(res, 'took a chunk');
      }
      url.searchParams.set('digest', d.digest);
      const res = await this.#request('PUT', url, { push: true, headers: { 'Content-Length': '0' }, body: Buffer.alloc(0), signal: o.signal });
      if (res.status !== 201 && res.status !== 204) throw await this.#fail(res, `PUT blob ${d.digest}`);
      await drain(res);
      return {};
    }
    url.searchParams.set('digest', d.digest);
    const res = await this.#request('PUT', url, { push: true, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(d.size) }, body: body(0, Math.max(0, d.size - 1), 0), signal: o.signal, idleTimeout: 120_000 });
    if (res.status !== 201 && res.status !== 204) throw await this.#fail(res, `PUT blob ${d.digest}`);
    await drain(res);
    return {};
  }

  /** Every tag of the repository (`GET /v2/<name>/tags/list`, following `Link` pages). not-found for an unknown repository. */
  async tags(signal?: AbortSignal): Promise<string[]> {
    const out: string[] = [];
    let target: string | URL = `/v2/${this.path}/tags/list?n=1000`;
    for (let page = 0; page < 100; page++) {
      const res: HttpResponse = await this.#request('GET', target, { signal }).catch((err: unknown) => {
        throw err instanceof BerthError ? this.#pullDenied(err) : err;
      });
      if (res.status !== 200) throw this.#pullDenied(await this.#fail(res, `GET tags of ${this.familiar}`));
      let j: { tags?: unknown };
      try {
        j = JSON.parse((await readBody(res, 16 << 20, 'tag list')).toString()) as { tags?: unknown };
      } catch (err) {
        if (err instanceof BerthError) throw err;
        throw new BerthError('invalid-argument', `tag list of ${this.familiar}: not JSON`);
      }
      if (j.tags !== null && j.tags !== undefined && !(Array.isArray(j.tags) && j.tags.every((t) => typeof t === 'string'))) throw new BerthError('invalid-argument', `tag list of ${this.familiar}: malformed`);
      out.push(...((j.tags as string[] | null | undefined) ?? []));
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(String(res.headers.link ?? ''));
      if (!next) break;
      target = new URL(next[1]!, res.url);
    }
    return [...new Set(out)];
  }

  /** PUT a manifest under a tag (or its digest). Returns its digest, checked against the registry's. */
  async putManifest(tagOrDigest: string, raw: Buffer, mediaType: string, signal?: AbortSignal): Promise<Digest> {
    const res = await this.#request('PUT', `/v2/${this.path}/manifests/${tagOrDigest}`, { push: true, headers: { 'Content-Type': mediaType }, body: raw, signal });
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw await this.#fail(res, `PUT manifest ${this.familiar}:${tagOrDigest}`);
    await drain(res);
    const digest = sha256(raw);
    const header = res.headers['docker-content-digest'];
    if (typeof header === 'string' && header.startsWith('sha256:') && header !== digest) {
      throw new BerthError('unavailable', `the registry stored the manifest as ${header}, expected ${digest}`);
    }
    return digest;
  }
}

/**
 * Where one pull reads from: the registry's mirrors in order, then the registry itself. Each call
 * tries the sources in turn, starting with the one that answered last, and falls back on any
 * failure but an abort; when every source fails it throws the registry's own error (the last).
 * Everything fetched is verified by digest, so a mirror can serve stale tags but never wrong bytes.
 */
export class PullSource {
  #preferred = 0;

  constructor(readonly sources: Repository[], private readonly onFallback?: (from: Repository, err: unknown) => void) {
    if (sources.length === 0) throw new BerthError('internal', 'a pull needs a source');
  }

  /** The registry itself (the last source). */
  get origin(): Repository {
    return this.sources[this.sources.length - 1]!;
  }

  get familiar(): string {
    return this.origin.familiar;
  }

  async #each<T>(fn: (r: Repository) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const order = [...this.sources.keys()];
    order.unshift(...order.splice(this.#preferred, 1));
    let last: unknown;
    let originErr: unknown;
    for (const i of order) {
      try {
        const out = await fn(this.sources[i]!);
        this.#preferred = i;
        return out;
      } catch (err) {
        if (signal?.aborted || (err as Error).name === 'AbortError') throw err;
        last = err;
        if (i === this.sources.length - 1) originErr = err;
        else this.onFallback?.(this.sources[i]!, err);
      }
    }
    // the registry's own answer says most
    throw originErr ?? last;
  }

  resolve(tagOrDigest: string, platform: Platform, signal?: AbortSignal): Promise<ResolvedImage> {
    return this.#each((r) => r.resolve(tagOrDigest, platform, signal), signal);
  }

  manifest(tagOrDigest: string, o: { signal?: AbortSignal } = {}): Promise<FetchedManifest> {
    return this.#each((r) => r.manifest(tagOrDigest, o), o.signal);
  }

  blobBytes(d: Descriptor, limit: number, signal?: AbortSignal): Promise<Buffer> {
    return this.#each((r) => r.blobBytes(d, limit, signal), signal);
  }

  fetchBlob(d: Descriptor, store: ContentStore, o: Parameters<Repository['fetchBlob']>[2] = {}): Promise<'fetched' | 'present'> {
    return this.#each((r) => r.fetchBlob(d, store, o), o.signal);
  }

  tags(signal?: AbortSignal): Promise<string[]> {
    return this.#each((r) => r.tags(signal), signal);
  }
}
