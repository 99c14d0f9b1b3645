// `berth`: the docker CLI's verbs, flags, output and exit codes, written only against the Engine API.
import { Command, CommanderError } from 'commander';
import { ClientError, ConnectionError } from '../client/index.ts';
import { DockerHelp, checkArity, commandPath } from './command.ts';
import { VERB_LOADERS } from './commands/on-demand.ts';
import { CliContext, type CliIO } from './context.ts';
import { StatusError, UsageError } from './errors.ts';

export { BERTH_VERSION } from './version.ts';
import { BERTH_VERSION } from './version.ts';

/**
 * Builds the commander program; exported for tests and help generation. With `argv`, only the
 * verb it runs is registered when `verbOf` can tell which one (the other verbs' modules are not
 * loaded); otherwise, every verb.
 */
export async function buildProgram(ctx: CliContext, argv?: string[]): Promise<Command> {
  const program = new Command(ctx.programName);
  program
    .usage('[OPTIONS] COMMAND')
    .description('A self-sufficient runtime for containers')
    .helpOption('--help', 'Print usage')
    .option('-H, --host <string>', 'Daemon socket to connect to')
    .option('-v, --version', 'Print version information and quit')
    .configureHelp({})
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => ctx.out(s),
      writeErr: (s) => ctx.err(s),
      outputError: () => {
        // main reports errors itself, in the docker CLI's words.
      },
    });
  program.createHelp = () => Object.assign(new DockerHelp(), program.configureHelp());
  program.hook('preAction', (thisCmd, actionCmd) => {
    const g = thisCmd.opts<{ host?: string }>();
    if (g.host) ctx.host = g.host;
    checkArity(actionCmd, actionCmd.args);
  });
  program.allowExcessArguments(true).action(() => {
    const [unknown] = program.args;
    if (unknown !== undefined) {
      throw new StatusError(`${ctx.programName}: unknown command: ${ctx.programName} ${unknown}\n\nRun '${ctx.programName} --help' for more information`, 1);
    }
    if (program.opts<{ version?: boolean }>().version) {
      ctx.out(`Berth version ${BERTH_VERSION}\n`);
      return;
    }
    program.outputHelp();
  });
  const verb = argv && verbOf(argv);
  const load = verb === undefined ? undefined : VERB_LOADERS.get(verb);
  if (load) (await load())(program, ctx);
  else (await import('./commands/index.ts')).registerCommands(program, ctx);
  // Subcommands are made with .command(), which copies these settings; the help class too.
  const setHelp = (c: Command): void => {
    c.createHelp = () => Object.assign(new DockerHelp(), c.configureHelp());
    c.commands.forEach(setHelp);
  };
  setHelp(program);
  return program;
}

/** The real process's stdio, env and signals. */
export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // On first use: making process.stdin costs a few ms, and most verbs never read it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    onSignal: (signal, handler) => {
      process.on(signal, handler);
      return () => process.off(signal, handler);
    },
  };
}

/**
 * Runs one CLI invocation. With `io` (tests) it resolves with the exit code and never exits;
 * without, it uses the process's stdio and exits with that code once stdout has flushed
 * (lingering keep-alive sockets or a paused stdin must not keep the process alive).
 */
