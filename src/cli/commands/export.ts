import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { StatusError } from '../errors.ts';

/** `export [-o FILE] CONTAINER`: the root filesystem as a tar, to a file or a non-terminal stdout. */
export function registerExport(parent: Command, ctx: CliContext, name = 'export'): Command {
  const cmd = verb(parent, name, '[OPTIONS] CONTAINER', "Export a container's filesystem as a tar archive", { min: 1, max: 1 });
  cmd.option('-o, --output <string>', 'Write to a file, instead of STDOUT');
  return action<{ output?: string }>(cmd, async ([c = ''], o) => {
    if (!o.output && ctx.io.stdout.isTTY) {
      throw new StatusError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    }
    const res = await ctx.client.containerExport(c);
    if (o.output) await pipeline(res, createWriteStream(o.output));
    else await pipeline(res, ctx.io.stdout, { end: false });
  });
}
