// Word expansion and splitting as buildkit's frontend/dockerfile/shell (lex.go): quotes,
// escapes, $VAR / ${VAR} and the ${VAR<modifier>word} forms. It mimics a POSIX shell only as
// far as Dockerfiles need; the quirks below are buildkit's and are kept on purpose.
import { BerthError } from '../../common/index.ts';
import { goQuote, isGoSpace } from './go-compat.ts';

/**
 * Variable lookup used by ShellLex: the value of `name`, or undefined when it is not set.
 * A variable set to the empty string (`NULL=`) is set; this matters for `${V-w}` vs `${V:-w}`.
 */
export type Env = (name: string) => string | undefined;

/** An Env over `KEY=value` strings (a later entry wins; `KEY` alone means set and empty). */
export function envFromList(list: readonly string[]): Env {
  const map = new Map<string, string>();
  for (const e of list) {
    const i = e.indexOf('=');
    if (i < 0) map.set(e, '');
    else map.set(e.slice(0, i), e.slice(i + 1));
  }
  return (name) => map.get(name);
}

/** An Env with nothing set. */
export const emptyEnv: Env = () => undefined;

/** Switches of buildkit's shell.Lex; all default to false. */
export interface ShellLexOptions {
  /** Keep quote characters in the output (the quoted text is still not split or escaped). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Treat ' and " as ordinary characters (buildkit's heredoc content expansion). */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written (`$X`, `${X:-w}`) instead of expanding them. */
  skipUnsetEnv?: boolean;
}

/** The result of ShellLex.processWordWithMatches. */
export interface ProcessWordResult {
  result: string;
  /** Variables that were referenced and set. */
  matched: Set<string>;
  /** Variables that were referenced but not set. */
  unmatched: Set<string>;
}

const EOF = -1;
const cp = (s: string): number => s.codePointAt(0) ?? EOF;
const DOLLAR = cp('$');
const SQUOTE = cp("'");
const DQUOTE = cp('"');
const LBRACE = cp('{');
const RBRACE = cp('}');
const COLON = cp(':');
const SLASH = cp('/');
const BACKSLASH = cp('\\');
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0'].map(cp));
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;

const chr = (c: number): string => (c === EOF ? '\ufffd' : String.fromCodePoint(c));
const isLetter = (c: number): boolean => c !== EOF && LETTER.test(String.fromCodePoint(c));
const isDigit = (c: number): boolean => c !== EOF && DIGIT.test(String.fromCodePoint(c));

/** An error inside the lexer; wrapped with `failed to process "<word>"` at the top. */
class LexFailure extends Error {}

