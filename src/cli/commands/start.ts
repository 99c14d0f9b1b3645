import type { Command } from 'commander';
import { attachAndRun } from '../attach.ts';
import { action, describeError, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { StatusError } from '../errors.ts';

interface StartFlags {
  attach?: boolean;
  interactive?: boolean;
  detachKeys?: string;
}

/**
 * `start [-a] [-i] CONTAINER...`. Without -a prints each name; with -a (one container) streams its
 * output and exits with its code.
 */
export function registerStart(parent: Command, ctx: CliContext, name = 'start'): Command {
  const cmd = verb(parent, name, '[OPTIONS] CONTAINER [CONTAINER...]', 'Start one or more stopped containers', { min: 1 });
  cmd
    .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
    .option('-i, --interactive', "Attach container's STDIN")
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container');
  return action<StartFlags>(cmd, async (args, o) => {
    if (o.attach || o.interactive) {
      if (args.length > 1) throw new StatusError('you cannot start and attach multiple containers at once', 1);
      const c = args[0] ?? '';
      const info = await ctx.client.containerInspect(c);
      const id = info.Id ?? c;
      const status = await attachAndRun(
        ctx,
        id,
        {
          stdin: !!o.interactive && !!info.Config?.OpenStdin,
          stdout: true,
          stderr: true,
          tty: !!info.Config?.Tty,
          detachKeys: o.detachKeys,
          sigProxy: !info.Config?.Tty,
          waitCondition: info.HostConfig?.AutoRemove ? 'removed' : 'next-exit',
        },
        () => ctx.client.containerStart(id, { detachKeys: o.detachKeys }),
      );
      ctx.exitCode = status?.StatusCode ?? 0;
      return;
    }
    const failed: string[] = [];
    for (const c of args) {
      try {
        await ctx.client.containerStart(c, { detachKeys: o.detachKeys });
        ctx.out(`${c}\n`);
      } catch (err) {
        ctx.err(`${describeError(err)}\n`);
        failed.push(c);
      }
    }
    if (failed.length) throw new StatusError(`Error: failed to start containers: ${failed.join(', ')}`, 1);
  });
}
