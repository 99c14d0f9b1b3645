// How JavaScript values stand in for Go values inside templates: which ones are maps and which are
// structs, how Go's fmt prints them (%v), and how encoding/json encodes them.
//
// JavaScript has no struct/map distinction, so the rule is: a `Map`, or an object passed through
// `goMap()`, is a Go map (keys sorted when printed, ranged over or JSON-encoded); any other object
// is a struct (fields in insertion order). `render(…, { objects: 'map' })` makes every plain object
// a map, as docker's `inspect` does when it falls back to the raw JSON (`map[string]any`).

const maps = new WeakSet<object>();

/** Marks `obj` as a Go map (`map[k:v]`, sorted keys) without changing it, and returns it. */
export function goMap<T extends object>(obj: T): T {
  maps.add(obj);
  return obj;
}

/** How unmarked plain objects behave: as Go structs (the default) or as Go maps. */
export type ObjectMode = 'struct' | 'map';

export type GoKind =
  | 'novalue' // undefined: Go's invalid reflect.Value, printed as <no value>
  | 'nil'
  | 'bool'
  | 'number'
  | 'bigint'
  | 'string'
  | 'array'
  | 'map'
  | 'struct'
  | 'date'
  | 'stringer' // an object with its own toString(), like a Go fmt.Stringer
  | 'func';

export function kindOf(v: unknown, mode: ObjectMode = 'struct'): GoKind {
  if (v === undefined) return 'novalue';
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
      return 'number';
    case 'bigint':
      return 'bigint';
    case 'string':
      return 'string';
    case 'function':
      return 'func';
    case 'symbol':
    case 'undefined':
      return 'novalue';
    default:
      break;
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof Map) return 'map';
  if (v instanceof Date) return 'date';
  if (maps.has(v)) return 'map';
  const proto = Object.getPrototypeOf(v) as object | null;
  const plain = proto === null || proto === Object.prototype;
  if (!plain && hasOwnToString(v)) return 'stringer';
  return mode === 'map' && plain ? 'map' : 'struct';
}

function hasOwnToString(v: object): boolean {
  const fn = (v as { toString?: unknown }).toString;
  return typeof fn === 'function' && fn !== Object.prototype.toString;
}

/** A Go-style type name for error messages (`%T`). */
export function goTypeName(v: unknown, mode: ObjectMode = 'struct'): string {
  switch (kindOf(v, mode)) {
    case 'novalue':
    case 'nil':
      return '<nil>';
    case 'bool':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float64';
    case 'bigint':
      return 'int64';
    case 'string':
      return 'string';
    case 'array':
      return '[]interface {}';
    case 'map':
      return 'map[string]interface {}';
    case 'date':
      return 'time.Time';
    case 'func':
      return 'func';
    default:
      return (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name || 'struct';
  }
}

/** Entries of a map-kind value, sorted by key as Go's fmt, json and text/template do. */
export function mapEntries(v: object): Array<[unknown, unknown]> {
  const entries: Array<[unknown, unknown]> = v instanceof Map ? [...v.entries()] : Object.entries(v);
  return entries.sort(([a], [b]) => compareKeys(a, b));
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Fields of a struct-kind value in declaration (insertion) order, skipping methods. */
export function structEntries(v: object): Array<[string, unknown]> {
  return Object.entries(v).filter(([, x]) => typeof x !== 'function');
}

/** Go's `truth()` as used by if, with, and, or and not. */
export function isTrue(v: unknown, mode: ObjectMode = 'struct'): boolean {
  switch (kindOf(v, mode)) {
    case 'novalue':
    case 'nil':
      return false;
    case 'bool':
      return v as boolean;
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
    case 'string':
      return (v as string).length > 0;
    case 'array':
      return (v as unknown[]).length > 0;
    case 'map':
      return v instanceof Map ? v.size > 0 : Object.keys(v as object).length > 0;
    case 'struct':
      // A Go struct is always true; an empty plain object is almost always an empty map on the wire.
      return Object.keys(v as object).length > 0;
    default:
      return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Numbers: Go's strconv float formatting, with exact decimal rounding (round half to even).

interface Decimal {
  d: string; // significant digits, no leading or trailing zeros
  dp: number; // position of the decimal point relative to the start of d
}

/** The exact decimal expansion of a finite, non-negative double. */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  exp -= 1075; // x = mant * 2^exp
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString(); // x = digits * 10^exp
    dp = digits.length + exp;
  }
  return trimDecimal({ d: digits, dp });
}

function trimDecimal(a: Decimal): Decimal {
  let d = a.d.replace(/0+$/, '');
  let dp = a.dp;
  const lead = d.length - d.replace(/^0+/, '').length;
  d = d.slice(lead);
  dp -= lead;
  return d === '' ? { d: '', dp: 0 } : { d, dp };
}

/** The shortest digits that round-trip, as Go's strconv uses for precision -1. */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const [mant = '0', e = '0'] = x.toExponential().split('e');
  return trimDecimal({ d: mant.replace('.', ''), dp: Number(e) + 1 });
}

/** Rounds to `nd` significant digits the way Go's strconv decimal.Round does. */
function roundDecimal(a: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= a.d.length) return a;
  const c = a.d.charCodeAt(nd);
  let up: boolean;
  if (a.d[nd] === '5' && nd + 1 === a.d.length) {
    up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1; // exactly halfway: round to even
  } else {
    up = c >= 53;
  }
  if (!up) return trimDecimal({ d: a.d.slice(0, nd), dp: a.dp });
  for (let i = nd - 1; i >= 0; i--) {
    if (a.d[i] !== '9') {
      return { d: a.d.slice(0, i) + String.fromCharCode(a.d.charCodeAt(i) + 1), dp: a.dp };
    }
  }
  return { d: '1', dp: a.dp + 1 };
}

