// Typed instructions from AST nodes, as buildkit's frontend/dockerfile/instructions (parse.go,
// bflag.go, commands.go, commands_runmount.go). Error texts are buildkit's.
import { messageOf } from '../../common/index.ts';
import {
  compareGoStrings,
  fromByteString,
  goQuote,
  goTrimSpace,
  parseGoDuration,
  parseGoInt32,
  toByteString,
  withSuggestion,
} from './go-compat.ts';
import { chompHeredocContent, DockerfileParseError, parseDockerfile, parseHeredocWord } from './parser.ts';
import type { Heredoc, Node } from './parser.ts';
import { emptyEnv, ShellLex } from './shell-lex.ts';

export type Instruction =
  | { kind: 'from'; image: string; name?: string; platform?: string }
  /**
   * `mounts` and `devices` are the raw `--mount` / `--device` values (parse mounts with
   * parseRunMount); `network` and `security` are set only when given.
   */
  | {
      kind: 'run';
      cmd: string[];
      prependShell: boolean;
      heredocs: Heredoc[];
      network?: string;
      mounts: string[];
      security?: string;
      devices: string[];
    }
  | { kind: 'cmd' | 'entrypoint'; cmd: string[]; prependShell: boolean }
  | { kind: 'shell'; shell: string[] }
  | { kind: 'env' | 'label'; pairs: { key: string; value: string }[] }
  | { kind: 'arg'; args: { key: string; value?: string }[] }
  /**
   * `sources` are the paths; heredoc sources (`COPY <<EOF /dest`) are in `heredocs`, in source
   * order, already chomped. `unpack` (ADD only) is set only when `--unpack` is given.
   */
  | {
      kind: 'copy' | 'add';
      sources: string[];
      dest: string;
      from?: string;
      chown?: string;
      chmod?: string;
      checksum?: string;
      link: boolean;
      keepGitDir: boolean;
      exclude: string[];
      parents: boolean;
      heredocs: Heredoc[];
      unpack?: boolean;
    }
  | { kind: 'expose'; ports: string[] }
  | { kind: 'volume'; paths: string[] }
  | { kind: 'user' | 'workdir' | 'stopsignal' | 'maintainer'; value: string }
  /** The nested instruction's text, e.g. "RUN echo hi" (heredoc bodies appended as buildkit does). */
  | { kind: 'onbuild'; expression: string }
  | { kind: 'healthcheck'; none: true }
  /** `test` is ["CMD", ...argv] or ["CMD-SHELL", command]; durations are in nanoseconds, set only when given. */
  | {
      kind: 'healthcheck';
      none: false;
      test: string[];
      interval?: number;
      timeout?: number;
      startPeriod?: number;
      startInterval?: number;
      retries?: number;
    };

/** An instruction with its first line and its text (trimmed, continuation lines joined). */
export type Located<I = Instruction> = I & { line: number; original: string };

export type ArgInstruction = Extract<Instruction, { kind: 'arg' }>;
type CopyInstruction = Extract<Instruction, { kind: 'copy' | 'add' }>;

/** A build stage: its FROM and the instructions up to the next FROM. */
export interface Stage {
  /** Lower-cased `AS` name. */
  name?: string;
  /** The base image as written (meta args not yet expanded). */
  image: string;
  platform?: string;
  line: number;
  /** The FROM instruction's text. */
  original: string;
  instructions: Located[];
}

// ---------------------------------------------------------------------------------------------
// BFlags

type FlagType = 'bool' | 'string' | 'strings';
interface Flag {
  name: string;
  type: FlagType;
  value: string;
  values: string[];
}

/** buildkit's BFlags: instructions declare their flags, then parse() checks what was written. */
class BFlags {
  readonly #args: readonly string[];
  readonly #flags = new Map<string, Flag>();
  readonly used = new Set<string>();

  constructor(args: readonly string[]) {
    this.#args = args;
  }

