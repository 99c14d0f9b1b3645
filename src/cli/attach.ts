// Attached containers: hijack, start, pump stdio, proxy signals, and wait (run, start -a).
import type { ContainerWaitResponse, WaitCondition } from '../api/index.ts';
import { ClientError, type Hijacked } from '../client/index.ts';
import type { CliContext } from './context.ts';
import { StatusError } from './errors.ts';
import { monitorTtySize, proxySignals, streamHijacked } from './hijack.ts';

export interface AttachPlan {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  detachKeys?: string;
  /** Forward the CLI's signals to the container (the caller decides: run does even with a tty). */
  sigProxy: boolean;
  waitCondition: WaitCondition;
}

/**
 * Attaches to `id` (before starting it, so no output is lost), registers the wait, runs `start`,
 * then streams until the output ends and resolves with the wait status, or with undefined when
 * the user typed the detach keys (the container keeps running). `start` errors propagate
 * unchanged so the verb can map them to 125/126/127.
 */
export async function attachAndRun(
  ctx: CliContext,
  id: string,
  plan: AttachPlan,
  start: () => Promise<void>,
): Promise<ContainerWaitResponse | undefined> {
  const { client } = ctx;
  const restore: (() => void)[] = [];
  try {
    if (plan.sigProxy) restore.push(proxySignals(ctx, id));
    let hijacked: Hijacked | undefined;
    if (plan.stdin || plan.stdout || plan.stderr) {
      hijacked = await client
        .containerAttach(id, {
          stream: true,
          stdin: plan.stdin,
          stdout: plan.stdout,
          stderr: plan.stderr,
          detachKeys: plan.detachKeys,
        })
        .catch((err: unknown) => {
          // compat: an attach failure (bad --detach-keys) is a plain error of the docker CLI: exit 1.
          throw err instanceof ClientError ? new StatusError(`Error response from daemon: ${err.message}`, 1) : err;
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
    if (plan.tty && hijacked) {
      if (ctx.io.stdout.isTTY) restore.push(monitorTtySize(ctx, (h, w) => client.containerResize(id, h, w)));
    }
    if (hijacked) {
      const end = await streamHijacked(ctx, hijacked, { stdin: plan.stdin, tty: plan.tty, detachKeys: plan.detachKeys });
      // compat: run and start -a end quietly with 0 on detach; the container keeps running.
      if (end === 'detached') return undefined;
    }
    const status = await wait.result;
    if (status.Error?.Message) throw new StatusError(status.Error.Message, 125);
    return status;
  } finally {
    for (const r of restore.reverse()) r();
  }
}
