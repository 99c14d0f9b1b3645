import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';

const KIND = ['C', 'A', 'D'];

/** `diff CONTAINER`: `C /etc`, `A /etc/x`, `D /tmp/y`, one a line. */
export function registerDiff(parent: Command, ctx: CliContext, name = 'diff'): Command {
  const cmd = verb(parent, name, 'CONTAINER', "Inspect changes to files or directories on a container's filesystem", { min: 1, max: 1 });
  return action(cmd, async ([c = '']) => {
    const changes = await ctx.client.containerChanges(c);
    ctx.out(changes.map((ch) => `${KIND[ch.Kind] ?? '?'} ${ch.Path}\n`).join(''));
  });
}
