import type { Command } from 'commander';
import type { ExecConfig } from '../../api/index.ts';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { StatusError } from '../errors.ts';
import { DETACHED_MESSAGE, monitorTtySize, streamHijacked, ttySize } from '../hijack.ts';
import { listOption } from '../opts.ts';
import { expandEnv, readKeyValueFile } from '../run-flags.ts';

interface ExecFlags {
  detach?: boolean;
  detachKeys?: string;
  env: string[];
  envFile: string[];
  interactive?: boolean;
  privileged?: boolean;
  tty?: boolean;
  user?: string;
  workdir?: string;
}

/**
 * `exec [OPTIONS] CONTAINER COMMAND [ARG...]`. Detached: create and start, print nothing.
 * Otherwise hijack the start, stream (raw terminal and resizes with -t), then exit with the exec's
 * ExitCode from `GET /exec/{id}/json`: a command that cannot be started shows the runtime's
 * message on the stream and exits 126/127. Daemon errors exit 1; a detach prints docker's
 * `read escape sequence` and exits 1.
 */
export function registerExec(parent: Command, ctx: CliContext, name = 'exec'): Command {
  const cmd = verb(parent, name, '[OPTIONS] CONTAINER COMMAND [ARG...]', 'Execute a command in a running container', { min: 2 });
  cmd
    .option('-d, --detach', 'Detached mode: run command in the background')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container');
  listOption(cmd, '-e, --env <list>', 'Set environment variables');
  listOption(cmd, '--env-file <list>', 'Read in a file of environment variables');
  cmd
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('--privileged', 'Give extended privileges to the command')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .passThroughOptions();
  return action<ExecFlags>(cmd, async ([container = '', ...command], flags) => {
    const env = [...flags.envFile.flatMap((f) => readKeyValueFile(f, ctx.io.env, true)), ...flags.env.map((e) => expandEnv(e, ctx.io.env))];
    const tty = !!flags.tty;
    const attach = !flags.detach;
    const config: ExecConfig = {
      User: flags.user ?? '',
      Privileged: !!flags.privileged,
      Tty: tty,
      AttachStdin: attach && !!flags.interactive,
      AttachStderr: attach,
      AttachStdout: attach,
      DetachKeys: flags.detachKeys ?? '',
      Env: env.length ? env : undefined,
      WorkingDir: flags.workdir ?? '',
      Cmd: command,
    };
    const { client } = ctx;
    // compat: docker inspects first so "No such container" wins over flag checks.
    await client.containerInspect(container);
    if (attach && config.AttachStdin && tty && !ctx.io.stdin.isTTY) throw new StatusError('the input device is not a TTY', 1);
    if (tty) config.ConsoleSize = ttySize(ctx) ?? [0, 0];
    const { Id: execId } = await client.execCreate(container, config);
    if (!execId) throw new StatusError('exec ID empty', 1);
    const start = { Tty: tty, ...(config.ConsoleSize ? { ConsoleSize: config.ConsoleSize } : {}) };
    if (flags.detach) {
      await client.execStartDetached(execId, start);
      return;
    }
    const hijacked = await client.execStartAttached(execId, start);
    const stopResize = tty && ctx.io.stdin.isTTY ? monitorTtySize(ctx, (h, w) => client.execResize(execId, h, w)) : undefined;
    try {
      const end = await streamHijacked(ctx, hijacked, { stdin: !!config.AttachStdin, tty, detachKeys: flags.detachKeys });
      if (end === 'detached') throw new StatusError(DETACHED_MESSAGE, 1);
    } finally {
      stopResize?.();
    }
    const info = await client.execInspect(execId);
    ctx.exitCode = info.ExitCode ?? 0;
  });
}
