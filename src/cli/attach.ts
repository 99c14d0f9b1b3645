// Attached containers: hijack, start, pump stdio, proxy signals, and wait (run, start -a).
import type { ContainerWaitResponse, WaitCondition } from '../api/index.ts';
import { type Hijacked, copyOutput } from '../client/index.ts';
import type { CliContext } from './context.ts';
import { StatusError } from './errors.ts';

export interface AttachPlan {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  detachKeys?: string;
  sigProxy: boolean;
  waitCondition: WaitCondition;
}

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Attaches to `id` (before starting it, so no output is lost), registers the wait, runs `start`,
 * then copies output until the stream ends and resolves with the wait status. `start` errors
 * propagate unchanged so the verb can map them to 125/126/127.
 */
export async function attachAndRun(ctx: CliContext, id: string, plan: AttachPlan, start: () => Promise<void>): Promise<ContainerWaitResponse> {
  const { client } = ctx;
  let hijacked: Hijacked | undefined;
  if (plan.stdin || plan.stdout || plan.stderr) {
    hijacked = await client.containerAttach(id, {
      stream: true,
      stdin: plan.stdin,
      stdout: plan.stdout,
      stderr: plan.stderr,
      detachKeys: plan.detachKeys,
    });
  }
  // compat: docker registers the wait before start so a fast exit is never missed.
  const wait = await client.containerWaitBegin(id, plan.waitCondition);
  try {
    await start();
  } catch (err) {
    hijacked?.socket.destroy();
    throw err;
  }

  const stdin = ctx.io.stdin;
  const restore: (() => void)[] = [];
  if (plan.sigProxy && !plan.tty && ctx.io.onSignal) {
    for (const sig of PROXIED) {
      restore.push(ctx.io.onSignal(sig, () => void client.containerKill(id, sig).catch(() => undefined)));
    }
  }
  if (plan.tty && ctx.io.stdout.isTTY) {
    const resize = (): void => {
      const { rows, columns } = ctx.io.stdout;
      if (rows && columns) void client.containerResize(id, rows, columns).catch(() => undefined);
    };
    resize();
    if (ctx.io.onSignal) restore.push(ctx.io.onSignal('SIGWINCH', resize));
  }

  try {
    if (hijacked) {
      const socket = hijacked.socket;
      if (plan.stdin) {
        if (plan.tty && stdin.isTTY && stdin.setRawMode) {
          stdin.setRawMode(true);
          restore.push(() => stdin.setRawMode?.(false));
        }
        stdin.pipe(socket);
        restore.push(() => {
          stdin.unpipe(socket);
          stdin.pause();
        });
      }
      // A TTY container's stream is raw; every other one carries the 8-byte framing.
      const multiplexed = !plan.tty;
      await copyOutput(socket, ctx.io.stdout, ctx.io.stderr, multiplexed).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
      });
    }
  } finally {
    for (const r of restore.reverse()) r();
  }
  const status = await wait.result;
  if (status.Error?.Message) throw new StatusError(status.Error.Message, 125);
  return status;
}
