import type { Command } from 'commander';
import { action, forEachArg, verb } from '../command.ts';
import type { CliContext } from '../context.ts';

/** `rmi [-f] [--no-prune] IMAGE...`: prints `Untagged: x` and `Deleted: sha256:…` lines. */
export function registerRmi(parent: Command, ctx: CliContext, name = 'rmi', aliases: string[] = []): Command {
  const cmd = verb(parent, name, '[OPTIONS] IMAGE [IMAGE...]', 'Remove one or more images', { min: 1 }).aliases(aliases);
  cmd.option('-f, --force', 'Force removal of the image').option('--no-prune', 'Do not delete untagged parents');
  return action<{ force?: boolean; prune: boolean }>(cmd, async (args, o) => {
    await forEachArg(ctx, args, async (img) => {
      const items = await ctx.client.imageRemove(img, { force: o.force, noprune: !o.prune });
      for (const d of items) {
        if (d.Untagged) ctx.out(`Untagged: ${d.Untagged}\n`);
        if (d.Deleted) ctx.out(`Deleted: ${d.Deleted}\n`);
      }
    });
  });
}