  #add(name: string, type: FlagType, value: string): Flag {
    const flag: Flag = { name, type, value, values: [] };
    this.#flags.set(name, flag);
    return flag;
  }
  addBool(name: string, def = false): Flag {
    return this.#add(name, 'bool', def ? 'true' : 'false');
  }
  addString(name: string, def = ''): Flag {
    return this.#add(name, 'string', def);
  }
  addStrings(name: string): Flag {
    return this.#add(name, 'strings', '');
  }

  /** Throws on an unknown, repeated or malformed flag. */
  parse(): void {
    for (const a of this.#args) {
      // POSIX: the first `--` ends the options.
      if (a === '--') return;
      if (!a.startsWith('--')) throw new Error(`arg should start with -- : ${a}`);
      const eq = a.indexOf('=');
      const hasValue = eq >= 0;
      const flagName = hasValue ? a.slice(0, eq) : a;
      const value = hasValue ? a.slice(eq + 1) : '';
      const arg = flagName.slice(2);
      const flag = this.#flags.get(arg);
      if (!flag) throw new Error(withSuggestion(`unknown flag: ${flagName}`, arg, [...this.#flags.keys()], true));
      if (this.used.has(arg) && flag.type !== 'strings') throw new Error(`duplicate flag specified: ${flagName}`);
      this.used.add(arg);
      switch (flag.type) {
        case 'bool': {
          if (hasValue && value === '') throw new Error(`missing a value on flag: ${flagName}`);
          const lower = value.toLowerCase();
          if (lower === 'true' || lower === '') flag.value = 'true';
          else if (lower === 'false') flag.value = 'false';
          else throw new Error(`expecting boolean value for flag ${flagName}, not: ${value}`);
          break;
        }
        case 'string':
          if (!hasValue) throw new Error(`missing a value on flag: ${flagName}`);
          flag.value = value;
          break;
        case 'strings':
          if (!hasValue) throw new Error(`missing a value on flag: ${flagName}`);
          flag.values.push(value);
          break;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Instruction parsing

interface Request {
  command: string;
  args: string[];
  heredocs: Heredoc[];
  json: boolean;
  flags: BFlags;
  original: string;
}

/** Arguments of a node; an ONBUILD's nested instruction contributes its keyword then its arguments. */
function nodeArgs(node: Node): string[] {
  const out: string[] = [];
  for (let n = node.next; n !== null; n = n.next) {
    const child = n.children[0];
    if (n.children.length === 0) out.push(n.value);
    else if (n.children.length === 1 && child) out.push(child.value, ...nodeArgs(child));
  }
  return out;
}

const errAtLeastOneArgument = (c: string): Error => new Error(`${c} requires at least one argument`);
const errExactlyOneArgument = (c: string): Error => new Error(`${c} requires exactly one argument`);
const errNoDestinationArgument = (c: string): Error =>
  new Error(`${c} requires at least two arguments, but only one was provided. Destination could not be determined`);
const errBlankCommandNames = (c: string): Error => new Error(`${c} names can not be blank`);
const errTooManyArguments = (c: string): Error => new Error(`Bad input to ${c}, too many arguments`);

/** For CMD, ENTRYPOINT, RUN, SHELL: the exec-form argv, or the shell-form text as one string. */
function handleJSONArgs(args: string[], json: boolean): string[] {
  if (args.length === 0) return [];
  if (json) return args;
  return [args.join(' ')];
}

const nonEmpty = (s: string): string | undefined => (s === '' ? undefined : s);

function parseKvps(args: string[], cmd: string): { key: string; value: string }[] {
  if (args.length === 0) throw errAtLeastOneArgument(cmd);
  if (args.length % 3 !== 0) throw errTooManyArguments(cmd);
  const pairs: { key: string; value: string }[] = [];
  for (let i = 0; i < args.length; i += 3) {
    const key = args[i] ?? '';
    if (key === '') throw errBlankCommandNames(cmd);
    pairs.push({ key, value: args[i + 1] ?? '' });
  }
  return pairs;
}

function parseSourcesAndDest(req: Request, cmd: string): { sources: string[]; dest: string; heredocs: Heredoc[] } {
  const srcs = req.args.slice(0, -1);
  const dest = req.args[req.args.length - 1] ?? '';
  if (safeHeredoc(dest)) throw new Error(`${cmd} cannot accept a heredoc as a destination`);
  const lookup = new Map(req.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const heredocs: Heredoc[] = [];
  for (const src of srcs) {
    const h = safeHeredoc(src);
    if (!h) {
      sources.push(src);
      continue;
    }
    let content = lookup.get(h.name)?.content ?? '';
    if (h.chomp) content = chompHeredocContent(content);
    heredocs.push({ ...h, content });
  }
  return { sources, dest, heredocs };
}

/** buildkit's MustParseHeredoc: a heredoc word, ignoring lexing errors. */
function safeHeredoc(word: string): Heredoc | undefined {
  try {
    return parseHeredocWord(word);
  } catch {
    return undefined;
  }
}

function parseCopyOrAdd(req: Request, kind: 'copy' | 'add'): Instruction {
  const cmd = kind.toUpperCase();
  if (req.args.length < 2) throw errNoDestinationArgument(cmd);
  // Declared in buildkit's order, which decides ties between "did you mean" suggestions.
  const f = req.flags;
  const chown = f.addString('chown');
  const from = kind === 'copy' ? f.addString('from') : undefined;
  const chmod = f.addString('chmod');
  const link = f.addBool('link');
  const keepGitDir = kind === 'add' ? f.addBool('keep-git-dir') : undefined;
  const checksum = kind === 'add' ? f.addString('checksum') : undefined;
  const unpack = kind === 'add' ? f.addBool('unpack') : undefined;
  const exclude = f.addStrings('exclude');
  const parents = kind === 'copy' ? f.addBool('parents') : undefined;
  f.parse();
  const sd = parseSourcesAndDest(req, cmd);
  const inst: CopyInstruction = {
    kind,
    sources: sd.sources,
    dest: sd.dest,
    link: link.value === 'true',
    keepGitDir: keepGitDir?.value === 'true',
    exclude: [...exclude.values],
    parents: parents?.value === 'true',
    heredocs: sd.heredocs,
  };
  const fromValue = nonEmpty(from?.value ?? '');
  if (fromValue !== undefined) inst.from = fromValue;
  const chownValue = nonEmpty(chown.value);
  if (chownValue !== undefined) inst.chown = chownValue;
  const chmodValue = nonEmpty(chmod.value);
  if (chmodValue !== undefined) inst.chmod = chmodValue;
  const checksumValue = nonEmpty(checksum?.value ?? '');
  if (checksumValue !== undefined) inst.checksum = checksumValue;
  if (unpack && f.used.has('unpack')) inst.unpack = unpack.value === 'true';
  return inst;
}

const STAGE_NAME = /^[a-z][a-z0-9\-_.]*$/;

/** strings.EqualFold(word, "as"): Unicode simple folding also maps U+017F (ſ) to s. */
const isAs = (word: string): boolean => /^[aA][sSſ]$/u.test(word);

function parseFrom(req: Request): Instruction {
  let name: string | undefined;
  const a = req.args;
  if (a.length === 3 && isAs(a[1] ?? '')) {
    name = (a[2] ?? '').toLowerCase();
    if (!STAGE_NAME.test(name)) {
      throw new Error(`invalid name for build stage: ${goQuote(a[2] ?? '')}, name can't start with a number or contain symbols`);
    }
  } else if (a.length !== 1) {
    throw new Error('FROM requires either one or three arguments');
  }
  const platform = req.flags.addString('platform');
  req.flags.parse();
  const inst: Extract<Instruction, { kind: 'from' }> = { kind: 'from', image: a[0] ?? '' };
  if (name !== undefined) inst.name = name;
  const p = nonEmpty(platform.value);
  if (p !== undefined) inst.platform = p;
  return inst;
}

function parseOnBuild(req: Request): Instruction {
  if (req.args.length === 0) throw errAtLeastOneArgument('ONBUILD');
  req.flags.parse();
  const trigger = goTrimSpace(req.args[0] ?? '').toUpperCase();
  if (trigger === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
  let expression = req.original.replace(/^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i, '');
  for (const h of req.heredocs) expression += '\n' + h.content + h.name;
  return { kind: 'onbuild', expression };
}

const NETWORK_MODES = new Set(['default', 'none', 'host']);

function parseRun(req: Request): Instruction {
  // buildkit's RUN hooks, in their order: devices, mounts, network, security.
  const device = req.flags.addStrings('device');
  const mount = req.flags.addStrings('mount');
  const network = req.flags.addString('network', 'default');
  const security = req.flags.addString('security', 'sandbox');
  req.flags.parse();
  const inst: Extract<Instruction, { kind: 'run' }> = {
    kind: 'run',
    cmd: handleJSONArgs(req.args, req.json),
    prependShell: !req.json,
    heredocs: req.heredocs.map((h) => ({ ...h })),
    mounts: [...mount.values],
    devices: [...device.values],
  };
  for (const d of inst.devices) checkRunDevice(d);
  for (const m of inst.mounts) checkRunMount(m);
  if (!NETWORK_MODES.has(network.value)) throw new Error(`invalid network mode ${goQuote(network.value)}`);
  if (security.value !== 'sandbox' && security.value !== 'insecure') throw new Error(`security ${goQuote(security.value)} is not valid`);
  if (req.flags.used.has('network')) inst.network = network.value;
  if (req.flags.used.has('security')) inst.security = security.value;
  return inst;
}

function durationFlag(value: string, name: string): number | undefined {
  if (value === '') return undefined;
  const d = parseGoDuration(value);
  if (d === 0) return 0;
  if (d < 1_000_000) throw new Error(`Interval ${goQuote(name)} cannot be less than 1ms`);
  return d;
}

function parseHealthcheck(req: Request): Instruction {
  if (req.args.length === 0) throw errAtLeastOneArgument('HEALTHCHECK');
  let typ = (req.args[0] ?? '').toUpperCase();
  const args = req.args.slice(1);
  if (typ === 'NONE') {
    if (args.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    return { kind: 'healthcheck', none: true };
  }
  const f = req.flags;
  const interval = f.addString('interval');
  const timeout = f.addString('timeout');
  const startPeriod = f.addString('start-period');
  const startInterval = f.addString('start-interval');
  const retries = f.addString('retries');
  f.parse();
  if (typ !== 'CMD') throw new Error(`Unknown type ${goQuote(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = handleJSONArgs(args, req.json);
  if (cmd.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  if (!req.json) typ = 'CMD-SHELL';
  const inst: Extract<Instruction, { none: false }> = { kind: 'healthcheck', none: false, test: [typ, ...cmd] };
  const durations = [
    ['interval', interval],
    ['timeout', timeout],
    ['startPeriod', startPeriod],
    ['startInterval', startInterval],
  ] as const;
  for (const [key, flag] of durations) {
    const d = durationFlag(flag.value, flag.name);
    if (d !== undefined) inst[key] = d;
  }
  if (retries.value !== '') {
    const r = parseGoInt32(retries.value);
    if (r < 0) throw new Error(`--retries cannot be negative (${r})`);
    inst.retries = r;
  }
  return inst;
}

function parseArg(req: Request): Instruction {
  if (req.args.length < 1) throw errAtLeastOneArgument('ARG');
  const args: { key: string; value?: string }[] = [];
  for (const a of req.args) {
    // An ARG may be declared without a value, unlike ENV.
    const i = a.indexOf('=');
    if (i < 0) {
      args.push({ key: a });
      continue;
    }
    if (i === 0) throw errBlankCommandNames('ARG');
    args.push({ key: a.slice(0, i), value: a.slice(i + 1) });
  }
  return { kind: 'arg', args };
}

function exactlyOne(req: Request, cmd: string, parseFlags = true): string {
  if (req.args.length !== 1) throw errExactlyOneArgument(cmd);
  if (parseFlags) req.flags.parse();
  return req.args[0] ?? '';
}

function dispatch(req: Request): Instruction {
  switch (req.command) {
    case 'env':
    case 'label':
      req.flags.parse();
      return { kind: req.command, pairs: parseKvps(req.args, req.command.toUpperCase()) };
    case 'maintainer':
      return { kind: 'maintainer', value: exactlyOne(req, 'MAINTAINER') };
    case 'add':
    case 'copy':
      return parseCopyOrAdd(req, req.command);
    case 'from':
      return parseFrom(req);
    case 'onbuild':
      return parseOnBuild(req);
    case 'workdir':
      return { kind: 'workdir', value: exactlyOne(req, 'WORKDIR') };
    case 'run':
      return parseRun(req);
    case 'cmd':
    case 'entrypoint':
      req.flags.parse();
      return { kind: req.command, cmd: handleJSONArgs(req.args, req.json), prependShell: !req.json };
    case 'healthcheck':
      return parseHealthcheck(req);
    case 'expose':
      if (req.args.length === 0) throw errAtLeastOneArgument('EXPOSE');
      req.flags.parse();
      return { kind: 'expose', ports: [...req.args].sort(compareGoStrings) };
    case 'user':
      return { kind: 'user', value: exactlyOne(req, 'USER') };
    case 'volume': {
      if (req.args.length === 0) throw errAtLeastOneArgument('VOLUME');
      req.flags.parse();
      const paths = req.args.map(goTrimSpace);
      if (paths.includes('')) throw new Error('VOLUME specified can not be an empty string');
      return { kind: 'volume', paths };
    }
    case 'stopsignal':
      return { kind: 'stopsignal', value: exactlyOne(req, 'STOPSIGNAL', false) };
    case 'arg':
      return parseArg(req);
    case 'shell': {
      req.flags.parse();
      const shell = handleJSONArgs(req.args, req.json);
      if (shell.length === 0) throw errAtLeastOneArgument('SHELL');
      if (!req.json) throw new Error('SHELL requires the arguments to be in JSON form');
      return { kind: 'shell', shell };
    }
    default:
      throw new UnknownInstruction(req.original);
  }
}

const INSTRUCTION_NAMES = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

class UnknownInstruction extends Error {
  constructor(original: string) {
    // The keyword as written: buildkit's node keeps its case, ours is lower-cased.
    const keyword = goTrimSpace(original).split(/[\t\v\f\r ]/, 1)[0] ?? '';
    super(withSuggestion(`unknown instruction: ${keyword}`, keyword, INSTRUCTION_NAMES, false));
  }
}

/**
 * Converts an instruction node to a typed instruction, checking its arguments and flags.
 * Throws DockerfileParseError with buildkit's message (no line prefix; `line` is set), e.g.
 * "ENV names can not be blank", "unknown flag: --form (did you mean from?)", "unknown instruction: FOO".
 */
export function parseInstruction(node: Node): Located {
  const req: Request = {
    command: node.value,
    args: nodeArgs(node),
    heredocs: node.heredocs,
    json: node.attributes?.json === true,
    flags: new BFlags(node.flags),
    original: node.original,
  };
  try {
    return { ...dispatch(req), line: node.startLine, original: goTrimSpace(node.original) };
  } catch (err) {
    if (err instanceof DockerfileParseError) throw err;
    throw new DockerfileParseError(messageOf(err), node.startLine, { cause: err });
  }
}

/**
 * Parses a Dockerfile into meta args (ARGs before the first FROM) and stages. Instruction errors
 * read "dockerfile parse error on line N: <message>"; an instruction before the first FROM
 * (other than ARG) gives "no build stage in current context", a file without FROM
 * "dockerfile contains no stages to build". COPY --from values that would need variable
 * expansion are rejected, as buildkit does when it links stages.
 */
export function parseStages(text: string): {
  metaArgs: Located<ArgInstruction>[];
  stages: Stage[];
  escapeToken: string;
  directives: Record<string, string>;
  warnings: string[];
} {
  const { ast, escapeToken, directives, warnings } = parseDockerfile(text);
  const metaArgs: Located<ArgInstruction>[] = [];
  const stages: Stage[] = [];
  const lex = new ShellLex(escapeToken === '`' ? '`' : '\\');
  for (const n of ast.children) {
    let inst: Located;
    try {
      inst = parseInstruction(n);
    } catch (err) {
      throw new DockerfileParseError(`dockerfile parse error on line ${n.startLine}: ${messageOf(err)}`, n.startLine, {
        cause: err,
      });
    }
    if (inst.kind === 'arg' && stages.length === 0) {
      metaArgs.push(inst);
      continue;
    }
    if (inst.kind === 'from') {
      const stage: Stage = { image: inst.image, line: inst.line, original: inst.original, instructions: [] };
      if (inst.name !== undefined) stage.name = inst.name;
      if (inst.platform !== undefined) stage.platform = inst.platform;
      stages.push(stage);
      continue;
    }
    const current = stages[stages.length - 1];
    if (!current) throw new DockerfileParseError('no build stage in current context', n.startLine);
    if (inst.kind === 'copy' && inst.from !== undefined) checkCopyFrom(lex, inst.from, n.startLine);
    current.instructions.push(inst);
  }
  if (stages.length === 0) throw new DockerfileParseError('dockerfile contains no stages to build');
  return { metaArgs, stages, escapeToken, directives, warnings };
}

function checkCopyFrom(lex: ShellLex, from: string, line: number): void {
  let expanded: string;
  try {
    expanded = lex.processWord(from, emptyEnv);
  } catch (err) {
    throw new DockerfileParseError(messageOf(err), line, { cause: err });
  }
  if (expanded !== from) {
    throw new DockerfileParseError(
      'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround',
      line,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Expansion

/**
 * Applies word expansion to the fields buildkit expands (the `Expand` methods of
 * instructions/commands.go as dockerfile2llb uses them, plus FROM's image and platform, which
 * buildkit expands with the meta args):
 * - FROM image, platform; ENV and LABEL keys and values;
 * - ARG default values, not names (buildkit skips ArgCommand.Expand and expands only the default,
 *   and only when no --build-arg overrides it: that choice is the caller's);
 * - COPY sources, dest, --chown, --chmod (not --from, see parseStages); ADD the same plus --checksum;
 * - EXPOSE ports, with `expandWords` (a port may expand to several) or else `expand`;
 * - VOLUME paths; USER, WORKDIR, STOPSIGNAL values.
 * RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD and MAINTAINER are returned unchanged (RUN
 * --mount values are expanded by parseRunMount(raw, expand)). `expandRaw`, when given, is applied
 * to the content of COPY/ADD heredocs whose delimiter was not quoted (buildkit uses a lexer with
 * skipProcessQuotes for this). Returns a new object; errors from the expanders propagate.
 */
export function expandInstruction(
  inst: Located,
  expand: (word: string) => string,
  expandWords?: (word: string) => string[],
  expandRaw?: (content: string) => string,
): Located {
  switch (inst.kind) {
    case 'from': {
      const out = { ...inst, image: expand(inst.image) };
      if (inst.platform !== undefined) out.platform = expand(inst.platform);
      return out;
    }
    case 'env':
    case 'label':
      return { ...inst, pairs: inst.pairs.map((p) => ({ key: expand(p.key), value: expand(p.value) })) };
    case 'arg':
      return { ...inst, args: inst.args.map((a) => (a.value === undefined ? { ...a } : { key: a.key, value: expand(a.value) })) };
    case 'copy':
    case 'add': {
      const out = { ...inst };
      if (inst.chown !== undefined) out.chown = expand(inst.chown);
      if (inst.chmod !== undefined) out.chmod = expand(inst.chmod);
      if (inst.checksum !== undefined) out.checksum = expand(inst.checksum);
      out.sources = inst.sources.map(expand);
      out.dest = expand(inst.dest);
      out.heredocs = inst.heredocs.map((h) => (h.expand && expandRaw ? { ...h, content: expandRaw(h.content) } : { ...h }));
      return out;
    }
    case 'expose':
      return { ...inst, ports: inst.ports.flatMap((p) => (expandWords ? expandWords(p) : [expand(p)])) };
    case 'volume':
      return { ...inst, paths: inst.paths.map(expand) };
    case 'user':
    case 'workdir':
    case 'stopsignal':
      return { ...inst, value: expand(inst.value) };
    default:
      return inst;
  }
}

// ---------------------------------------------------------------------------------------------
// RUN --mount

export type RunMountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type RunMountSharing = 'shared' | 'private' | 'locked';

/** A parsed `RUN --mount` value. Unset optional fields are absent. */
export interface RunMount {
  type: RunMountType;
  from?: string;
  source?: string;
  target?: string;
  readOnly: boolean;
  /** tmpfs size in bytes. */
  sizeLimit?: number;
  /** Cache or secret id. */
  id?: string;
  sharing?: RunMountSharing;
  required: boolean;
  /** Secret as an environment variable (empty: the default name). */
  env?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

/**
 * go-csvvalue (encoding/csv rules for one record): comma-separated fields, `"` quoting with `""`.
 * Errors carry csv.ParseError's text; columns count bytes.
 */
function csvFields(value: string): string[] {
  let line = toByteString(value).replace(/\r?\n$/, '');
  if (line === '') throw new Error('EOF');
  const err = (pos: number, what: string): Error => new Error(`parse error on line 1, column ${pos + 1}: ${what}`);
  const out: string[] = [];
  let pos = 0;
  for (;;) {
    if (!line.startsWith('"')) {
      const comma = line.indexOf(',');
      const field = comma < 0 ? line : line.slice(0, comma);
      const quote = field.indexOf('"');
      if (quote >= 0) throw err(pos + quote, 'bare " in non-quoted-field');
      out.push(field);
      if (comma < 0) break;
      line = line.slice(comma + 1);
      pos += comma + 1;
      continue;
    }
    line = line.slice(1);
    pos++;
    let field = '';
    for (;;) {
      const q = line.indexOf('"');
      if (q < 0) throw err(pos, 'extraneous or missing " in quoted-field');
      field += line.slice(0, q);
      line = line.slice(q + 1);
      pos += q + 1;
      const next = line[0];
      if (next === '"') {
        field += '"'; // a doubled quote
        line = line.slice(1);
        pos++;
        continue;
      }
      if (next === undefined) {
        out.push(field);
        return out.map(fromByteString);
      }
      if (next !== ',') throw err(pos - 1, 'extraneous or missing " in quoted-field');
      out.push(field);
      line = line.slice(1);
      pos++;
      break;
    }
  }
  return out.map(fromByteString);
}

/** buildkit's ParseDevice checks for a `RUN --device` value (name, required). */
function checkRunDevice(value: string): void {
  let fields: string[];
  try {
    fields = csvFields(value);
  } catch (err) {
    throw new Error(`failed to parse csv devices: ${messageOf(err)}`);
  }
  let name = '';
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'required') continue;
      if (name === '') {
        name = field;
        continue;
      }
      throw new Error(`invalid field '${field}' must be a key=value pair`);
    }
    const v = field.slice(eq + 1);
    if (key === 'name') {
      if (name !== '') throw new Error(`device name already set to ${name}`);
      name = v;
    } else if (key === 'required') {
      if (parseGoBool(v) === undefined) throw new Error(`invalid value for ${key}: ${v}`);
    } else if (name === '') {
      name = field;
    } else {
      throw new Error(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ['name', 'required'], true));
    }
  }
}

/** The checks buildkit makes when it first sees a --mount, before variables are known. */
function checkRunMount(value: string): void {
  let fields: string[];
  try {
    fields = csvFields(value);
  } catch (err) {
    throw new Error(`failed to parse csv mounts: ${messageOf(err)}`);
  }
  for (const field of fields) {
    const eq = field.indexOf('=');
    if (eq < 0 || field.slice(0, eq).toLowerCase() !== 'from') continue;
    const v = field.slice(eq + 1);
    const dollar = v.indexOf('$');
    if (dollar !== -1 && dollar !== v.length - 1) {
      throw new Error("'from' doesn't support variable expansion, define alias stage instead");
    }
  }
}

function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

function parseUint32(s: string, base: 8 | 10): number | undefined {
  const re = base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!re.test(s)) return undefined;
  const n = parseInt(s, base);
  return n > 0xffffffff ? undefined : n;
}

/** docker/go-units RAMInBytes: "64m", "1.5g", "1024" (binary multiples). */
function ramInBytes(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) return undefined;
  const size = Number.parseFloat(m[1] ?? '');
  if (!Number.isFinite(size)) return undefined;
  const exp = m[2] ? 'kmgtp'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.trunc(size * 1024 ** exp);
}

const MOUNT_KEYS = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid',
  'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env',
];

/**
 * Parses a `RUN --mount` value as buildkit does at build time: each `key=value` value goes
 * through `expand` first (default: unchanged). Throws BerthError-free plain Errors with
 * buildkit's messages ("unsupported mount type \"x\"", "secret mount should not have a from", ...).
 */
export function parseRunMount(value: string, expand: (word: string) => string = (w) => w): RunMount {
  let fields: string[];
  try {
    fields = csvFields(value);
  } catch (err) {
    throw new Error(`failed to parse csv mounts: ${messageOf(err)}`);
  }
  const m: RunMount = { type: 'bind', readOnly: false, required: false };
  let roAuto = true;
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') {
        m.readOnly = true;
        roAuto = false;
        continue;
      }
      if (key === 'readwrite' || key === 'rw') {
        m.readOnly = false;
        roAuto = false;
        continue;
      }
      if (key === 'required') {
        if (m.type === 'secret' || m.type === 'ssh') {
          m.required = true;
          continue;
        }
        throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
      }
      throw new Error(`invalid field '${field}' must be a key=value pair`);
    }
    const v = expand(field.slice(eq + 1));
    const bool = (): boolean => {
      const b = parseGoBool(v);
      if (b === undefined) throw new Error(`invalid value for ${key}: ${v}`);
      return b;
    };
    const uint = (base: 8 | 10, what: string): number => {
      const n = parseUint32(v, base);
      if (n === undefined) throw new Error(`invalid value ${v} for ${what}`);
      return n;
    };
    switch (key) {
      case 'type': {
        const t = v.toLowerCase();
        if (!['bind', 'cache', 'tmpfs', 'secret', 'ssh'].includes(t)) {
          throw new Error(withSuggestion(`unsupported mount type ${goQuote(v)}`, v, ['bind', 'cache', 'tmpfs', 'secret', 'ssh'], true));
        }
        m.type = t as RunMountType;
        break;
      }
      case 'from':
        m.from = v;
        break;
      case 'source':
      case 'src':
        m.source = v;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = v;
        break;
      case 'readonly':
      case 'ro':
        m.readOnly = bool();
        roAuto = false;
        break;
      case 'readwrite':
      case 'rw':
        m.readOnly = !bool();
        roAuto = false;
        break;
      case 'required':
        if (m.type !== 'secret' && m.type !== 'ssh') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = bool();
        break;
      case 'size': {
        if (m.type !== 'tmpfs') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        const size = ramInBytes(v);
        if (size === undefined) throw new Error(`invalid value for ${key}: ${v}`);
        m.sizeLimit = size;
        break;
      }
      case 'id':
        m.id = v;
        break;
      case 'sharing': {
        const s = v.toLowerCase();
        if (s !== 'shared' && s !== 'private' && s !== 'locked') {
          throw new Error(withSuggestion(`unsupported sharing value ${goQuote(v)}`, v, ['shared', 'private', 'locked'], true));
        }
        m.sharing = s;
        break;
      }
      case 'mode':
        m.mode = uint(8, 'mode');
        break;
      case 'uid':
        m.uid = uint(10, 'uid');
        break;
      case 'gid':
        m.gid = uint(10, 'gid');
        break;
      case 'env':
        m.env = v;
        break;
      default:
        throw new Error(withSuggestion(`unexpected key '${key}' in '${field}'`, key, MOUNT_KEYS, true));
    }
  }
  const fileInfoAllowed = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  if (!fileInfoAllowed) {
    for (const k of ['mode', 'uid', 'gid'] as const) {
      if (m[k] !== undefined) throw new Error(`${k} not allowed for ${goQuote(m.type)} type mounts`);
    }
  }
  if (roAuto) m.readOnly = m.type !== 'cache' && m.type !== 'tmpfs';
  if (m.type === 'secret') {
    if (m.from) throw new Error('secret mount should not have a from');
    if (m.sharing) throw new Error('secret mount should not define sharing');
    if (!m.source && !m.target && !m.id) throw new Error('invalid secret mount. one of source, target required');
    if (m.source && m.id) throw new Error("both source and id can't be set");
  }
  if (m.sharing && m.type !== 'cache') throw new Error(`invalid cache sharing set for ${m.type} mount`);
  return m;
}
