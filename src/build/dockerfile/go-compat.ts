// Small re-implementations of the Go standard-library behaviour that buildkit's Dockerfile
// front end relies on (unicode.IsSpace, strings.TrimSpace, strconv.Quote, regexp.Split,
// time.ParseDuration, strconv.ParseInt, util/suggest). Internal to src/build/dockerfile.

/** Go's unicode.IsSpace: ASCII/Latin-1 spaces plus the Unicode White_Space characters. */
export function isGoSpace(cp: number): boolean {
  switch (cp) {
    case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x20:
    case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200a;
  }
}

/** Go's strings.TrimLeftFunc(s, unicode.IsSpace). */
export function goTrimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length) {
    const cp = s.codePointAt(i) ?? 0;
    if (!isGoSpace(cp)) break;
    i += cp > 0xffff ? 2 : 1;
  }
  return s.slice(i);
}

/** Go's strings.TrimRightFunc(s, unicode.IsSpace). All Go spaces are in the BMP. */
export function goTrimRightSpace(s: string): string {
  let j = s.length;
  while (j > 0 && isGoSpace(s.charCodeAt(j - 1))) j--;
  return s.slice(0, j);
}

/** Go's strings.TrimSpace. */
export function goTrimSpace(s: string): string {
  return goTrimRightSpace(goTrimLeftSpace(s));
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Go's strconv.Quote (what `%q` prints for a string). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    let cp = ch.codePointAt(0) ?? 0;
    // A lone surrogate cannot come from Go; it becomes U+FFFD when encoded as UTF-8.
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp === 0x22 || cp === 0x5c) {
      out += '\\' + String.fromCodePoint(cp);
      continue;
    }
    if (cp === 0x20 || (cp > 0x7e && PRINTABLE.test(String.fromCodePoint(cp))) || (cp > 0x20 && cp < 0x7f)) {
      out += String.fromCodePoint(cp);
      continue;
    }
    switch (cp) {
      case 0x07: out += '\\a'; break;
      case 0x08: out += '\\b'; break;
      case 0x0c: out += '\\f'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x0b: out += '\\v'; break;
      default:
        if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
        else if (cp < 0x10000) out += '\\u' + hex(cp, 4);
        else out += '\\U' + hex(cp, 8);
    }
  }
  return out + '"';
}

/** Go's regexp.Split(s, n) for a pattern that cannot match the empty string. */
export function goRegexpSplit(re: RegExp, s: string, n: number): string[] {
  if (n === 0) return [];
  if (s.length === 0) return [''];
  const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  let count = 0;
  for (const m of s.matchAll(global)) {
    if (n > 0 && count >= n) break; // FindAllStringIndex(s, n) returns at most n matches
    count++;
    if (n > 0 && out.length === n - 1) break;
    const start = m.index ?? 0;
    end = start;
    if (start + m[0].length !== 0) out.push(s.slice(beg, end));
    beg = start + m[0].length;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

/** Levenshtein distance over code points (agext/levenshtein with default costs). */
function levenshtein(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[y.length] ?? 0;
}

function matchCase(val: string, orig: string): string {
  if (orig === orig.toLowerCase()) return val.toLowerCase();
  if (orig === orig.toUpperCase()) return val.toUpperCase();
  return val;
}

/**
 * buildkit's util/suggest.WrapError: appends " (did you mean X?)" when one of `options` is
 * within edit distance 2 of `val`. Options are scanned in order; the first closest one wins.
 */
export function withSuggestion(message: string, val: string, options: readonly string[], caseSensitive: boolean): string {
  const v = caseSensitive ? val : val.toLowerCase();
  let match = '';
  let minDist = 3;
  for (const o of options) {
    const opt = caseSensitive ? o : o.toLowerCase();
    if (v === opt) return message; // an exact match means the error is about something else
    const dist = levenshtein(v, opt);
    if (dist < minDist) {
      match = caseSensitive ? opt : matchCase(opt, val);
      minDist = dist;
    }
  }
  return match === '' ? message : `${message} (did you mean ${match}?)`;
}

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n, // U+00B5
  'μs': 1000n, // U+03BC
  ms: 1000000n,
  s: 1000000000n,
  m: 60000000000n,
  h: 3600000000000n,
};
const MAX_INT64 = (1n << 63n) - 1n;

/** Go's time.ParseDuration, in nanoseconds. Throws Go's error text. */
export function parseGoDuration(orig: string): number {
  const invalid = (): Error => new Error(`time: invalid duration ${goQuote(orig)}`);
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || (s[0] !== undefined && s[0] >= '0' && s[0] <= '9'))) throw invalid();
    const intPart = /^[0-9]*/.exec(s)?.[0] ?? '';
    s = s.slice(intPart.length);
    const pre = intPart !== '';
    let fracPart = '';
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      fracPart = /^[0-9]*/.exec(s)?.[0] ?? '';
      s = s.slice(fracPart.length);
      post = fracPart !== '';
    }
    if (!pre && !post) throw invalid();
    const unitMatch = /^[^0-9.]*/.exec(s)?.[0] ?? '';
    if (unitMatch === '') throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    s = s.slice(unitMatch.length);
    const unit = UNITS[unitMatch];
    if (unit === undefined) throw new Error(`time: unknown unit ${goQuote(unitMatch)} in duration ${goQuote(orig)}`);
    let v = BigInt(intPart === '' ? '0' : intPart) * unit;
    if (fracPart !== '') {
      // Go truncates the fraction to the unit's precision.
      const scale = 10n ** BigInt(fracPart.length);
      v += (BigInt(fracPart) * unit) / scale;
    }
    total += v;
    if (total > MAX_INT64 + (neg ? 1n : 0n)) throw invalid();
  }
  return Number(neg ? -total : total);
}

/** Go's strconv.ParseInt(s, 10, 32). Throws Go's error text. */
export function parseGoInt32(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  const v = BigInt(s);
  if (v > 2147483647n || v < -2147483648n) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  return Number(v);
}

/** Go's sort.Strings order: byte-wise on UTF-8, which is code-point order. */
export function compareGoStrings(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const y = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** The UTF-8 bytes of `s` as a string of code units 0..255 (Go byte-indexing emulation). */
export function toByteString(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** Inverse of toByteString. Invalid UTF-8 becomes U+FFFD. */
export function fromByteString(b: string): string {
  return Buffer.from(b, 'latin1').toString('utf8');
}