function digitAt(a: Decimal, i: number): string {
  return i >= 0 && i < a.d.length ? (a.d[i] as string) : '0';
}

function fmtE(a: Decimal, prec: number, e: 'e' | 'E'): string {
  let s = a.d.length === 0 ? '0' : (a.d[0] as string);
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(a, i);
  }
  const exp = a.d.length === 0 ? 0 : a.dp - 1;
  const abs = Math.abs(exp);
  return `${s}${e}${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

function fmtF(a: Decimal, prec: number): string {
  let s = '';
  if (a.dp > 0) {
    for (let i = 0; i < a.dp; i++) s += digitAt(a, i);
  } else {
    s = '0';
  }
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) s += digitAt(a, a.dp + i);
  }
  return s;
}

/**
 * Go's strconv.FormatFloat(x, fmt, prec, 64) for fmt in e, E, f, g, G; prec -1 means shortest.
 * Exact ties round half to even, as Go does (so 1.125 with %.3g is "1.12", not "1.13").
 */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const sign = neg ? '-' : '';
  const abs = Math.abs(x);
  const shortest = prec < 0;
  let a: Decimal;
  if (shortest) {
    a = shortestDecimal(abs);
  } else {
    a = exactDecimal(abs);
    if (fmt === 'e' || fmt === 'E') a = roundDecimal(a, prec + 1);
    else if (fmt === 'f') a = roundDecimal(a, a.dp + prec);
    else a = roundDecimal(a, prec === 0 ? 1 : prec);
  }
  switch (fmt) {
    case 'e':
    case 'E':
      return sign + fmtE(a, shortest ? Math.max(a.d.length - 1, 0) : prec, fmt);
    case 'f':
      return sign + fmtF(a, shortest ? Math.max(a.d.length - a.dp, 0) : prec);
    default: {
      let p = shortest ? a.d.length : prec === 0 ? 1 : prec;
      let eprec = p;
      if (eprec > a.d.length && a.d.length >= a.dp) eprec = a.d.length;
      if (shortest) eprec = 6;
      const exp = a.dp - 1;
      if (a.d.length !== 0 && (exp < -4 || exp >= eprec)) {
        if (p > a.d.length) p = a.d.length;
        return sign + fmtE(a, Math.max(p - 1, 0), fmt === 'g' ? 'e' : 'E');
      }
      if (p > a.dp) p = a.d.length;
      return sign + fmtF(a, Math.max(p - a.dp, 0));
    }
  }
}

/** A number as Go prints it with %v: integers in full (never with an exponent), floats as %g. */
export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
  return formatFloat(n, 'g', -1);
}

// ---------------------------------------------------------------------------------------------
// %v

/** Go's time.Time.String() for a Date, in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC". */
export function formatGoTime(d: Date): string {
  const iso = d.toISOString(); // 2006-01-02T15:04:05.123Z
  const ms = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${ms}` : ''} +0000 UTC`;
}

/** fmt's %v (and %+v when `plus`): how `{{.X}}` and `print` show a value. */
export function formatValue(v: unknown, mode: ObjectMode = 'struct', plus = false, depth = 0): string {
  switch (kindOf(v, mode)) {
    case 'novalue':
      return depth === 0 ? '<no value>' : '<nil>';
    case 'nil':
      return '<nil>';
    case 'bool':
      return v ? 'true' : 'false';
    case 'number':
      return formatNumber(v as number);
    case 'bigint':
      return (v as bigint).toString();
    case 'string':
      return v as string;
    case 'date':
      return formatGoTime(v as Date);
    case 'stringer':
      return String(v);
    case 'func':
      return '<func>';
    case 'array':
      return `[${(v as unknown[]).map((x) => formatValue(x, mode, plus, depth + 1)).join(' ')}]`;
    case 'map':
      return `map[${mapEntries(v as object)
        .map(([k, x]) => `${formatValue(k, mode, plus, depth + 1)}:${formatValue(x, mode, plus, depth + 1)}`)
        .join(' ')}]`;
    case 'struct':
      return `{${structEntries(v as object)
        .map(([k, x]) => (plus ? `${k}:` : '') + formatValue(x, mode, plus, depth + 1))
        .join(' ')}}`;
  }
}

// ---------------------------------------------------------------------------------------------
// strconv.Quote

const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

/** Go's strconv.Quote: double-quoted, with Go escapes for non-printable characters. */
export function goQuote(s: string, quote = '"'): string {
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === quote || ch === '\\') {
      out += `\\${ch}`;
    } else if (ch === ' ' || !NON_PRINTABLE.test(ch)) {
      out += ch;
    } else {
      const named: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
      const n = named[c];
      if (n) out += n;
      else if (c < 0x20 || c === 0x7f) out += `\\x${hex(c, 2)}`;
      else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // lone surrogate: invalid UTF-8 in Go
      else if (c < 0x10000) out += `\\u${hex(c, 4)}`;
      else out += `\\U${hex(c, 8)}`;
    }
  }
  return out + quote;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

// ---------------------------------------------------------------------------------------------
// encoding/json (as docker's `json` template function: HTML escaping off, no indent)

/**
 * Go's json.Marshal with SetEscapeHTML(false), as docker's `json` template function uses it:
 * map keys sorted, struct fields in order, `undefined` fields left out, Dates as RFC 3339.
 * Throws on NaN and infinities, which Go cannot encode.
 */
export function goJson(v: unknown, mode: ObjectMode = 'struct'): string {
  if (v !== null && typeof v === 'object' && !(v instanceof Date) && !maps.has(v)) {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return goJson(toJSON.call(v), mode);
  }
  switch (kindOf(v, mode)) {
    case 'novalue':
    case 'nil':
    case 'func':
      return 'null';
    case 'bool':
      return v ? 'true' : 'false';
    case 'number': {
      const n = v as number;
      if (!Number.isFinite(n)) throw new Error(`json: unsupported value: ${formatFloat(n, 'g', -1)}`);
      return Number.isInteger(n) ? formatNumber(n) : String(n);
    }
    case 'bigint':
      return (v as bigint).toString();
    case 'string':
      return jsonString(v as string);
    case 'stringer':
      return jsonString(String(v));
    case 'date':
      return jsonString(rfc3339Nano(v as Date));
    case 'array':
      return `[${(v as unknown[]).map((x) => goJson(x, mode)).join(',')}]`;
    case 'map':
      return `{${mapEntries(v as object)
        .filter(([, x]) => typeof x !== 'function')
        .map(([k, x]) => `${jsonString(String(k))}:${goJson(x, mode)}`)
        .join(',')}}`;
    case 'struct':
      return `{${structEntries(v as object)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => `${jsonString(k)}:${goJson(x, mode)}`)
        .join(',')}}`;
  }
}

function rfc3339Nano(d: Date): string {
  const iso = d.toISOString();
  const ms = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${ms ? `.${ms}` : ''}Z`;
}

function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20) {
      const named: Record<number, string> = { 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t' };
      out += named[c] ?? `\\u00${hex(c, 2)}`;
    } else if (c === 0x2028 || c === 0x2029) {
      out += `\\u${hex(c, 4)}`; // compat: Go escapes these even with HTML escaping off
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += s[i] + (s[i + 1] as string);
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += '\ufffd'; // lone surrogate: invalid UTF-8, which Go replaces
    } else {
      out += s[i];
    }
  }
  return out + '"';
}
