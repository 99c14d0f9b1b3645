// HTTP helpers for tests: fetch a page from a published port while the server comes up.
import { request } from 'node:http';
import { createServer } from 'node:net';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** GET http://host:port/, retrying while the server comes up; the body, or the last error. */
export async function get(host: string, port: number, tries = 40, path = '/'): Promise<string> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const r = request({ host, port, path, timeout: 1000, agent: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body.trim()));
        });
        r.on('timeout', () => r.destroy(new Error('timeout')));
        r.on('error', reject);
        r.end();
      });
    } catch (err) {
      last = (err as Error).message;
      await sleep(100);
    }
  }
  return `unreachable: ${last}`;
}

/** A TCP port nothing on the host listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
