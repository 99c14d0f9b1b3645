// A Go text/template engine, the subset docker's `--format` flag uses, with docker's extra
// functions (json, join, split, title, lower, upper, pad, truncate). Parse and execution errors
// carry Go's messages (`template: :1: unexpected "}" in operand`); callers add docker's
// `template parsing error: ` prefix and pick the exit code.
import { BerthError } from '../../common/index.ts';
import { sprint, sprintf, sprintln } from './go-fmt.ts';
import { formatValue, goJson, goTypeName, isTrue, kindOf, mapEntries, type ObjectMode } from './go-value.ts';
import {
  argString,
  commandString,
  parse,
  TemplateParseError,
  type Arg,
  type Command,
  type ControlNode,
  type Node,
  type Pipe,
} from './template-parse.ts';

/** A template function. Throwing an Error makes execution fail with `error calling <name>: <message>`. */
export type TemplateFunc = (...args: never[]) => unknown;

/** A parse or execution error; its message is Go's, e.g. `template: :1: function "foo" not defined`. */
export class TemplateError extends BerthError {
  constructor(message: string) {
    super('invalid-argument', message);
    this.name = 'TemplateError';
  }
}

export interface ParseOptions {
  /** The template's name, shown in errors (`template: NAME:1: …`); docker uses "". */
  name?: string;
  /** Functions besides the built-in and docker ones; a name here replaces a built-in. */
  funcs?: Record<string, TemplateFunc>;
}

export interface RenderOptions {
  /** How plain objects behave: Go structs (default) or Go maps, see `goMap`. */
  objects?: ObjectMode;
  /** Replacements for functions already known at parse time (docker's header functions do this). */
  funcs?: Record<string, TemplateFunc>;
}

/** A parsed template: parse once, render for each item. */
export class Template {
  /** @internal */
  readonly nodes: Node[];
  constructor(
    readonly source: string,
    readonly name: string,
    nodes: Node[],
    /** @internal */
    readonly funcs: Readonly<Record<string, TemplateFunc>>,
  ) {
    this.nodes = nodes;
  }
}

/**
 * Parses a Go template. Throws TemplateError with Go's message for syntax errors, undefined
 * functions and undefined variables.
 */
export function parseTemplate(source: string, opts: ParseOptions = {}): Template {
  const funcs = { ...opts.funcs };
  const name = opts.name ?? '';
  try {
    const nodes = parse(source, name, (f) => Object.hasOwn(funcs, f) || Object.hasOwn(BUILTINS, f));
    return new Template(source, name, nodes, funcs);
  } catch (err) {
    if (err instanceof TemplateParseError) throw new TemplateError(err.message);
    throw err;
  }
}

/**
 * Executes a template against `data` and returns the output. A string is parsed first.
 * Throws TemplateError (`template: :1:2: executing "" at <.X>: …`) when execution fails.
 */
export function render(tpl: Template | string, data: unknown, opts: RenderOptions = {}): string {
  const t = typeof tpl === 'string' ? parseTemplate(tpl) : tpl;
  return new Exec(t, data, opts).run();
}

// ---------------------------------------------------------------------------------------------
// Functions

interface Ctx {
  mode: ObjectMode;
}

/** Thrown by a function for a bad argument: reported without the `error calling` prefix, as Go does. */
class ArgError extends Error {}

interface Builtin {
  min: number;
  max: number;
  fn: (ctx: Ctx, args: unknown[]) => unknown;
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) throw new ArgError('invalid value; expected string');
  throw new ArgError(`wrong type for value; expected string; got ${goTypeName(v)}`);
}

function int(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  if (v === undefined) throw new ArgError('invalid value; expected int');
  throw new ArgError(`wrong type for value; expected int; got ${goTypeName(v)}`);
}

function evalArgsString(ctx: Ctx, args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args, ctx.mode);
}

type Basic = 'bool' | 'int' | 'float' | 'string' | 'invalid';

function basicKind(v: unknown): Basic {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'string';
  return 'invalid';
}

