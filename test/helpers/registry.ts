// Registries for the tests, on loopback: Debian's docker-registry (distribution 2.8) on a free port
// with its own storage, optionally with TLS and htpasswd basic auth, and a counting proxy that can
// drop or stall a blob download halfway.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function listen(s: Server): Promise<string> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

export const closeServer = (s: Server): Promise<void> => new Promise((r) => {
  s.closeAllConnections();
  s.close(() => r());
});

function probe(url: string, ca?: string): Promise<number> {
  return new Promise((resolve) => {
    const r = (url.startsWith('https:') ? httpsRequest : request)(url, { ...(ca ? { ca } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    r.on('error', () => resolve(0));
    r.end();
  });
}

/** A self-signed certificate for 127.0.0.1 (openssl), as PEM strings and files in `dir`. */
export function selfSignedCert(dir: string, cn = '127.0.0.1'): { cert: string; key: string; certFile: string; keyFile: string } {
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=IP:${cn}`, '-keyout', keyFile, '-out', certFile], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  return { cert: spawnSync('cat', [certFile], { encoding: 'utf8' }).stdout, key: spawnSync('cat', [keyFile], { encoding: 'utf8' }).stdout, certFile, keyFile };
}

/** docker-registry on a random loopback port with its own storage; `htpasswd` turns on basic auth, `tls` https. */
export class Registry {
  proc?: ChildProcess;
  host = '';
  readonly dir = mkdtempSync('/tmp/berth-registry-');
  log = '';
  tls?: { cert: string; key: string; certFile: string; keyFile: string };

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  async start(o: { htpasswd?: { user: string; password: string }; tls?: boolean; port?: number } = {}): Promise<void> {
    const port = o.port ?? (await freePort());
    this.host = `127.0.0.1:${port}`;
    let auth = '';
    if (o.htpasswd) {
      const h = spawnSync('htpasswd', ['-Bbn', o.htpasswd.user, o.htpasswd.password], { encoding: 'utf8' });
      if (h.status !== 0) throw new Error(`htpasswd: ${h.stderr}`);
      writeFileSync(join(this.dir, 'htpasswd'), h.stdout);
      auth = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${join(this.dir, 'htpasswd')}\n`;
    }
    let tls = '';
    if (o.tls) {
      this.tls ??= selfSignedCert(join(this.dir, 'tls'));
      tls = `  tls:\n    certificate: ${this.tls.certFile}\n    key: ${this.tls.keyFile}\n`;
    }
    writeFileSync(join(this.dir, 'config.yml'), `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${this.dataDir}\n  delete:\n    enabled: true\nhttp:\n  addr: ${this.host}\n${tls}${auth}`);
    this.proc = spawn('docker-registry', ['serve', join(this.dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    for (let i = 0; i < 100; i++) {
      if ((await probe(`${o.tls ? 'https' : 'http'}://${this.host}/v2/`, this.tls?.cert)) !== 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`docker-registry did not start: ${this.log}`);
  }

  async kill(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export type ProxyMode = 'pass' | 'drop-half' | 'stall-half';

/**
 * A plain-http proxy in front of a registry that counts the blob bytes it forwards per digest and,
 * for blobs in `modes`, drops or stalls the next download once half the blob went through.
 */
export class CountingProxy {
  readonly served = new Map<string, number>();
  readonly requests: string[] = [];
  readonly modes = new Map<string, ProxyMode>();
  /** Resolved when a stalled download has sent its half. */
  stalled?: Promise<void>;
  #onStall?: () => void;
  host = '';
  #server: Server;

  constructor(private readonly upstream: string) {
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  async start(): Promise<this> {
    this.host = await listen(this.#server);
    return this;
  }

  /** Make the next GET of `digest` drop or stall once half of it is sent (then pass again). */
  arm(digest: string, mode: ProxyMode): void {
    this.modes.set(digest, mode);
    if (mode === 'stall-half') this.stalled = new Promise((r) => (this.#onStall = r));
  }

  servedOf(digest: string): number {
    return this.served.get(digest) ?? 0;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
    const [host, port] = this.upstream.split(':');
    const headers = { ...req.headers, host: this.upstream };
    const up = request({ host, port: Number(port), method: req.method, path: req.url, headers }, (ur) => {
      const digest = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec((req.url ?? '').split('?')[0]!)?.[1];
      const location = ur.headers.location?.replace(`//${this.upstream}/`, `//${this.host}/`);
      res.writeHead(ur.statusCode ?? 502, { ...ur.headers, ...(location ? { location } : {}) });
      if (!digest || req.method !== 'GET') {
        ur.pipe(res);
        return;
      }
      const mode = this.modes.get(digest) ?? 'pass';
      const total = Number(ur.headers['content-length'] ?? 0);
      const range = /^bytes=(\d+)-/.exec(String(req.headers.range ?? ''));
      const full = range ? Number(range[1]) + total : total;
      let sent = 0;
      let cut = false;
      ur.on('data', (chunk: Buffer) => {
        if (cut) return;
        let c = chunk;
        if (mode !== 'pass' && sent + c.length >= full / 2 - (range ? Number(range[1]) : 0)) {
          c = c.subarray(0, Math.max(0, Math.floor(full / 2) - (range ? Number(range[1]) : 0) - sent));
          cut = true;
        }
        sent += c.length;
        this.served.set(digest, this.servedOf(digest) + c.length);
        if (c.length) res.write(c);
        if (!cut) return;
        this.modes.delete(digest);
        ur.destroy();
        if (mode === 'drop-half') setTimeout(() => res.socket?.destroy(), 50);
        else this.#onStall?.(); // stall-half: keep the connection open, send nothing more
      });
      ur.on('end', () => {
        if (!cut) res.end();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }

  close(): Promise<void> {
    return closeServer(this.#server);
  }
}
