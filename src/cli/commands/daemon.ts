import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/**
 * `daemon [ARGS…]`: execs berthd, the bundle next to this one (`berthd.mjs` beside `berth.mjs`),
 * with the arguments passed through and stdio inherited; exits with its code.
 */
export function registerDaemon(parent: Command, ctx: CliContext): Command {
  const cmd = parent
    .command('daemon')
    .usage('[OPTIONS]')
    .description('Run the berthd daemon')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments(true)
    .passThroughOptions()
    .argument('[args...]');
  return cmd.action(async (args: string[]) => {
    const bundle = fileURLToPath(new URL('./berthd.mjs', import.meta.url));
    // Imported here: node:child_process is costly to load and no other verb needs it.
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [bundle, ...args], { stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
    const removers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]).map((s) => ctx.io.onSignal?.(s, () => forward(s)));
    ctx.exitCode = await new Promise<number>((resolve) => {
      child.on('error', (err) => {
        ctx.err(`failed to start berthd (${bundle}): ${err.message}\n`);
        resolve(127);
      });
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
    });
    for (const r of removers) r?.();
  });
}