function eq(args: unknown[]): boolean {
  const [a, ...rest] = args;
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const ka = basicKind(a);
  for (const b of rest) {
    const kb = basicKind(b);
    const aNil = a === undefined || a === null;
    const bNil = b === undefined || b === null;
    if (aNil || bNil) {
      // Go: nil (or a missing value) is unequal to anything else, without an error.
      if (aNil && bNil) return true;
      continue;
    }
    const numeric = (ka === 'int' || ka === 'float') && (kb === 'int' || kb === 'float');
    if (numeric) {
      if (Number(a) === Number(b)) return true;
      continue;
    }
    if (ka !== kb) throw new Error('incompatible types for comparison');
    if (ka === 'invalid' && (Array.isArray(a) || a instanceof Map || Array.isArray(b) || b instanceof Map)) {
      throw new Error(`non-comparable type ${formatValue(b)}: ${goTypeName(b)}`);
    }
    if (a === b) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'invalid' || kb === 'invalid' || ka === 'bool' || kb === 'bool') {
    throw new Error('invalid type for comparison');
  }
  const numeric = (ka === 'int' || ka === 'float') && (kb === 'int' || kb === 'float');
  if (ka !== kb && !numeric) throw new Error('incompatible types for comparison');
  return (a as number | string) < (b as number | string);
}

function lengthOf(v: unknown, ctx: Ctx): number {
  switch (kindOf(v, ctx.mode)) {
    case 'string':
      return Buffer.byteLength(v as string);
    case 'array':
      return (v as unknown[]).length;
    case 'map':
    case 'struct':
      return v instanceof Map ? v.size : Object.keys(v as object).length;
    case 'nil':
    case 'novalue':
      throw new Error('len of nil pointer');
    default:
      throw new Error(`len of type ${goTypeName(v, ctx.mode)}`);
  }
}

function indexArg(i: unknown, len: number, cap = len): number {
  if (i === null || i === undefined) throw new Error('cannot index slice/array with nil');
  if (typeof i !== 'number' && typeof i !== 'bigint') throw new Error(`cannot index slice/array with type ${goTypeName(i)}`);
  const x = Number(i);
  if (!Number.isInteger(x)) throw new Error(`cannot index slice/array with type ${goTypeName(i)}`);
  if (x < 0 || x > cap) throw new Error(`index out of range: ${x}`);
  return x;
}

function index(ctx: Ctx, item: unknown, indexes: unknown[]): unknown {
  if (item === undefined || item === null) {
    // compat: a nil map[string]string (e.g. image Labels) indexes to "" in docker.
    if (indexes.length > 0 && indexes.every((i) => typeof i === 'string')) return '';
    throw new Error('index of untyped nil');
  }
  let cur: unknown = item;
  for (const i of indexes) {
    if (cur === null || cur === undefined) throw new Error('index of nil pointer');
    const kind = kindOf(cur, ctx.mode);
    if (kind === 'array') {
      const a = cur as unknown[];
      const x = indexArg(i, a.length);
      if (x === a.length) throw new Error(`index out of range: ${x}`);
      cur = a[x];
    } else if (kind === 'string') {
      const b = Buffer.from(cur as string, 'utf8');
      const x = indexArg(i, b.length);
      if (x === b.length) throw new Error(`index out of range: ${x}`);
      cur = b[x];
    } else if (kind === 'map' || kind === 'struct') {
      const has = cur instanceof Map ? cur.has(i) : Object.hasOwn(cur as object, String(i));
      if (has) {
        cur = cur instanceof Map ? cur.get(i) : (cur as Record<string, unknown>)[String(i)];
      } else {
        // Go returns the zero value of the element type: "" for map[string]string, nil otherwise.
        const values = mapEntries(cur as object).map(([, v]) => v);
        cur = values.every((v) => typeof v === 'string') ? '' : null;
      }
    } else {
      throw new Error(`can't index item of type ${goTypeName(cur, ctx.mode)}`);
    }
  }
  return cur;
}

function slice(ctx: Ctx, item: unknown, idx: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('slice of untyped nil');
  if (idx.length > 3) throw new Error(`too many slice indexes: ${idx.length}`);
  const kind = kindOf(item, ctx.mode);
  if (kind !== 'string' && kind !== 'array') throw new Error(`can't slice item of type ${goTypeName(item, ctx.mode)}`);
  if (kind === 'string' && idx.length === 3) throw new Error('cannot 3-index slice a string');
  const seq = kind === 'string' ? Buffer.from(item as string, 'utf8') : (item as unknown[]);
  const cap = seq.length;
  const pos = [0, seq.length];
  idx.forEach((x, k) => {
    pos[k] = indexArg(x, cap);
  });
  const [i = 0, j = seq.length] = pos;
  if (i > j) throw new Error(`invalid slice index: ${i} > ${j}`);
  return kind === 'string' ? (seq as Buffer).subarray(i, j).toString('utf8') : (seq as unknown[]).slice(i, j);
}

