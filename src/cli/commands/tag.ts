import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { splitRef } from '../progress.ts';

/** `tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`: prints nothing. */
export function registerTag(parent: Command, ctx: CliContext, name = 'tag'): Command {
  const cmd = verb(parent, name, 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]', 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', { min: 2, max: 2 });
  return action(cmd, async ([source = '', target = '']) => {
    if (target.includes('@')) throw new Error('refusing to create a tag with a digest reference');
    const { fromImage, tag } = splitRef(target);
    await ctx.client.imageTag(source, fromImage, tag);
  });
}