export async function main(argv: string[], io?: CliIO): Promise<number> {
  if (!io) {
    const code = await run(argv, processIO());
    process.stdout.write('', () => process.exit(code));
    return code;
  }
  return run(argv, io);
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const ctx = new CliContext(io);
  const program = await buildProgram(ctx, argv);
  const { cmd: target, args } = normalizeArgs(program, argv);
  try {
    await program.parseAsync(args, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    return report(ctx, err, target, args);
  } finally {
    ctx.close();
  }
}

function report(ctx: CliContext, err: unknown, target: Command, argv: string[]): number {
  const p = commandPath(target);
  const usage = (message: string): number => {
    ctx.err(`${message}\n\nUsage:  ${p} ${target.parent ? target.usage() : '[OPTIONS] COMMAND'}\n\nRun '${p} --help' for more information\n`);
    return 125;
  };
  if (err instanceof CommanderError) {
    switch (err.code) {
      case 'commander.helpDisplayed':
      case 'commander.version':
        return 0;
      case 'commander.help':
        return 0;
      case 'commander.unknownOption': {
        const opt = /'([^']+)'/.exec(err.message)?.[1] ?? '';
        if (opt.startsWith('--')) return usage(`unknown flag: ${opt.split('=')[0]}`);
        return usage(`unknown shorthand flag: '${opt.slice(1, 2)}' in ${opt}`);
      }
      case 'commander.optionMissingArgument': {
        const flags = /option '([^']+)'/.exec(err.message)?.[1] ?? '';
        const short = /^-(\w)\b/.exec(flags)?.[1];
        const long = /--[\w-]+/.exec(flags)?.[0];
        const last = argv.at(-1) ?? '';
        if (short && last === `-${short}`) return usage(`flag needs an argument: '${short}' in -${short}`);
        return usage(`flag needs an argument: ${long ?? flags}`);
      }
      case 'commander.unknownCommand': {
        const name = /'([^']+)'/.exec(err.message)?.[1] ?? '';
        ctx.err(`${ctx.programName}: unknown command: ${ctx.programName} ${name}\n\nRun '${ctx.programName} --help' for more information\n`);
        return 1;
      }
      default:
        return usage(err.message.replace(/^error: /, ''));
    }
  }
  if (err instanceof UsageError) return usage(err.message);
  if (err instanceof StatusError) {
    if (err.message) ctx.err(`${err.message}\n`);
    return err.status;
  }
  if (err instanceof ClientError) {
    ctx.err(`Error response from daemon: ${err.message}\n`);
    return 1;
  }
  if (err instanceof ConnectionError) {
    ctx.err(`${err.message}\n`);
    return 1;
  }
  ctx.err(`${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

/**
 * The top-level verb `argv` runs, if only global flags that commander parses alike whichever verbs
 * are registered come before it: `-H x`, `--host x`, `--host=x`, `-v`, `--version`. Anything else
 * (`--help`, `-Hx`, `--`, no verb) gives undefined, and the whole program is built.
 */
export function verbOf(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i] ?? '';
    if (t === '-H' || t === '--host') i++;
    else if (!(t.startsWith('--host=') || t === '-v' || t === '--version')) return t.startsWith('-') ? undefined : t;
  }
  return undefined;
}

const TRUE = new Set(['true', 't', '1', 'TRUE', 'True', 'T']);
const FALSE = new Set(['false', 'f', '0', 'FALSE', 'False', 'F']);

/**
 * Finds the verb being run and rewrites pflag's `--flag=true|false` booleans, which commander
 * does not take: `--rm=true` → `--rm`, `--sig-proxy=false` → `--no-sig-proxy` (or dropped).
 */
export function normalizeArgs(program: Command, argv: string[]): { cmd: Command; args: string[] } {
  let cmd = program;
  let i = 0;
  for (; i < argv.length; i++) {
    const t = argv[i] ?? '';
    if (t === '--') break;
    if (t.startsWith('-')) {
      if (cmd === program && (t === '-H' || t === '--host')) i++;
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === t || c.aliases().includes(t));
    if (!sub) break;
    cmd = sub;
    if (!sub.commands.length) break;
  }
  const out: string[] = [];
  let passthrough = false;
  // run, create and top pass everything after the image (or container) to the command.
  const stopsAtPositional = (cmd as unknown as { _passThroughOptions?: boolean })._passThroughOptions === true;
  let takesValue = false;
  for (const [n, t] of argv.entries()) {
    if (passthrough || n <= i || !t.startsWith('-') || t === '-') {
      if (n > i && !takesValue && !t.startsWith('-') && stopsAtPositional) passthrough = true;
      takesValue = false;
      out.push(t);
      if (t === '--') passthrough = true;
      continue;
    }
    const known = cmd.options.find((o) => o.long === t || o.short === t);
    takesValue = !!known && (known.required || known.optional) && !t.includes('=');
    const m = /^(--?[\w-]+)=(.*)$/s.exec(t);
    const opt = m ? cmd.options.find((o) => o.long === m[1] || o.short === m[1]) : undefined;
    if (!m || !opt || opt.required || opt.optional) {
      out.push(t);
      continue;
    }
    const v = m[2] ?? '';
    if (TRUE.has(v)) out.push(opt.long ?? m[1] ?? t);
    else if (FALSE.has(v)) {
      const neg = cmd.options.find((o) => o.negate && o.long === `--no-${(opt.long ?? '').slice(2)}`);
      if (neg?.long) out.push(neg.long);
    } else out.push(t);
  }
  return { cmd, args: out };
}
