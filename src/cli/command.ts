// Helpers every verb file uses to declare itself: docker-style usage, arity and error wording.
import { Command, Help, type Option } from 'commander';
import type { CliContext } from './context.ts';
import { StatusError } from './errors.ts';

export interface Arity {
  min: number;
  max: number;
}

const arities = new WeakMap<Command, Arity>();
const groups = new WeakSet<Command>();

/**
 * Declares a verb under `parent`: `usage` is docker's (`[OPTIONS] CONTAINER [CONTAINER...]`),
 * `arity` the positional count enforced before the action (docker's `requires at least 1 argument`).
 */
export function verb(parent: Command, name: string, usage: string, description: string, arity: Partial<Arity> = {}): Command {
  const cmd = parent.command(name).usage(usage).description(description).allowExcessArguments(true).argument('[args...]');
  arities.set(cmd, { min: arity.min ?? 0, max: arity.max ?? Infinity });
  return cmd;
}

/** Declares a management command (`image`, `volume`, …) whose subcommands are verbs. */
export function group(parent: Command, name: string, description: string): Command {
  const cmd = parent.command(name).usage('COMMAND').description(description);
  groups.add(cmd);
  cmd.action(() => {
    // compat: `docker volume` alone prints its help to stdout and exits 0.
    cmd.outputHelp();
  });
  return cmd;
}

/** `berth image ls` for a command, as docker names it in messages. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Checks the positional count; the error wording and exit code 1 are the docker CLI's. */
export function checkArity(cmd: Command, args: string[]): void {
  const a = arities.get(cmd);
  if (!a) return;
  let req: string | undefined;
  const plural = (n: number): string => (n === 1 ? 'argument' : 'arguments');
  if (a.max === 0 && args.length > 0) {
    const p = commandPath(cmd);
    const root = p.split(' ')[0] ?? 'berth';
    throw new StatusError(`${root}: '${p}' accepts no arguments\n\nUsage:  ${p} ${cmd.usage()}\n\nRun '${p} --help' for more information`, 1);
  }
  if (a.min === a.max && args.length !== a.min) req = `requires ${a.min} ${plural(a.min)}`;
  else if (args.length < a.min && a.max === Infinity) req = `requires at least ${a.min} ${plural(a.min)}`;
  else if (args.length > a.max && a.min === 0) req = `requires at most ${a.max} ${plural(a.max)}`;
  else if (args.length < a.min || args.length > a.max) req = `requires at least ${a.min} and at most ${a.max} ${plural(a.max)}`;
  if (!req) return;
  const p = commandPath(cmd);
  const root = p.split(' ')[0] ?? 'berth';
  throw new StatusError(
    // compat: cobra's RequiresMinArgs says "See", ExactArgs and RangeArgs say "Run".
    `${root}: '${p}' ${req}\n\nUsage:  ${p} ${cmd.usage()}\n\n${args.length < a.min && a.max === Infinity ? 'See' : 'Run'} '${p} --help' for more information`,
    1,
  );
}

/** Wraps an async action with the verb's positional args and typed options. */
export function action<T>(cmd: Command, fn: (args: string[], opts: T, cmd: Command) => Promise<void> | void): Command {
  return cmd.action(async (args: string[], opts: T) => {
    await fn(args, opts, cmd);
  });
}

/** The docker CLI's help layout: Usage, description, Aliases, Options or Commands. */
export class DockerHelp extends Help {
  override formatHelp(cmd: Command, helper: Help): string {
    const p = commandPath(cmd);
    const lines: string[] = [];
    const isGroup = groups.has(cmd) || !cmd.parent;
    lines.push('', `Usage:  ${p} ${cmd.parent ? cmd.usage() : '[OPTIONS] COMMAND'}`, '');
    if (cmd.description()) lines.push(cmd.description(), '');
    const aliases = cmd.aliases();
    if (aliases.length && cmd.parent) {
      const parentPath = commandPath(cmd.parent);
      lines.push('Aliases:', `  ${[cmd.name(), ...aliases].map((a) => `${parentPath} ${a}`).join(', ')}`, '');
    }
    if (isGroup && cmd.commands.length) {
      lines.push(cmd.parent ? 'Commands:' : 'Commands:');
      const subs = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
      const width = Math.max(...subs.map((c) => c.name().length));
      for (const c of subs) lines.push(`  ${c.name().padEnd(width + 2)}${firstLine(c.description())}`);
      lines.push('');
    }
    const all = helper.visibleOptions(cmd);
    // A `--no-x` flag is listed unless it only negates a listed `--x` (`--no-stdin` has no `--stdin`).
    const options = all.filter((o) => (!o.negate || !all.some((p) => !p.negate && p.long === `--${o.long?.slice(5)}`)) && o.long !== '--help');
    if (options.length) {
      lines.push(cmd.parent ? 'Options:' : 'Global Options:');
      const cols = options.map((o) => [optionTerm(o), o.description] as const);
      const width = Math.max(...cols.map(([t]) => t.length));
      for (const [term, desc] of cols) lines.push(`  ${term.padEnd(width)}   ${desc}`.trimEnd());
      lines.push('');
    }
    if (isGroup && cmd.commands.length) lines.push(`Run '${p} COMMAND --help' for more information on a command.`, '');
    return lines.join('\n');
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? '';
}

/** `-n, --last int` as pflag prints it. */
function optionTerm(o: Option): string {
  const type = /<([^>]+)>|\[([^\]]+)\]/.exec(o.flags);
  const names = o.short ? `${o.short}, ${o.long ?? ''}` : `    ${o.long ?? ''}`;
  return type ? `${names} ${type[1] ?? type[2] ?? ''}` : names;
}

/** Runs `fn` for each argument, printing what succeeded and reporting each failure (stop, rm, kill…). */
export async function forEachArg(
  ctx: CliContext,
  args: string[],
  fn: (arg: string) => Promise<string | undefined | void>,
  opts: { errorPrefix?: string; failSummary?: (failed: string[]) => string } = {},
): Promise<void> {
  const failed: string[] = [];
  for (const arg of args) {
    try {
      const printed = await fn(arg);
      if (printed !== undefined) ctx.out(`${printed}\n`);
    } catch (err) {
      failed.push(arg);
      ctx.err(`${describeError(err)}\n`);
    }
  }
  if (failed.length) {
    if (opts.failSummary) ctx.err(`${opts.failSummary(failed)}\n`);
    ctx.exitCode = 1;
  }
}

/** `Error response from daemon: <message>` for daemon errors, the message otherwise. */
export function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string };
  if (e && e.name === 'ClientError') return `Error response from daemon: ${e.message ?? ''}`;
  return e?.message ?? String(err);
}
