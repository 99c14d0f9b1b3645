// Test helpers for cli/: run `main` against a FakeDaemon with captured stdio. Not used by the CLI.
import { PassThrough, Readable } from 'node:stream';
import { FakeDaemon, type Route } from '../client/index.ts';
import { main } from './main.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(): PassThrough & { text: () => string } {
  const s = new PassThrough() as PassThrough & { text: () => string };
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.text = () => Buffer.concat(chunks).toString('utf8');
  return s;
}

/** Runs `berth <argv>` against `fake` (or a dead socket) and collects its output. */
export async function runCli(argv: string[], fake?: FakeDaemon, opts: { stdin?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const stdout = sink();
  const stderr = sink();
  const stdin = Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]);
  const code = await main(argv, {
    stdout,
    stderr,
    stdin,
    env: { BERTH_HOST: `unix://${fake?.socketPath ?? '/nonexistent/berth.sock'}`, ...opts.env },
  });
  await new Promise((r) => setImmediate(r));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

export async function startFake(routes: Route[] = []): Promise<FakeDaemon> {
  return new FakeDaemon(routes).start();
}
