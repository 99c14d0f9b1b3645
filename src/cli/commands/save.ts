import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { StatusError } from '../errors.ts';

/** `save [-o FILE] IMAGE...`: a tarball to a file or a non-terminal stdout. */
export function registerSave(parent: Command, ctx: CliContext, name = 'save'): Command {
  const cmd = verb(parent, name, '[OPTIONS] IMAGE [IMAGE...]', 'Save one or more images to a tar archive (streamed to STDOUT by default)', { min: 1 });
  cmd.option('-o, --output <string>', 'Write to a file, instead of STDOUT');
  return action<{ output?: string }>(cmd, async (args, o) => {
    if (!o.output && ctx.io.stdout.isTTY) {
      throw new StatusError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    }
    const res = await ctx.client.imageSave(args);
    if (o.output) await pipeline(res, createWriteStream(o.output));
    else await pipeline(res, ctx.io.stdout, { end: false });
  });
}
