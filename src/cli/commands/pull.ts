import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { pullImage } from '../create-container.ts';
import { hasTagOrDigest, normalizedRef } from '../docker-config.ts';
import { StatusError } from '../errors.ts';

/** `pull [-a] [-q] [--platform] NAME[:TAG|@DIGEST]`, with the stored credentials as X-Registry-Auth. */
export function registerPull(parent: Command, ctx: CliContext, name = 'pull'): Command {
  const cmd = verb(parent, name, '[OPTIONS] NAME[:TAG|@DIGEST]', 'Download an image from a registry', { min: 1, max: 1 });
  cmd
    .option('-a, --all-tags', 'Download all tagged images in the repository')
    .option('--disable-content-trust', 'Skip image verification (default true)')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('-q, --quiet', 'Suppress verbose output');
  return action<{ allTags?: boolean; quiet?: boolean; platform?: string }>(cmd, async ([ref = ''], o) => {
    const tagged = hasTagOrDigest(ref);
    if (o.allTags && tagged) throw new StatusError("tag can't be used with --all-tags/-a", 1);
    if (!o.allTags && !tagged && !o.quiet) ctx.out('Using default tag: latest\n');
    await pullImage(ctx, ref, { platform: o.platform, quiet: o.quiet, out: ctx.io.stdout, allTags: o.allTags });
    // compat: docker 28 prints the pulled reference last, quiet or not
    ctx.out(`${normalizedRef(ref, o.allTags ? undefined : 'latest')}\n`);
  });
}
