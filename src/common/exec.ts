import { spawn, type SpawnOptions } from 'node:child_process';
import { BerthError, type ErrorKind } from './errors.ts';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Run a tool (runc, crun, conmon, iptables, …) to completion. A non-zero exit becomes a
 * BerthError carrying the tool's own message; `kind` picks its kind ('internal' by default).
 */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; kind?: ErrorKind; signal?: AbortSignal; allowFail?: boolean; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const so: SpawnOptions = { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, signal: opts.signal, cwd: opts.cwd };
    const child = spawn(cmd, args, so);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(new BerthError(opts.kind ?? 'internal', `${cmd}: ${e.message}`, { cause: e })));
    child.on('close', (code, signal) => {
      const r = { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? 128 + (signal ? 9 : 0) };
      if (r.code !== 0 && !opts.allowFail) {
        const msg = toolMessage(r.stderr || r.stdout) || `exited with code ${r.code}`;
        reject(new BerthError(opts.kind ?? 'internal', `${cmd} ${args[0] ?? ''}: ${msg}`.trim()));
      } else resolve(r);
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** runc/crun log JSON lines or plain text: keep the last meaningful message. */
function toolMessage(text: string): string {
  const lines = text.trim().split('\n').filter(Boolean);
  const last = lines[lines.length - 1] ?? '';
  try {
    const j = JSON.parse(last) as { msg?: string };
    if (typeof j.msg === 'string') return j.msg;
  } catch {
    /* plain text */
  }
  const m = /msg="([^"]*)"/.exec(last);
  return m?.[1] ?? last;
}
