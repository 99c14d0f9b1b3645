import type { Command } from 'commander';
import { action, forEachArg, verb } from '../command.ts';
import type { CliContext } from '../context.ts';

/** `rm [-f] [-v] [-l] CONTAINER...`. */
export function registerRm(parent: Command, ctx: CliContext, name = 'rm'): Command {
  const cmd = verb(parent, name, '[OPTIONS] CONTAINER [CONTAINER...]', 'Remove one or more containers', { min: 1 });
  cmd
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
    .option('-l, --link', 'Remove the specified link');
  return action<{ force?: boolean; volumes?: boolean; link?: boolean }>(cmd, async (args, o) => {
    await forEachArg(ctx, args, async (c) => {
      // compat: docker strips a leading slash so `rm /name` works.
      const id = c.replace(/^\//, '');
      if (!id) throw new Error('Container name cannot be empty');
      await ctx.client.containerRemove(id, { force: o.force, volumes: o.volumes, link: o.link });
      return c;
    });
  });
}
