import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { createContainer, runStatusError } from '../create-container.ts';
import { addContainerFlags, buildCreateRequest, type RunFlags } from '../run-flags.ts';

/** `create [OPTIONS] IMAGE [COMMAND] [ARG...]`: prints the new container's full ID. */
export function registerCreate(parent: Command, ctx: CliContext, name = 'create'): Command {
  const cmd = verb(parent, name, '[OPTIONS] IMAGE [COMMAND] [ARG...]', 'Create a new container', { min: 1 });
  addContainerFlags(cmd).passThroughOptions();
  return action<RunFlags>(cmd, async ([image = '', ...command], flags) => {
    try {
      // compat: create attaches stdout/stderr in the config as a foreground run would.
      const plan = buildCreateRequest(flags, image, command, { env: ctx.io.env, detach: false });
      const id = await createContainer(ctx, plan, { quiet: flags.quiet, cidfile: flags.cidfile });
      ctx.out(`${id}\n`);
    } catch (err) {
      throw runStatusError(ctx, 'create', err);
    }
  });
}
