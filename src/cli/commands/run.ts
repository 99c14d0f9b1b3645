import type { Command } from 'commander';
import { attachAndRun } from '../attach.ts';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { createContainer, runStatusError } from '../create-container.ts';
import { StatusError } from '../errors.ts';
import { addContainerFlags, buildCreateRequest, type RunFlags } from '../run-flags.ts';

/**
 * `run [OPTIONS] IMAGE [COMMAND] [ARG...]`. Detached: create, start, print the full ID.
 * Foreground: create, attach, wait (`next-exit`, or `removed` with --rm), start, copy the
 * output, and exit with the container's code. CLI and daemon errors exit 125, a missing
 * command 127, a command that cannot be run 126.
 */
export function registerRun(parent: Command, ctx: CliContext, name = 'run'): Command {
  const cmd = verb(parent, name, '[OPTIONS] IMAGE [COMMAND] [ARG...]', 'Create and run a new container from an image', { min: 1 });
  cmd.option('-d, --detach', 'Run container in background and print container ID');
  addContainerFlags(cmd).passThroughOptions();
  return action<RunFlags>(cmd, async ([image = '', ...command], flags) => {
    try {
      const plan = buildCreateRequest(flags, image, command, { env: ctx.io.env });
      if (!flags.detach && plan.body.AttachStdin && plan.body.Tty && !ctx.io.stdin.isTTY) {
        throw new StatusError('the input device is not a TTY', 1);
      }
      const id = await createContainer(ctx, plan, { quiet: flags.quiet, cidfile: flags.cidfile });
      if (flags.detach) {
        await ctx.client.containerStart(id);
        ctx.out(`${id}\n`);
        return;
      }
      const body = plan.body;
      const status = await attachAndRun(
        ctx,
        id,
        {
          stdin: !!body.AttachStdin,
          stdout: !!body.AttachStdout,
          stderr: !!body.AttachStderr,
          tty: !!body.Tty,
          detachKeys: flags.detachKeys,
          sigProxy: flags.sigProxy,
          waitCondition: flags.rm ? 'removed' : 'next-exit',
        },
        () => ctx.client.containerStart(id),
      );
      ctx.exitCode = status?.StatusCode ?? 0;
    } catch (err) {
      throw runStatusError(ctx, 'run', err);
    }
  });
}
