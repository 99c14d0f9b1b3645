// docker's y/N confirmation for prune verbs, read from the CLI's stdin.
import type { CliContext } from './context.ts';

/** Writes `message` and `Are you sure you want to continue? [y/N] `, resolves true for y/Y. */
export async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  ctx.out(`${message}\nAre you sure you want to continue? [y/N] `);
  const line = await readLine(ctx.io.stdin);
  return /^\s*[yY]\s*$/.test(line);
}

function readLine(stdin: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (): void => {
      stdin.off('data', onData);
      stdin.off('end', done);
      stdin.pause();
      resolve(buf.split('\n')[0] ?? '');
    };
    const onData = (c: Buffer | string): void => {
      buf += c.toString();
      if (buf.includes('\n')) done();
    };
    stdin.on('data', onData);
    stdin.on('end', done);
    stdin.resume();
  });
}
