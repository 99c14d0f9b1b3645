// The distribution v2 / OCI distribution client: endpoints, manifests, verified blobs, uploads.
import { Transform, type Readable } from 'node:stream';
import { BerthError, kindOf, messageOf, sha256, wrap, type Digest } from '../../common/index.ts';
import { familiarRepository, type Descriptor } from '../../oci/index.ts';
import type { ContentStore } from '../../store/index.ts';
import { Authorizer, type Credentials } from './auth.ts';
import { DEFAULT_INSECURE, apiHost, domainOfServerAddress, isInsecure, tlsMaterial, type RegistrySettings } from './hosts.ts';
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

/** Retries of a blob download whose connection dropped (from the start: TODO(#4) resume with Range). */
const BLOB_RETRIES = 2;

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
    };
    this.auth = new Authorizer(async (url) => this.#tls(url.host, url.protocol === 'https:'));
  }

  get settings(): Readonly<RegistrySettings> {
    return this.#settings;
  }

  async #tls(host: string, https: boolean): Promise<SendOptions['tls']> {
    if (!https) return undefined;
    return { ...(await tlsMaterial(this.#settings.certsDir, host)), skipVerify: isInsecure(host, this.#settings.insecure) };
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

  constructor(private readonly client: RegistryClient, readonly domain: string, readonly path: string, private readonly creds: Credentials) {
    this.host = apiHost(domain);
    this.familiar = familiarRepository({ domain, path });
  }

  async #request(method: string, target: string | URL, o: { push?: boolean; headers?: Record<string, string>; body?: SendOptions['body']; signal?: AbortSignal; idleTimeout?: number } = {}): Promise<HttpResponse> {
    const ep = await this.client.endpoint(this.host, o.signal);
    const url = typeof target === 'string' ? new URL(target, ep.origin) : target;
    const scopes = [`repository:${this.path}:${o.push ? 'pull,push' : 'pull'}`];
    const sameOrigin = url.origin === ep.origin.origin;
    for (let attempt = 0; ; attempt++) {
      const auth = sameOrigin ? await this.client.auth.header(this.host, scopes, this.creds, o.signal) : undefined;
      let res: HttpResponse;
      try {
        res = await send({ method, url, headers: { ...(o.headers ?? {}), ...(auth ? { Authorization: auth } : {}) }, body: o.body, signal: o.signal, tls: sameOrigin ? ep.tls : undefined, idleTimeout: o.idleTimeout });
      } catch (err) {
        if (kindOf(err) === 'unavailable') this.client.forget(this.host);
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
  async manifest(tagOrDigest: string, o: { expect?: Descriptor; signal?: AbortSignal } = {}): Promise<FetchedManifest> {
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
      if (seen.has(d.digest)) throw new BerthError('invalid-argument', `invalid manifest: index ${cur.digest} points to itself`);
      seen.add(d.digest);
      cur = await this.manifest(d.digest, { expect: d, signal });
    }
    return { digest: top.digest, mediaType: top.parsed.mediaType, size: top.raw.length, manifest: cur as ResolvedImage['manifest'] };
  }

  async #getBlob(d: Descriptor, signal?: AbortSignal): Promise<HttpResponse> {
    let target: string | URL = `/v2/${this.path}/blobs/${d.digest}`;
    for (let hops = 0; hops < 6; hops++) {
      const res: HttpResponse = await this.#request('GET', target, { signal }).catch((err: unknown) => {
        throw err instanceof BerthError ? this.#pullDenied(err) : err;
      });
      if (res.status >= 300 && res.status < 400 && typeof res.headers.location === 'string') {
        await drain(res);
        target = new URL(res.headers.location, res.url);
        continue;
      }
      if (res.status !== 200) throw this.#pullDenied(await this.#fail(res, `GET blob ${d.digest}`));
      const len = Number(res.headers['content-length']);
      if (res.headers['content-length'] !== undefined && Number.isFinite(len) && len !== d.size) {
        res.body.destroy();
        throw new BerthError('invalid-argument', `blob ${d.digest}: size mismatch: expected ${d.size}, the registry sends ${len}`);
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
   * Download a blob into `store`, hashing and counting as it streams: it is committed only when
   * both its size and digest match `d` (invalid-argument otherwise). A dropped connection is
   * retried from the start.
   */
  async fetchBlob(d: Descriptor, store: ContentStore, o: { signal?: AbortSignal; progress?: ByteProgress } = {}): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.#getBlob(d, o.signal);
        const size = d.size;
        const progress = o.progress;
        async function* counted(): AsyncGenerator<Buffer> {
          let n = 0;
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
        }
        await store.ingest(counted(), { digest: d.digest, size: d.size }, o.signal);
        return;
      } catch (err) {
        if (kindOf(err) === 'unavailable' && attempt < BLOB_RETRIES && !o.signal?.aborted) continue;
        throw wrap(err, `blob ${d.digest}`);
      }
    }
  }

  /** True when the registry holds the blob (HEAD). */
  async hasBlob(digest: Digest, signal?: AbortSignal): Promise<boolean> {
    const res = await this.#request('HEAD', `/v2/${this.path}/blobs/${digest}`, { push: true, signal });
    await drain(res);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await this.#fail(res, `HEAD blob ${digest}`);
  }

  /** Upload a blob in one PUT (the monolithic flow: POST an upload, PUT its bytes with the digest). */
  async pushBlob(d: { digest: Digest; size: number }, open: () => Readable, o: { signal?: AbortSignal; progress?: ByteProgress } = {}): Promise<void> {
    const start = await this.#request('POST', `/v2/${this.path}/blobs/uploads/`, { push: true, headers: { 'Content-Length': '0' }, body: Buffer.alloc(0), signal: o.signal });
    if (start.status !== 202) throw await this.#fail(start, `POST upload for ${d.digest}`);
    await drain(start);
    const loc = start.headers.location;
    if (typeof loc !== 'string' || !loc) throw new BerthError('unavailable', 'the registry started an upload without a Location');
    const url = new URL(loc, start.url);
    url.searchParams.set('digest', d.digest);
    const body = (): Readable => {
      let n = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          n += chunk.length;
          o.progress?.(n, d.size);
          cb(null, chunk);
        },
      });
      const src = open();
      src.on('error', (e) => counter.destroy(e));
      return src.pipe(counter);
    };
    const res = await this.#request('PUT', url, { push: true, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(d.size) }, body, signal: o.signal, idleTimeout: 120_000 });
    if (res.status !== 201 && res.status !== 204) throw await this.#fail(res, `PUT blob ${d.digest}`);
    await drain(res);
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
