import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { StatusError } from '../errors.ts';
import { displayProgress } from '../progress.ts';

/** `load [-i FILE] [-q]`: a `save` tarball from a file or stdin; prints `Loaded image: x`. */
export function registerLoad(parent: Command, ctx: CliContext, name = 'load'): Command {
  const cmd = verb(parent, name, '[OPTIONS]', 'Load an image from a tar archive or STDIN', { max: 0 });
  cmd.option('-i, --input <string>', 'Read from tar archive file, instead of STDIN').option('-q, --quiet', 'Suppress the load output');
  return action<{ input?: string; quiet?: boolean }>(cmd, async (_args, o) => {
    let body: NodeJS.ReadableStream;
    if (o.input) {
      await access(o.input).catch(() => {
        throw new StatusError(`open ${o.input}: no such file or directory`, 1);
      });
      body = createReadStream(o.input);
    } else {
      if (ctx.io.stdin.isTTY) throw new StatusError('requested load from stdin, but stdin is empty', 1);
      body = ctx.io.stdin;
    }
    const progress = await ctx.client.imageLoad(body as never, { quiet: o.quiet || !ctx.io.stdout.isTTY });
    await displayProgress(progress, ctx.io.stdout);
  });
}
