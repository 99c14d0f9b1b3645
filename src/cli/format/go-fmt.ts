// A subset of Go's fmt package: Sprint, Sprintln and Sprintf, with Go's verbs, flags and
// error strings (`%!d(string=x)`, `%!s(MISSING)`), for the `print`, `println` and `printf`
// template functions.
import { formatFloat, formatValue, goQuote, goTypeName, kindOf, mapEntries, structEntries, type ObjectMode } from './go-value.ts';

/** fmt.Sprint: operands printed with %v, a space between two operands when neither is a string. */
export function sprint(args: readonly unknown[], mode: ObjectMode = 'struct'): string {
  let out = '';
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a ?? null, mode);
  });
  return out;
}

/** fmt.Sprintln: operands printed with %v, always space-separated, newline appended. */
export function sprintln(args: readonly unknown[], mode: ObjectMode = 'struct'): string {
  return `${args.map((a) => formatValue(a ?? null, mode)).join(' ')}\n`;
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV?: boolean;
  width?: number;
  prec?: number;
  verb: string;
}

function runeLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pad(s: string, spec: Spec, zeroOK = true): string {
  if (spec.width === undefined) return s;
  const n = spec.width - runeLength(s);
  if (n <= 0) return s;
  if (spec.minus) return s + ' '.repeat(n);
  if (spec.zero && zeroOK) {
    const sign = /^[+\- ]/.test(s) ? s.slice(0, 1) : '';
    return sign + '0'.repeat(n) + s.slice(sign.length);
  }
  return ' '.repeat(n) + s;
}

function bad(spec: Spec, v: unknown, mode: ObjectMode): string {
  if (v === null || v === undefined) return `%!${spec.verb}(<nil>)`;
  return `%!${spec.verb}(${goTypeName(v, mode)}=${formatValue(v, mode)})`;
}

function formatInteger(n: bigint, spec: Spec): string {
  const neg = n < 0n;
  const abs = neg ? -n : n;
  let digits: string;
  let prefix = '';
  switch (spec.verb) {
    case 'x':
      digits = abs.toString(16);
      if (spec.sharp) prefix = '0x';
      break;
    case 'X':
      digits = abs.toString(16).toUpperCase();
      if (spec.sharp) prefix = '0X';
      break;
    case 'o':
      digits = abs.toString(8);
      if (spec.sharp) prefix = '0';
      break;
    case 'O':
      digits = abs.toString(8);
      prefix = '0o';
      break;
    case 'b':
      digits = abs.toString(2);
      if (spec.sharp) prefix = '0b';
      break;
    default:
      digits = abs.toString(10);
  }
  if (spec.prec !== undefined) {
    if (spec.prec === 0 && abs === 0n) digits = '';
    digits = digits.padStart(spec.prec, '0');
  } else if (spec.zero && !spec.minus && spec.width !== undefined) {
    const signLen = neg || spec.plus || spec.space ? 1 : 0;
    digits = digits.padStart(spec.width - signLen - prefix.length, '0');
  }
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return pad(sign + prefix + digits, spec, false);
}

function formatFloatVerb(x: number, spec: Spec): string {
  const verb = spec.verb === 'v' ? 'g' : spec.verb === 'F' ? 'f' : spec.verb;
  const prec = spec.prec ?? (verb === 'g' || verb === 'G' ? -1 : 6);
  let s = formatFloat(x, verb as 'e' | 'E' | 'f' | 'g' | 'G', prec);
  if (spec.plus && !s.startsWith('-')) s = `+${s}`;
  else if (spec.space && !s.startsWith('-')) s = ` ${s}`;
  if (!Number.isFinite(x)) {
    if (!spec.plus && s === '+Inf') s = 'Inf';
    return pad(s, spec, false);
  }
  return pad(s, spec);
}

function formatString(s: string, spec: Spec): string {
  if (spec.prec !== undefined) s = [...s].slice(0, spec.prec).join('');
  switch (spec.verb) {
    case 'q':
      return pad(goQuote(s), spec);
    case 'x':
    case 'X': {
      const h = Buffer.from(s, 'utf8').toString('hex');
      return pad((spec.sharp ? '0x' : '') + (spec.verb === 'X' ? h.toUpperCase() : h), spec);
    }
    default:
      return pad(s, spec);
  }
}

