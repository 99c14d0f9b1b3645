// docker's y/N confirmation for prune verbs, read from the CLI's stdin.
import type { CliContext } from './context.ts';

/** Writes `message` and `Are you sure you want to continue? [y/N] `, resolves true for y/Y. */
export async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  ctx.out(`${message}\nAre you sure you want to continue? [y/N] `);
  const line = await readLineFrom(ctx.io.stdin, false);
  return /^\s*[yY]\s*$/.test(line);
}

/** One line from `stdin` (without its newline); with `all`, everything up to EOF (`--password-stdin`). */
export function readLineFrom(stdin: NodeJS.ReadableStream, all: boolean): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (): void => {
      stdin.off('data', onData);
      stdin.off('end', done);
      stdin.pause();
      resolve(all ? buf : (buf.split('\n')[0] ?? ''));
    };
    const onData = (c: Buffer | string): void => {
      buf += c.toString();
      if (!all && buf.includes('\n')) done();
    };
    stdin.on('data', onData);
    stdin.on('end', done);
    stdin.resume();
  });
}

/** A password from the terminal, not echoed (raw mode), as docker's prompt reads it. */
export async function readSecret(ctx: CliContext, prompt: string): Promise<string> {
  ctx.out(prompt);
  const stdin = ctx.io.stdin;
  const raw = stdin.isTTY && typeof stdin.setRawMode === 'function';
  if (raw) stdin.setRawMode!(true);
  try {
    return await new Promise<string>((resolve, reject) => {
      let buf = '';
      const finish = (): void => {
        stdin.off('data', onData);
        stdin.pause();
        ctx.out('\n');
        resolve(buf);
      };
      const onData = (c: Buffer | string): void => {
        for (const ch of c.toString()) {
          if (ch === '\r' || ch === '\n') return finish();
          if (ch === '\u0003') {
            stdin.off('data', onData);
            reject(new Error('interrupted'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
          else buf += ch;
        }
      };
      stdin.on('data', onData);
      stdin.resume();
    });
  } finally {
    if (raw) stdin.setRawMode!(false);
  }
}
