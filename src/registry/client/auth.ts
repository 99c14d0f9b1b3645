// Registry authentication: anonymous, basic, and bearer tokens (the distribution token spec:
// `WWW-Authenticate: Bearer realm=…,service=…,scope=…`, tokens fetched and cached per scope).
import { createHash } from 'node:crypto';
import { BerthError } from '../../common/index.ts';
import { readBody, send, errorText, type SendOptions } from './transport.ts';

/** What a client sends: Docker's AuthConfig (`X-Registry-Auth`, `POST /auth`), in our casing. */
export interface Credentials {
  username?: string;
  password?: string;
  /** A refresh token from an earlier login (OAuth2 `refresh_token` grant). */
  identityToken?: string;
  /** A bearer token to send as is. */
  registryToken?: string;
  serverAddress?: string;
}

export interface Challenge {
  scheme: string; // lower-case: 'bearer', 'basic'
  params: Record<string, string>;
}

/** Parse a `WWW-Authenticate` header into its challenges (quoted strings with escapes, or tokens). */
export function parseChallenges(header: string | undefined): Challenge[] {
  const out: Challenge[] = [];
  if (!header) return out;
  let i = 0;
  const s = header;
  const skipWs = (): void => {
    while (i < s.length && /[\s,]/.test(s[i]!)) i++;
  };
  const token = (): string => {
    const m = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(s.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  while (i < s.length) {
    skipWs();
    const scheme = token();
    if (!scheme) break;
    const params: Record<string, string> = {};
    for (;;) {
      const save = i;
      while (i < s.length && (s[i] === ' ' || s[i] === ',')) i++;
      const key = token();
      while (i < s.length && s[i] === ' ') i++;
      if (!key || s[i] !== '=') {
        i = save; // the next challenge's scheme, or the end
        break;
      }
      i++;
      while (i < s.length && s[i] === ' ') i++;
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++;
      } else {
        const m = /^[^,\s]*/.exec(s.slice(i))!;
        value = m[0];
        i += value.length;
      }
      params[key.toLowerCase()] = value;
    }
    out.push({ scheme: scheme.toLowerCase(), params });
    skipWs();
  }
  return out;
}

/** Docker's AuthConfig JSON (from `X-Registry-Auth` or `POST /auth`), validated. invalid-argument when not an object. */
export function parseAuthConfig(j: unknown): Credentials {
  if (j === undefined || j === null) return {};
  if (typeof j !== 'object' || Array.isArray(j)) throw new BerthError('invalid-argument', 'invalid auth configuration: not an object');
  const o = j as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    const v = o[k] ?? o[k[0]!.toUpperCase() + k.slice(1)];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const c: Credentials = {};
  let username = str('username');
  let password = str('password');
  const auth = str('auth');
  if (!username && auth) {
    const dec = Buffer.from(auth, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i > 0) {
      username = dec.slice(0, i);
      password = dec.slice(i + 1);
    }
  }
  if (username) c.username = username;
  if (password) c.password = password;
  const it = str('identitytoken');
  if (it) c.identityToken = it;
  const rt = str('registrytoken');
  if (rt) c.registryToken = rt;
  const sa = str('serveraddress');
  if (sa) c.serverAddress = sa;
  return c;
}

/** The `X-Registry-Auth` header: base64url (or standard base64) JSON; anything undecodable counts as anonymous, as dockerd does. */
export function decodeRegistryAuth(header: string | undefined): Credentials {
  if (!header) return {};
  try {
    const text = Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    return parseAuthConfig(JSON.parse(text));
  } catch {
    return {};
  }
}

const hasPassword = (c: Credentials): boolean => !!c.username && c.password !== undefined;
const basic = (c: Credentials): string => `Basic ${Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64')}`;

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * Authorization headers for registry requests: remembers each host's last challenge so later
 * requests carry credentials up front, and caches bearer tokens per realm, service, scope and user.
 */
export class Authorizer {
  readonly #challenges = new Map<string, Challenge>();
  readonly #tokens = new Map<string, CachedToken>();
  constructor(private readonly tlsFor: (url: URL) => Promise<SendOptions['tls']>) {}

  /** The Authorization header for a request to `host` needing `scopes`, or undefined (anonymous, or no challenge seen yet). */
  async header(host: string, scopes: string[], creds: Credentials, signal?: AbortSignal): Promise<string | undefined> {
    if (creds.registryToken) return `Bearer ${creds.registryToken}`;
    const ch = this.#challenges.get(host);
    if (!ch) return undefined;
    if (ch.scheme === 'basic') return hasPassword(creds) ? basic(creds) : undefined;
    if (ch.scheme === 'bearer') return `Bearer ${await this.#token(ch, scopes, creds, signal)}`;
    return undefined;
  }

  /**
   * A 401 came back with this `WWW-Authenticate`: remember the challenge and drop any cached token
   * it refused. Returns false when retrying cannot help (no challenge we support, or basic auth
   * with no credentials to send).
   */
  challenged(host: string, header: string | undefined, creds: Credentials, refused?: string): boolean {
    const ch = parseChallenges(header).find((c) => c.scheme === 'bearer' || c.scheme === 'basic');
    if (!ch) return false;
    const prev = this.#challenges.get(host);
    this.#challenges.set(host, ch);
    if (refused?.startsWith('Bearer ')) {
      for (const [k, v] of this.#tokens) if (`Bearer ${v.token}` === refused) this.#tokens.delete(k);
    }
    if (ch.scheme === 'basic') return hasPassword(creds) && !(prev?.scheme === 'basic' && refused);
    return true;
  }

  /** Fetch (or reuse) a bearer token. unauthorized when the token server refuses the credentials. */
  async #token(ch: Challenge, scopes: string[], creds: Credentials, signal?: AbortSignal): Promise<string> {
    const realm = ch.params.realm;
    if (!realm) throw new BerthError('unauthorized', 'bearer challenge without a realm');
    const service = ch.params.service ?? '';
    const allScopes = [...new Set([...scopes, ...(ch.params.scope ? ch.params.scope.split(' ') : [])])].sort();
    // the key covers the secret too: another password must not reuse a token
    const who = createHash('sha256').update(JSON.stringify([creds.username ?? '', creds.password ?? '', creds.identityToken ?? ''])).digest('hex');
    const key = [realm, service, allScopes.join(' '), who].join('\n');
    const hit = this.#tokens.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.token;
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new BerthError('unauthorized', `invalid token realm: ${realm}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new BerthError('unauthorized', `invalid token realm: ${realm}`);
    const tls = await this.tlsFor(url);
    let res;
    if (creds.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, service, client_id: 'berth', scope: allScopes.join(' ') });
      res = await send({ method: 'POST', url, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()), signal, tls });
    } else {
      if (service) url.searchParams.set('service', service);
      for (const s of allScopes) url.searchParams.append('scope', s);
      if (hasPassword(creds)) url.searchParams.set('account', creds.username!);
      res = await send({ method: 'GET', url, headers: hasPassword(creds) ? { Authorization: basic(creds) } : {}, signal, tls });
    }
    if (res.status === 401 || res.status === 403) {
      throw new BerthError('unauthorized', `unauthorized: ${await errorText(res)}`);
    }
    if (res.status !== 200) throw new BerthError('unavailable', `token server ${url.origin} answered ${res.status}: ${await errorText(res)}`);
    let j: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      j = JSON.parse((await readBody(res, 1 << 20, 'token response')).toString()) as typeof j;
    } catch (err) {
      if (err instanceof BerthError) throw err;
      throw new BerthError('unavailable', `token server ${url.origin}: malformed answer`);
    }
    const token = typeof j.token === 'string' && j.token ? j.token : typeof j.access_token === 'string' ? j.access_token : '';
    if (!token) throw new BerthError('unavailable', `token server ${url.origin}: no token in its answer`);
    // the spec's default lifetime is 60 s; keep a margin
    const life = typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : 60;
    this.#tokens.set(key, { token, expiresAt: Date.now() + Math.max(1, life - 10) * 1000 });
    return token;
  }
}