function htmlEscape(s: string): string {
  return s.replace(/[<>&'"\0]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\ufffd' })[c] as string);
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    const named: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };
    if (named[ch]) out += named[ch];
    else if (c < 0x20 || /[\p{C}]/u.test(ch)) out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function isSeparator(r: string): boolean {
  if (r <= '\x7f') {
    if (/[0-9a-zA-Z_]/.test(r)) return false;
    return true;
  }
  if (/[\p{L}\p{Nd}]/u.test(r)) return false;
  return /\s/u.test(r);
}

/** Go's strings.Title: upper-cases the first letter of each word. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const r of s) {
    out += isSeparator(prev) ? simpleCase(r, 'upper') : r;
    prev = r;
  }
  return out;
}

// Go's ToUpper/ToLower map rune by rune; JavaScript's special casing ('ß' → 'SS') does not apply.
function simpleCase(s: string, to: 'upper' | 'lower'): string {
  let out = '';
  for (const r of s) {
    const m = to === 'upper' ? r.toUpperCase() : r.toLowerCase();
    out += [...m].length === 1 ? m : r;
  }
  return out;
}

const BUILTINS: Record<string, Builtin> = {
  and: { min: 1, max: Infinity, fn: () => undefined }, // short-circuits; evaluated by Exec
  or: { min: 1, max: Infinity, fn: () => undefined },
  not: { min: 1, max: 1, fn: (ctx, [a]) => !isTrue(a, ctx.mode) },
  len: { min: 1, max: 1, fn: (ctx, [a]) => lengthOf(a, ctx) },
  index: { min: 1, max: Infinity, fn: (ctx, [a, ...i]) => index(ctx, a, i) },
  slice: { min: 1, max: Infinity, fn: (ctx, [a, ...i]) => slice(ctx, a, i) },
  print: { min: 0, max: Infinity, fn: (ctx, a) => sprint(a, ctx.mode) },
  println: { min: 0, max: Infinity, fn: (ctx, a) => sprintln(a, ctx.mode) },
  printf: { min: 1, max: Infinity, fn: (ctx, [f, ...a]) => sprintf(str(f), a, ctx.mode) },
  html: { min: 0, max: Infinity, fn: (ctx, a) => htmlEscape(evalArgsString(ctx, a)) },
  js: { min: 0, max: Infinity, fn: (ctx, a) => jsEscape(evalArgsString(ctx, a)) },
  urlquery: { min: 0, max: Infinity, fn: (ctx, a) => queryEscape(evalArgsString(ctx, a)) },
  call: {
    min: 1,
    max: Infinity,
    fn: (ctx, [f, ...a]) => {
      if (typeof f !== 'function') throw new Error(`non-function of type ${goTypeName(f, ctx.mode)}`);
      return (f as (...x: unknown[]) => unknown)(...a);
    },
  },
  eq: { min: 1, max: Infinity, fn: (_ctx, a) => eq(a) },
  ne: { min: 2, max: 2, fn: (_ctx, a) => !eq(a) },
  lt: { min: 2, max: 2, fn: (_ctx, [a, b]) => lt(a, b) },
  le: { min: 2, max: 2, fn: (_ctx, [a, b]) => lt(a, b) || eq([a, b]) },
  gt: { min: 2, max: 2, fn: (_ctx, [a, b]) => !lt(a, b) && !eq([a, b]) },
  ge: { min: 2, max: 2, fn: (_ctx, [a, b]) => !lt(a, b) },
  // docker/cli templates.basicFunctions
  json: {
    min: 1,
    max: 1,
    fn: (ctx, [v]) => {
      try {
        return goJson(v, ctx.mode);
      } catch {
        return ''; // compat: docker ignores the encoder's error and prints nothing
      }
    },
  },
  split: {
    min: 2,
    max: 2,
    fn: (_ctx, [s, sep]) => {
      const a = str(s);
      const b = str(sep);
      return b === '' ? [...a] : a.split(b);
    },
  },
  join: {
    min: 2,
    max: 2,
    fn: (ctx, [list, sep]) => {
      const s = str(sep);
      if (list === null || list === undefined) return '';
      if (!Array.isArray(list)) throw new ArgError(`wrong type for value; expected []string; got ${goTypeName(list, ctx.mode)}`);
      return list.map((x) => (typeof x === 'string' ? x : formatValue(x ?? null, ctx.mode))).join(s);
    },
  },
  title: { min: 1, max: 1, fn: (_ctx, [s]) => title(str(s)) },
  lower: { min: 1, max: 1, fn: (_ctx, [s]) => simpleCase(str(s), 'lower') },
  upper: { min: 1, max: 1, fn: (_ctx, [s]) => simpleCase(str(s), 'upper') },
  pad: {
    min: 3,
    max: 3,
    fn: (_ctx, [s, before, after]) => {
      const v = str(s);
      const b = int(before);
      const a = int(after);
      if (v === '') return v;
      return ' '.repeat(Math.max(b, 0)) + v + ' '.repeat(Math.max(a, 0));
    },
  },
  truncate: {
    min: 2,
    max: 2,
    fn: (_ctx, [s, n]) => {
      const v = str(s);
      const len = int(n);
      const bytes = Buffer.from(v, 'utf8');
      // compat: docker truncates bytes, not runes
      return bytes.length < len ? v : bytes.subarray(0, Math.max(len, 0)).toString('utf8');
    },
  },
};

/** The functions every template knows: Go's built-ins plus docker's. */
export const FUNCTION_NAMES: readonly string[] = Object.keys(BUILTINS);

