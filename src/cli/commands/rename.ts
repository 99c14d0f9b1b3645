import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';

/** `rename CONTAINER NEW_NAME`: prints nothing. */
export function registerRename(parent: Command, ctx: CliContext, name = 'rename'): Command {
  const cmd = verb(parent, name, 'CONTAINER NEW_NAME', 'Rename a container', { min: 2, max: 2 });
  return action(cmd, async ([oldName = '', newName = '']) => {
    const n = newName.trim();
    if (!n) throw new Error('Error: Neither old nor new names may be empty');
    await ctx.client.containerRename(oldName, n);
  });
}