/** Go's text/scanner as used by lex.go: Peek/Next over code points, a leading BOM is skipped. */
class RuneScanner {
  readonly #runes: number[];
  #pos = 0;
  constructor(text: string) {
    this.#runes = Array.from(text, cp);
    if (this.#runes[0] === 0xfeff) this.#pos = 1;
  }
  peek(): number {
    return this.#runes[this.#pos] ?? EOF;
  }
  next(): number {
    const c = this.peek();
    if (c !== EOF) this.#pos++;
    return c;
  }
}

/** Accumulates split words. The buffer is shared between nested calls, as in buildkit. */
class Words {
  readonly words: string[] = [];
  inWord = false;
  constructor(readonly buf: { s: string }) {}
  addChar(c: number): void {
    if (isGoSpace(c) && this.inWord) {
      if (this.buf.s.length !== 0) {
        this.words.push(this.buf.s);
        this.buf.s = '';
        this.inWord = false;
      }
    } else if (!isGoSpace(c)) {
      this.addRawChar(c);
    }
  }
  addRawChar(c: number): void {
    this.buf.s += String.fromCodePoint(c);
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(cp(ch));
  }
  addRawString(s: string): void {
    this.buf.s += s;
    this.inWord = true;
  }
  getWords(): string[] {
    if (this.buf.s.length > 0) {
      this.words.push(this.buf.s);
      this.buf.s = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class ShellWord {
  readonly scanner: RuneScanner;
  // compat: buildkit reuses one words buffer for nested ${VAR:-word} processing, so in
  // processWords a modifier expansion drops what the current word held before it.
  readonly wordsBuffer = { s: '' };
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  rawEscapes: boolean;

  constructor(
    text: string,
    readonly env: Env,
    readonly escapeToken: number,
    readonly opts: ShellLexOptions,
  ) {
    this.scanner = new RuneScanner(text);
    this.rawEscapes = opts.rawEscapes === true;
  }

  processStopOn(stopChar: number, rawEscapes: boolean): { result: string; words: string[] } {
    let result = '';
    this.wordsBuffer.s = '';
    const words = new Words(this.wordsBuffer);
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      const sc = this.scanner;
      while (sc.peek() !== EOF) {
        let c = sc.peek();
        if (stopChar !== EOF && c === stopChar) {
          sc.next();
          return { result, words: words.getWords() };
        }
        if (c === DOLLAR) {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
        } else if (!this.opts.skipProcessQuotes && (c === SQUOTE || c === DQUOTE)) {
          const tmp = c === SQUOTE ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else {
          c = sc.next();
          if (c === this.escapeToken) {
            if (this.rawEscapes) {
              words.addRawChar(c);
              result += String.fromCodePoint(c);
            }
            // The escape token escapes the next character, except at the end of the input.
            c = sc.next();
            if (c === EOF) break;
            words.addRawChar(c);
          } else {
            words.addChar(c);
          }
          result += String.fromCodePoint(c);
        }
      }
      if (stopChar !== EOF) {
        throw new LexFailure(`unexpected end of statement while looking for matching ${chr(stopChar)}`);
      }
      return { result, words: words.getWords() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  processSingleQuote(): string {
    // Everything up to the next ' is literal; a ' cannot be escaped inside.
    const sc = this.scanner;
    let result = '';
    let c = sc.next();
    if (this.opts.rawQuotes) result += chr(c);
    for (;;) {
      c = sc.next();
      if (c === EOF) throw new LexFailure('unexpected end of statement while looking for matching single-quote');
      if (c === SQUOTE) {
        if (this.opts.rawQuotes) result += chr(c);
        return result;
      }
      result += chr(c);
    }
  }

  processDoubleQuote(): string {
    // Everything up to the next " is literal except $; the escape token only escapes " $ and itself.
    const sc = this.scanner;
    let result = '';
    const open = sc.next();
    if (this.opts.rawQuotes) result += chr(open);
    for (;;) {
      const p = sc.peek();
      if (p === EOF) throw new LexFailure('unexpected end of statement while looking for matching double-quote');
      if (p === DQUOTE) {
        const c = sc.next();
        if (this.opts.rawQuotes) result += chr(c);
        return result;
      }
      if (p === DOLLAR) {
        result += this.processDollar();
        continue;
      }
      let c = sc.next();
      if (c === this.escapeToken) {
        if (this.rawEscapes) result += chr(c);
        const n = sc.peek();
        if (n === EOF) continue; // an escape at the very end is dropped (then the quote is unterminated)
        if (n === DQUOTE || n === DOLLAR || n === this.escapeToken) c = sc.next();
      }
      result += chr(c);
    }
  }

  processDollar(): string {
    const sc = this.scanner;
    sc.next();
    if (sc.peek() !== LBRACE) {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }
    sc.next();
    const p = sc.peek();
    if (p === EOF) throw new LexFailure("syntax error: missing '}'");
    if (p === LBRACE || p === RBRACE || p === COLON) throw new LexFailure('syntax error: bad substitution');
    const name = this.processName();
    let c = sc.next();
    let chs = chr(c);
    if (c === RBRACE) {
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return value ?? '';
    }
    if (c === SLASH) return this.processPatternReplace(name);
    let nullIsUnset = false;
    if (c === COLON) {
      nullIsUnset = true;
      c = sc.next();
      chs += chr(c);
    } else if (!'+-?#%'.includes(chr(c))) {
      throw new LexFailure(`unsupported modifier (${chs}) in substitution`);
    }
    const rawEscapes = c === cp('#') || c === cp('%');
    if (nullIsUnset && rawEscapes) throw new LexFailure(`unsupported modifier (${chs}) in substitution`);
    const word = this.stopOnOrMissing(RBRACE, rawEscapes, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}${chs}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (chr(c)) {
      case '-':
        return unset ? word : (value ?? '');
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw new LexFailure(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new LexFailure(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
        return value;
      case '%':
      case '#': {
        // %/# remove the shortest matching suffix/prefix, %%/## the longest.
        let pattern = word;
        let greedy = false;
        if (pattern.startsWith(chr(c))) {
          greedy = true;
          pattern = pattern.slice(1);
        }
        return c === cp('%') ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
      }
      default:
        throw new LexFailure(`unsupported modifier (${chs}) in substitution`);
    }
  }

  processPatternReplace(name: string): string {
    const sc = this.scanner;
    const replaceAll = sc.peek() === SLASH;
    if (replaceAll) sc.next();
    const pattern = this.stopOnOrMissing(SLASH, true, "syntax error: missing '/' in ${}");
    const replacement = this.stopOnOrMissing(RBRACE, true, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
    const re = shellPatternToRegExp(pattern, true, false);
    return replaceAll ? goReplaceAll(re, value ?? '', replacement) : replaceFirst(re, value ?? '', replacement);
  }

  /** processStopOn, turning a failure at the end of input into `missing`. */
  stopOnOrMissing(stop: number, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (err) {
      if (err instanceof LexFailure && this.scanner.peek() === EOF) throw new LexFailure(missing);
      throw err;
    }
  }

  processName(): string {
    // A name is letters, digits and _; a leading digit reads only digits; special parameters are one character.
    const sc = this.scanner;
    let name = '';
    while (sc.peek() !== EOF) {
      const c = sc.peek();
      if (name === '' && isDigit(c)) {
        while (sc.peek() !== EOF && isDigit(sc.peek())) name += String.fromCodePoint(sc.next());
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.has(c)) return String.fromCodePoint(sc.next());
      if (!isLetter(c) && !isDigit(c) && c !== cp('_')) break;
      name += String.fromCodePoint(sc.next());
    }
    return name;
  }

  getEnv(name: string): string | undefined {
    const v = this.env(name);
    if (v !== undefined) this.matched.add(name);
    else this.unmatched.add(name);
    return v;
  }
}

/**
 * buildkit's convertShellPatternToRegex: `*` any string (shortest unless greedy), `?` one
 * character, `\` escapes `*`, `?` and `\`; bracket expressions are not supported. Go's `.`
 * excludes only `\n`, hence `[^\n]`.
 */
function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const sc = new RuneScanner(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '[^\\n]*' : '[^\\n]*?';
  for (let tok = sc.next(); tok !== EOF; tok = sc.next()) {
    const t = String.fromCodePoint(tok);
    if (t === '*') {
      out += star;
      continue;
    }
    if (t === '?') {
      out += '[^\\n]';
      continue;
    }
    if (tok === BACKSLASH) {
      // \} and \/ are needed inside ${}, but the escape is not part of the pattern.
      if (sc.peek() === RBRACE || sc.peek() === SLASH) continue;
      out += '\\';
      const next = sc.next();
      if (next !== cp('*') && next !== cp('?') && next !== BACKSLASH) {
        throw new LexFailure(`invalid pattern (${pattern}) in substitution: invalid escape '\\${chr(next)}'`);
      }
      out += chr(next);
      continue;
    }
    if ('[]{}.+()|^$'.includes(t)) out += '\\';
    out += t;
  }
  return new RegExp(out, 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** Reverses a pattern keeping escapes in front of what they escape (a\*c -> c\*a). */
function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const out: string[] = new Array<string>(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = runes[i] ?? '';
    const o = last - i;
    if (tok === '\\' && i !== last) {
      out[o - 1] = tok;
      out[o] = runes[i + 1] ?? '';
      i += 2;
    } else {
      out[o] = tok;
      i++;
    }
  }
  return out.join('');
}

const reverseString = (s: string): string => Array.from(s).reverse().join('');

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // A regexp cannot find the shortest rightmost match, so search the reversed value.
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

function replaceFirst(re: RegExp, value: string, replacement: string): string {
  const m = re.exec(value);
  return m ? value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length) : value;
}

/** Go's Regexp.ReplaceAllString: non-overlapping matches, `$0`/`${0}` templates, `$$` for `$`. */
function goReplaceAll(re: RegExp, src: string, template: string): string {
  const g = new RegExp(re.source, re.flags + 'g');
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    g.lastIndex = searchPos;
    const m = g.exec(src);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += src.slice(lastMatchEnd, start);
    // No replacement for an empty match right after a previous match.
    if (end > lastMatchEnd || start === 0) out += expandTemplate(template, m[0]);
    lastMatchEnd = end;
    const width = (src.codePointAt(searchPos) ?? 0) > 0xffff ? 2 : 1;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + src.slice(lastMatchEnd);
}

/** Go's Regexp.Expand for a regexp with no capture groups besides the whole match. */
function expandTemplate(template: string, whole: string): string {
  let out = '';
  let t = template;
  for (;;) {
    const i = t.indexOf('$');
    if (i < 0) break;
    out += t.slice(0, i);
    t = t.slice(i + 1);
    if (t.startsWith('$')) {
      out += '$';
      t = t.slice(1);
      continue;
    }
    const m = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(t);
    if (!m) {
      out += '$';
      continue;
    }
    const name = m[1] ?? m[2] ?? '';
    t = t.slice(m[0].length);
    if (name === '0') out += whole;
  }
  return out + t;
}

/**
 * Shell-like word processing as buildkit's shell.Lex. Not safe to share between concurrent
 * callers only in the sense that options are fixed at construction; each call is independent.
 */
export class ShellLex {
  readonly escapeToken: '\\' | '`';
  readonly #options: ShellLexOptions;

  constructor(escapeToken: '\\' | '`' = '\\', options: ShellLexOptions = {}) {
    this.escapeToken = escapeToken;
    this.#options = { ...options };
  }

  /**
   * Expands variables and removes quotes and escapes in `word`, keeping it one string.
   * Throws a BerthError('invalid-argument') like `failed to process "${X?}": X: is not allowed to be unset`.
   */
  processWord(word: string, env: Env): string {
    return this.#run(word, env).result;
  }

  /** Like processWord, and reports which variables were and were not set. */
  processWordWithMatches(word: string, env: Env): ProcessWordResult {
    const { result, sw } = this.#runWithState(word, env);
    return { result: result.result, matched: sw.matched, unmatched: sw.unmatched };
  }

  /**
   * Expands `word` and splits it on unquoted whitespace, after expansion (so an unquoted
   * `$VAR` holding spaces gives several words). Throws like processWord.
   */
  processWords(word: string, env: Env): string[] {
    return this.#run(word, env).words;
  }

  #run(word: string, env: Env): { result: string; words: string[] } {
    return this.#runWithState(word, env).result;
  }

  #runWithState(word: string, env: Env): { result: { result: string; words: string[] }; sw: ShellWord } {
    const sw = new ShellWord(word, env, cp(this.escapeToken), this.#options);
    try {
      return { result: sw.processStopOn(EOF, sw.rawEscapes), sw };
    } catch (err) {
      if (err instanceof LexFailure) {
        throw new BerthError('invalid-argument', `failed to process ${goQuote(word)}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
}