/**
 * docker's HeaderFunctions: while rendering a table's header row these return their first
 * argument unchanged, so `{{.Names | upper}}` still shows the column title. `pad` is kept.
 */
export const HEADER_FUNCS: Readonly<Record<string, TemplateFunc>> = {
  json: (v: unknown) => v,
  split: (v: unknown) => v,
  join: (v: unknown) => v,
  title: (v: unknown) => v,
  lower: (v: unknown) => v,
  upper: (v: unknown) => v,
  truncate: (v: unknown) => v,
};

// ---------------------------------------------------------------------------------------------
// Execution

const NO_FINAL = Symbol('missing');
type Final = unknown;

class Break {}
class Continue {}

class ExecFailure extends Error {}

class Exec {
  readonly #t: Template;
  readonly #ctx: Ctx;
  readonly #override: Record<string, TemplateFunc>;
  #vars: Array<{ name: string; value: unknown }>;
  #out = '';
  #pos = 0;
  #context = '';

  constructor(t: Template, data: unknown, opts: RenderOptions) {
    this.#t = t;
    this.#ctx = { mode: opts.objects ?? 'struct' };
    this.#override = { ...opts.funcs };
    this.#vars = [{ name: '$', value: data }];
  }

  run(): string {
    try {
      this.#walkList(this.#vars[0]?.value, this.#t.nodes);
    } catch (err) {
      if (err instanceof ExecFailure) throw new TemplateError(err.message);
      throw err;
    }
    return this.#out;
  }

