import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { hasTagOrDigest, normalizedRef, registryAuthHeader } from '../docker-config.ts';
import { StatusError } from '../errors.ts';
import { displayProgress } from '../progress.ts';

/** `push [-a] [-q] NAME[:TAG]`: per-layer progress as the docker CLI draws it, the stored credentials as X-Registry-Auth. */
export function registerPush(parent: Command, ctx: CliContext, name = 'push'): Command {
  const cmd = verb(parent, name, '[OPTIONS] NAME[:TAG]', 'Upload an image to a registry', { min: 1, max: 1 });
  cmd
    .option('-a, --all-tags', 'Push all tags of an image to the repository')
    .option('--disable-content-trust', 'Skip image signing (default true)')
    .option('-q, --quiet', 'Suppress verbose output');
  return action<{ allTags?: boolean; quiet?: boolean }>(cmd, async ([ref = ''], o) => {
    const tagged = hasTagOrDigest(ref);
    if (o.allTags && tagged) throw new StatusError("tag can't be used with --all-tags/-a", 1);
    let target = ref;
    if (!o.allTags && !tagged) {
      // compat: since docker 20.10 a push without a tag pushes `latest`, not every tag
      if (!o.quiet) ctx.out('Using default tag: latest\n');
      target = `${ref}:latest`;
    }
    const at = target.lastIndexOf(':');
    const slash = target.lastIndexOf('/');
    const [repo, tag] = at > slash ? [target.slice(0, at), target.slice(at + 1)] : [target, undefined];
    const stream = await ctx.client.imagePush(repo, { tag, auth: await registryAuthHeader(ctx, ref) });
    await displayProgress(stream, o.quiet ? undefined : ctx.io.stdout);
    if (o.quiet) ctx.out(`${normalizedRef(target)}\n`);
  });
}
