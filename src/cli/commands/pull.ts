import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { pullImage } from '../create-container.ts';
import { normalizeRef } from '../progress.ts';

/** `pull [-q] [--platform] NAME[:TAG|@DIGEST]`. */
export function registerPull(parent: Command, ctx: CliContext, name = 'pull'): Command {
  const cmd = verb(parent, name, '[OPTIONS] NAME[:TAG|@DIGEST]', 'Download an image from a registry', { min: 1, max: 1 });
  cmd.option('-q, --quiet', 'Suppress verbose output').option('--platform <string>', 'Set platform if server is multi-platform capable');
  return action<{ quiet?: boolean; platform?: string }>(cmd, async ([ref = ''], o) => {
    await pullImage(ctx, ref, { platform: o.platform, quiet: o.quiet, out: ctx.io.stdout });
    const full = normalizeRef(ref);
    if (o.quiet) ctx.out(`${full.includes('/') ? full : `docker.io/library/${full}`}\n`);
  });
}