  #at(pos: number, context: string): void {
    this.#pos = pos;
    this.#context = context;
  }

  #errorf(msg: string): never {
    const text = this.#t.source.slice(0, this.#pos);
    const nl = text.lastIndexOf('\n');
    const line = 1 + (text.match(/\n/g)?.length ?? 0);
    const col = nl < 0 ? this.#pos : this.#pos - (nl + 1);
    const name = this.#t.name;
    throw new ExecFailure(`template: ${name}:${line}:${col}: executing ${JSON.stringify(name)} at <${this.#context}>: ${msg}`);
  }

  #walkList(dot: unknown, list: Node[]): void {
    for (const n of list) this.#walk(dot, n);
  }

  #walk(dot: unknown, node: Node): void {
    switch (node.type) {
      case 'text':
        this.#out += node.text;
        return;
      case 'action': {
        const val = this.#evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.#out += formatValue(val, this.#ctx.mode);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.#vars.length;
        try {
          const val = this.#evalPipeline(dot, node.pipe);
          if (isTrue(val, this.#ctx.mode)) this.#walkList(node.type === 'with' ? val : dot, node.list);
          else if (node.elseList) this.#walkList(dot, node.elseList);
        } finally {
          this.#vars.length = mark;
        }
        return;
      }
      case 'range':
        this.#walkRange(dot, node);
        return;
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
    }
  }

  #walkRange(dot: unknown, node: ControlNode): void {
    const outer = this.#vars.length;
    try {
      const val = this.#evalPipeline(dot, node.pipe);
      const mark = this.#vars.length;
      const decl = node.pipe.decl;
      const one = (key: unknown, elem: unknown): boolean => {
        if (decl.length > 0) {
          if (node.pipe.isAssign) {
            this.#setVar(decl[0] as string, decl.length > 1 ? key : elem);
            if (decl.length > 1) this.#setVar(decl[1] as string, elem);
          } else {
            this.#setTopVar(1, elem);
            if (decl.length > 1) this.#setTopVar(2, key);
          }
        }
        try {
          this.#walkList(elem, node.list);
        } catch (err) {
          if (err instanceof Break) return false;
          if (!(err instanceof Continue)) throw err;
        } finally {
          this.#vars.length = mark;
        }
        return true;
      };
      let iterated = false;
      const kind = kindOf(val, this.#ctx.mode);
      if (kind === 'array') {
        const a = val as unknown[];
        for (let i = 0; i < a.length; i++) {
          iterated = true;
          if (!one(i, a[i])) break;
        }
      } else if (kind === 'map' || kind === 'struct') {
        // Ranging over a struct is an error in Go; an unmarked plain object is taken as a map here.
        for (const [k, v] of mapEntries(val as object)) {
          iterated = true;
          if (!one(k, v)) break;
        }
      } else if (kind === 'number' && Number.isInteger(val)) {
        for (let i = 0; i < (val as number); i++) {
          iterated = true;
          if (!one(i, i)) break;
        }
      } else if (kind !== 'nil' && kind !== 'novalue') {
        this.#at(node.pipe.pos, pipeContext(node.pipe));
        this.#errorf(`range can't iterate over ${formatValue(val, this.#ctx.mode)}`);
      }
      if (!iterated && node.elseList) this.#walkList(dot, node.elseList);
    } finally {
      this.#vars.length = outer;
    }
  }

  #setVar(name: string, value: unknown): void {
    for (let i = this.#vars.length - 1; i >= 0; i--) {
      const v = this.#vars[i] as { name: string; value: unknown };
      if (v.name === name) {
        v.value = value;
        return;
      }
    }
    this.#errorf(`undefined variable: ${name}`);
  }

  #setTopVar(n: number, value: unknown): void {
    const v = this.#vars[this.#vars.length - n];
    if (v) v.value = value;
  }

  #varValue(name: string): unknown {
    for (let i = this.#vars.length - 1; i >= 0; i--) {
      const v = this.#vars[i] as { name: string; value: unknown };
      if (v.name === name) return v.value;
    }
    return this.#errorf(`undefined variable: ${name}`);
  }

  #evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: Final = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.#evalCommand(dot, cmd, value);
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.#setVar(name, value);
      else this.#vars.push({ name, value });
    }
    return value;
  }

  #notAFunction(args: Arg[], final: Final): void {
    if (args.length > 1 || final !== NO_FINAL) {
      this.#errorf(`can't give argument to non-function ${argString(args[0] as Arg)}`);
    }
  }

  #evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    const first = cmd.args[0] as Arg;
    this.#at(first.pos, argString(first));
    switch (first.type) {
      case 'field':
        return this.#evalFieldChain(dot, dot, first, first.ident, cmd.args, final);
      case 'chain': {
        const receiver = this.#evalArg(dot, first.node);
        this.#at(first.pos, argString(first));
        return this.#evalFieldChain(dot, receiver, first, first.field, cmd.args, final);
      }
      case 'identifier':
        return this.#evalFunction(dot, first.name, cmd, cmd.args, final);
      case 'pipe':
        this.#notAFunction(cmd.args, final);
        return this.#evalPipeline(dot, first.pipe);
      case 'variable':
        return this.#evalVariable(dot, first, cmd.args, final);
      default:
        break;
    }
    this.#notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
      case 'number':
      case 'string':
        return first.value;
      case 'dot':
        return dot;
      default:
        return this.#errorf('nil is not a command');
    }
  }

  #evalVariable(dot: unknown, v: Extract<Arg, { type: 'variable' }>, args: Arg[], final: Final): unknown {
    this.#at(v.pos, argString(v));
    const value = this.#varValue(v.ident[0] as string);
    if (v.ident.length === 1) {
      this.#notAFunction(args, final);
      return value;
    }
    return this.#evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  #evalFieldChain(dot: unknown, receiver: unknown, node: Arg, ident: string[], args: Arg[], final: Final): unknown {
    const n = ident.length;
    let r = receiver;
    for (let i = 0; i < n - 1; i++) r = this.#evalField(dot, ident[i] as string, node, [node], NO_FINAL, r);
    return this.#evalField(dot, ident[n - 1] as string, node, args, final, r);
  }

  #evalField(dot: unknown, name: string, node: Arg, args: Arg[], final: Final, receiver: unknown): unknown {
    this.#at(node.pos, argString(node));
    if (receiver === undefined) return undefined;
    if (receiver === null) this.#errorf(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 1 || final !== NO_FINAL;
    const kind = kindOf(receiver, this.#ctx.mode);
    let value: unknown;
    let found = false;
    if (receiver instanceof Map) {
      found = receiver.has(name);
      value = receiver.get(name);
    } else if (kind === 'map' || kind === 'struct' || kind === 'stringer' || kind === 'date') {
      const obj = receiver as Record<string, unknown>;
      found = Object.hasOwn(obj, name) || (name in obj && !(name in Object.prototype));
      value = found ? obj[name] : undefined;
    } else {
      this.#errorf(`can't evaluate field ${name} in type ${goTypeName(receiver, this.#ctx.mode)}`);
    }
    if (typeof value === 'function') {
      // A method: call it with the command's arguments, then the piped value.
      const argv = args.slice(1).map((a) => this.#evalArg(dot, a));
      if (final !== NO_FINAL) argv.push(final);
      this.#at(node.pos, argString(node));
      try {
        return (value as (...a: unknown[]) => unknown).apply(receiver, argv);
      } catch (err) {
        return this.#errorf(`error calling ${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (hasArgs) {
      this.#errorf(kind === 'map' ? `${name} is not a method but has arguments` : `${name} has arguments but cannot be invoked as function`);
    }
    return found ? value : undefined;
  }

  #lookupFunc(name: string): { builtin?: Builtin; fn?: TemplateFunc } {
    const fn = this.#override[name] ?? this.#t.funcs[name];
    if (fn) return { fn };
    return { builtin: BUILTINS[name] };
  }

  #evalFunction(dot: unknown, name: string, cmd: Command | Arg, args: Arg[], final: Final): unknown {
    const context = 'args' in cmd ? commandString(cmd) : argString(cmd);
    const { builtin, fn } = this.#lookupFunc(name);
    const rest = args.slice(1);
    const numIn = rest.length + (final === NO_FINAL ? 0 : 1);
    if (builtin) {
      this.#at(cmd.pos, context);
      if (builtin.max === Infinity && numIn < builtin.min) {
        this.#errorf(`wrong number of args for ${name}: want at least ${builtin.min} got ${numIn}`);
      } else if (builtin.max !== Infinity && (numIn < builtin.min || numIn > builtin.max)) {
        this.#errorf(`wrong number of args for ${name}: want ${builtin.max} got ${numIn}`);
      }
      if (name === 'and' || name === 'or') {
        let v: unknown;
        for (const a of rest) {
          v = this.#evalArg(dot, a);
          if (isTrue(v, this.#ctx.mode) === (name === 'or')) return v;
        }
        return final === NO_FINAL ? v : final;
      }
    }
    const argv = rest.map((a) => this.#evalArg(dot, a));
    if (final !== NO_FINAL) argv.push(final);
    this.#at(cmd.pos, context);
    try {
      if (fn) return (fn as (...a: unknown[]) => unknown)(...argv);
      if (builtin) return builtin.fn(this.#ctx, argv);
    } catch (err) {
      if (err instanceof ExecFailure) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      return this.#errorf(err instanceof ArgError ? msg : `error calling ${name}: ${msg}`);
    }
    return this.#errorf(`${JSON.stringify(name)} is not a defined function`);
  }

  #evalArg(dot: unknown, arg: Arg): unknown {
    this.#at(arg.pos, argString(arg));
    switch (arg.type) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'field':
        return this.#evalFieldChain(dot, dot, arg, arg.ident, [arg], NO_FINAL);
      case 'variable':
        return this.#evalVariable(dot, arg, [arg], NO_FINAL);
      case 'pipe':
        return this.#evalPipeline(dot, arg.pipe);
      case 'identifier':
        return this.#evalFunction(dot, arg.name, arg, [arg], NO_FINAL);
      case 'chain': {
        const receiver = this.#evalArg(dot, arg.node);
        return this.#evalFieldChain(dot, receiver, arg, arg.field, [arg], NO_FINAL);
      }
      case 'bool':
      case 'number':
      case 'string':
        return arg.value;
    }
  }
}

function pipeContext(p: Pipe): string {
  return p.cmds.map(commandString).join(' | ');
}
