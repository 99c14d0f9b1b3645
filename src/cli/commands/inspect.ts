import type { Command } from 'commander';
import { ClientError, type EngineClient } from '../../client/index.ts';
import { action, describeError, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { StatusError, UsageError } from '../errors.ts';
import { parseTemplate, render } from '../format/index.ts';
import { inspectJson } from '../views.ts';

type Kind = 'container' | 'image' | 'volume' | 'network';

const FETCH: Record<Kind, (c: EngineClient, ref: string, size: boolean) => Promise<unknown>> = {
  container: (c, ref, size) => c.containerInspect(ref, { size }),
  image: (c, ref) => c.imageInspect(ref),
  network: (c, ref) => c.networkInspect(ref),
  volume: (c, ref) => c.volumeInspect(ref),
};

/**
 * Prints inspected objects as docker does: a JSON array indented 4 spaces, or `-f` rendered once
 * per object. Objects not found are reported on stderr afterwards and make the exit code 1.
 * `kinds` lists what to try, in docker's order, when the verb is the generic `inspect`.
 */
export async function printInspect(
  ctx: CliContext,
  refs: string[],
  kinds: Kind[],
  opts: { format?: string; size?: boolean },
): Promise<void> {
  const tpl = opts.format && opts.format !== 'json' ? parseTemplate(opts.format.replace(/\\t|\\n/g, (m) => (m === '\\t' ? '\t' : '\n'))) : undefined;
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const ref of refs) {
    let obj: unknown;
    let lastErr: unknown;
    for (const kind of kinds) {
      try {
        obj = await FETCH[kind](ctx.client, ref, !!opts.size);
        break;
      } catch (err) {
        if (!(err instanceof ClientError) || err.status !== 404) throw err;
        lastErr = err;
      }
    }
    if (obj === undefined) {
      errors.push(kinds.length > 1 ? `Error: No such object: ${ref}` : describeError(lastErr));
      continue;
    }
    found.push(obj);
  }
  if (tpl) {
    for (const obj of found) ctx.out(`${render(tpl, obj, { objects: 'map' })}\n`);
  } else if (opts.format === 'json') {
    for (const obj of found) ctx.out(`${JSON.stringify(obj)}\n`);
  } else {
    ctx.out(`${inspectJson(found)}\n`);
  }
  if (errors.length) throw new StatusError(errors.join('\n'), 1);
}

/** `inspect [-f FORMAT] [--type TYPE] [-s] NAME|ID...`: containers, images, networks, volumes. */
export function registerInspect(parent: Command, ctx: CliContext, name = 'inspect', only?: Kind): Command {
  const what = only ? `${only.toUpperCase()} [${only.toUpperCase()}...]` : 'NAME|ID [NAME|ID...]';
  const cmd = verb(parent, name, `[OPTIONS] ${what}`, only ? `Display detailed information on one or more ${only}s` : 'Return low-level information on Docker objects', { min: 1 });
  cmd.option('-f, --format <string>', 'Format output using a custom template');
  if (!only || only === 'container') cmd.option('-s, --size', 'Display total file sizes');
  if (!only) cmd.option('--type <string>', 'Only inspect objects of the given type');
  return action<{ format?: string; size?: boolean; type?: string }>(cmd, async (args, o) => {
    let kinds: Kind[] = only ? [only] : ['container', 'image', 'network', 'volume'];
    if (o.type) {
      if (!['container', 'image', 'network', 'volume'].includes(o.type)) throw new UsageError(`"${o.type}" is not a valid value for --type`);
      kinds = [o.type as Kind];
    }
    await printInspect(ctx, args, kinds, { format: o.format, size: o.size });
  });
}