function formatArg(v: unknown, spec: Spec, mode: ObjectMode, depth: number): string {
  const verb = spec.verb;
  const kind = kindOf(v, mode);
  switch (kind) {
    case 'novalue':
    case 'nil':
      return verb === 'v' ? pad('<nil>', spec, false) : `%!${verb}(<nil>)`;
    case 'bool':
      return verb === 't' || verb === 'v' ? pad(v ? 'true' : 'false', spec, false) : bad(spec, v, mode);
    case 'number':
    case 'bigint': {
      const n = v as number | bigint;
      const isInt = typeof n === 'bigint' || Number.isInteger(n);
      if ('eEfFgG'.includes(verb)) return formatFloatVerb(Number(n), spec);
      if (!isInt) return verb === 'v' ? formatFloatVerb(n as number, spec) : bad(spec, v, mode);
      const big = BigInt(n);
      switch (verb) {
        case 'v':
        case 'd':
        case 'x':
        case 'X':
        case 'o':
        case 'O':
        case 'b':
          return formatInteger(big, spec);
        case 'c':
          return pad(String.fromCodePoint(Number(big)), spec);
        case 'q':
          return pad(goQuote(String.fromCodePoint(Number(big)), "'"), spec);
        case 'U': {
          const u = `U+${big.toString(16).toUpperCase().padStart(4, '0')}`;
          return pad(spec.sharp ? `${u} '${String.fromCodePoint(Number(big))}'` : u, spec);
        }
        default:
          return bad(spec, v, mode);
      }
    }
    case 'string':
    case 'stringer':
      return 'vsqxX'.includes(verb) ? formatString(String(v), spec) : bad(spec, v, mode);
    case 'date':
      return 'vs'.includes(verb) ? pad(formatValue(v, mode), spec) : bad(spec, v, mode);
    case 'func':
      return bad(spec, v, mode);
    case 'array':
      return `[${(v as unknown[]).map((x) => formatArg(x, spec, mode, depth + 1)).join(' ')}]`;
    case 'map':
      return `map[${mapEntries(v as object)
        .map(([k, x]) => `${formatArg(k, spec, mode, depth + 1)}:${formatArg(x, spec, mode, depth + 1)}`)
        .join(' ')}]`;
    case 'struct':
      return `{${structEntries(v as object)
        .map(([k, x]) => (spec.plusV ? `${k}:` : '') + formatArg(x, spec, mode, depth + 1))
        .join(' ')}}`;
  }
}

/** fmt.Sprintf for the verbs %v %+v %s %q %d %t %x %X %o %O %b %c %U %e %E %f %F %g %G %%. */
export function sprintf(format: string, args: readonly unknown[], mode: ObjectMode = 'struct'): string {
  let out = '';
  let argNum = 0;
  let i = 0;
  const n = format.length;
  while (i < n) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false, verb: '' };
    flags: for (; i < n; i++) {
      switch (format[i]) {
        case '-':
          spec.minus = true;
          spec.zero = false; // compat: Go ignores 0 after -
          break;
        case '+':
          spec.plus = true;
          break;
        case '#':
          spec.sharp = true;
          break;
        case ' ':
          spec.space = true;
          break;
        case '0':
          spec.zero = !spec.minus;
          break;
        default:
          break flags;
      }
    }
    const readNumber = (): number | undefined | 'bad' => {
      if (format[i] === '*') {
        i++;
        const a = args[argNum++];
        if (typeof a !== 'number' || !Number.isInteger(a)) return 'bad';
        return a;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    const width = readNumber();
    if (width === 'bad') out += '%!(BADWIDTH)';
    else if (width !== undefined) {
      if (width < 0) {
        spec.minus = true;
        spec.zero = false;
      }
      spec.width = Math.abs(width);
    }
    if (format[i] === '.') {
      i++;
      const prec = readNumber();
      if (prec === 'bad' || (typeof prec === 'number' && prec < 0)) out += '%!(BADPREC)';
      else spec.prec = prec ?? 0;
    }
    if (i >= n) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) as number);
    i += verb.length;
    spec.verb = verb;
    if (verb === 'v' && spec.plus) {
      // compat: Go's %+v means field names (plusV), not a sign
      spec.plus = false;
      spec.plusV = true;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argNum++];
    out += 'vtdsqxXoObcUeEfFgG'.includes(verb) ? formatArg(arg, spec, mode, 0) : bad(spec, arg, mode);
  }
  if (argNum < args.length) {
    const extra = args
      .slice(argNum)
      .map((a) => (a === null || a === undefined ? '<nil>' : `${goTypeName(a, mode)}=${formatValue(a, mode)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}
