import type { Command } from 'commander';
import type { ContainerInspectResponse } from '../../api/index.ts';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { StatusError } from '../errors.ts';
import { DETACHED_MESSAGE, monitorTtySize, proxySignals, streamHijacked, ttySize } from '../hijack.ts';

interface AttachFlags {
  detachKeys?: string;
  stdin: boolean;
  sigProxy: boolean;
}

/** docker's inspectContainerAndCheckState: the container must be running, not paused or restarting. */
async function runningContainer(ctx: CliContext, container: string): Promise<ContainerInspectResponse> {
  const c = await ctx.client.containerInspect(container);
  if (!c.State?.Running) throw new StatusError('You cannot attach to a stopped container, start it first', 1);
  if (c.State.Paused) throw new StatusError('You cannot attach to a paused container, unpause it first', 1);
  if (c.State.Restarting) throw new StatusError('You cannot attach to a restarting container, wait until it is running', 1);
  return c;
}

/**
 * `attach [OPTIONS] CONTAINER`: streams a running container's output (and stdin when it was
 * created with -i), then exits with its exit code. A detach prints `read escape sequence` and
 * exits 1, as the docker CLI does; the container keeps running.
 */
export function registerAttach(parent: Command, ctx: CliContext, name = 'attach'): Command {
  const cmd = verb(parent, name, '[OPTIONS] CONTAINER', 'Attach local standard input, output, and error streams to a running container', { min: 1, max: 1 });
  cmd
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('--no-stdin', 'Do not attach STDIN')
    .option('--sig-proxy', 'Proxy all received signals to the process', true)
    .option('--no-sig-proxy', 'Do not proxy received signals to the process');
  return action<AttachFlags>(cmd, async ([container = ''], flags) => {
    const { client } = ctx;
    const c = await runningContainer(ctx, container);
    const id = c.Id ?? container;
    const tty = !!c.Config?.Tty;
    if (flags.stdin && tty && !ctx.io.stdin.isTTY) throw new StatusError('the input device is not a TTY', 1);
    const stdin = flags.stdin && !!c.Config?.OpenStdin;
    // compat: `not-running` answers at once for a container that exited in between.
    const wait = await client.containerWaitBegin(id, 'not-running');
    const restore: (() => void)[] = [];
    try {
      if (flags.sigProxy && !tty) restore.push(proxySignals(ctx, id));
      const hijacked = await client.containerAttach(id, { stream: true, stdin, stdout: true, stderr: true, detachKeys: flags.detachKeys });
      try {
        await runningContainer(ctx, id);
      } catch (err) {
        hijacked.socket.destroy();
        throw err;
      }
      const size = tty ? ttySize(ctx) : undefined;
      if (size) {
        // compat: docker resizes to one more row and column first so the shell redraws its prompt.
        await client.containerResize(id, size[0] + 1, size[1] + 1).catch(() => undefined);
        restore.push(monitorTtySize(ctx, (h, w) => client.containerResize(id, h, w)));
      }
      const end = await streamHijacked(ctx, hijacked, { stdin, tty, detachKeys: flags.detachKeys });
      if (end === 'detached') throw new StatusError(DETACHED_MESSAGE, 1);
    } finally {
      for (const r of restore.reverse()) r();
    }
    const status = await wait.result;
    if (status.Error?.Message) throw new StatusError(status.Error.Message, 1);
    ctx.exitCode = status.StatusCode;
  });
}
