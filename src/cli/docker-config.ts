// The docker CLI's config.json: credentials under `auths` (base64 `user:password` in `auth`),
// kept in `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, mode 0600. Fields berth does
// not know are kept as they are. Credential helpers (`credsStore`, `credHelpers`) are not run.
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/index.ts';
import type { CliContext } from './context.ts';

/** Docker Hub's key in `auths`, and the server address logins without a server name. */
export const HUB_SERVER = 'https://index.docker.io/v1/';

export interface AuthEntry {
  auth?: string;
  identitytoken?: string;
  [k: string]: unknown;
}

export interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  [k: string]: unknown;
}

export interface StoredCredentials {
  username: string;
  password: string;
  identityToken?: string;
  serverAddress: string;
}

/** `$DOCKER_CONFIG`, else `~/.docker`. */
export function configDir(env: NodeJS.ProcessEnv): string {
  return env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker');
}

export const configPath = (env: NodeJS.ProcessEnv): string => join(configDir(env), 'config.json');

/** The config file, or `{}` when there is none. Throws with docker's wording when it is not JSON. */
export async function loadConfig(env: NodeJS.ProcessEnv): Promise<DockerConfigFile> {
  const p = configPath(env);
  let text: string;
  try {
    text = await readFile(p, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return {};
    throw err;
  }
  if (!text.trim()) return {};
  try {
    const j = JSON.parse(text) as unknown;
    if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new Error('not an object');
    return j as DockerConfigFile;
  } catch (err) {
    throw new Error(`loading config file: ${p}: ${(err as Error).message}`);
  }
}

/** Write the config atomically with mode 0600 (its directory 0700), tab-indented as docker writes it. */
export async function saveConfig(env: NodeJS.ProcessEnv, cfg: DockerConfigFile): Promise<void> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = join(dir, 'config.json');
  await writeFileAtomic(target, JSON.stringify(cfg, null, '\t'), 0o600);
  await chmod(target, 0o600);
}

/** docker's ConvertToHostname: `https://127.0.0.1:5000/v2/` → `127.0.0.1:5000`. */
export function toHostname(server: string): string {
  const s = server.replace(/^https?:\/\//, '');
  return s.split('/')[0] ?? s;
}

/** The key a login to `server` is stored under: Docker Hub's URL, else the host name. */
export function serverKey(server: string | undefined): string {
  if (!server) return HUB_SERVER;
  const h = toHostname(server);
  return h === 'index.docker.io' || h === 'docker.io' || h === 'registry-1.docker.io' ? HUB_SERVER : h;
}

/** Credentials stored for `server` (a key as serverKey gives), matching keys written with a scheme or path too. */
export function storedCredentials(cfg: DockerConfigFile, server: string): StoredCredentials | undefined {
  const auths = cfg.auths ?? {};
  const key = Object.keys(auths).find((k) => k === server) ?? Object.keys(auths).find((k) => serverKey(k) === server);
  if (!key) return undefined;
  const e = auths[key] ?? {};
  let username = typeof e['username'] === 'string' ? e['username'] : '';
  let password = typeof e['password'] === 'string' ? e['password'] : '';
  if (typeof e.auth === 'string' && e.auth) {
    const dec = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i >= 0) {
      username = dec.slice(0, i);
      password = dec.slice(i + 1);
    }
  }
  const identityToken = typeof e.identitytoken === 'string' && e.identitytoken ? e.identitytoken : undefined;
  if (!username && !identityToken) return undefined;
  return { username, password, serverAddress: server, ...(identityToken ? { identityToken } : {}) };
}

/** Store (or, with undefined, remove) the credentials for `server`. */
export function setCredentials(cfg: DockerConfigFile, server: string, creds: StoredCredentials | undefined): DockerConfigFile {
  const auths = { ...(cfg.auths ?? {}) };
  for (const k of Object.keys(auths)) if (k === server || serverKey(k) === server) delete auths[k];
  if (creds) {
    auths[server] = {
      auth: Buffer.from(`${creds.username}:${creds.identityToken ? '' : creds.password}`).toString('base64'),
      ...(creds.identityToken ? { identitytoken: creds.identityToken } : {}),
    };
  }
  return { ...cfg, auths };
}

/**
 * The registry a reference names, by the docker CLI's rule: its first component when that has a
 * dot, a port or is `localhost`; Docker Hub otherwise.
 */
export function registryOf(ref: string): string {
  const i = ref.indexOf('/');
  const first = i < 0 ? '' : ref.slice(0, i);
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) return HUB_SERVER;
  return serverKey(first);
}

/** `X-Registry-Auth` for `ref`: the stored credentials of its registry as base64url JSON, or `e30=` (`{}`). */
export async function registryAuthHeader(ctx: CliContext, ref: string): Promise<string> {
  const server = registryOf(ref);
  const creds = storedCredentials(await loadConfig(ctx.io.env).catch(() => ({})), server);
  if (!creds) return 'e30=';
  const body = creds.identityToken
    ? { identitytoken: creds.identityToken, serveraddress: server }
    : { username: creds.username, password: creds.password, serveraddress: server };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** `docker.io/library/busybox:latest` for `busybox` (reference.ParseNormalizedNamed(...).String()); a tag is added only when `tag` is set. */
export function normalizedRef(ref: string, tag?: string): string {
  let out = ref;
  if (registryOf(ref) === HUB_SERVER && !/^(docker\.io|index\.docker\.io)\//.test(ref)) out = `docker.io/${ref.includes('/') ? '' : 'library/'}${ref}`;
  out = out.replace(/^index\.docker\.io\//, 'docker.io/');
  if (/^docker\.io\/[^/]+$/.test(out.split(/[:@]/)[0] ?? '')) out = out.replace(/^docker\.io\//, 'docker.io/library/');
  if (tag && !hasTagOrDigest(out)) out = `${out}:${tag}`;
  return out;
}

/** True when a reference carries a tag or digest. */
export function hasTagOrDigest(ref: string): boolean {
  if (ref.includes('@')) return true;
  const slash = ref.lastIndexOf('/');
  return ref.lastIndexOf(':') > slash;
}
