// The Dockerfile parser: text -> AST, as buildkit's frontend/dockerfile/parser (parser.go,
// line_parsers.go, split_command.go, directives.go). Line handling, argument splitting and
// heredocs follow buildkit, quirks included; the AST dump is byte-for-byte buildkit's Dump().
import { BerthError, messageOf } from '../../common/index.ts';
import {
  fromByteString,
  goQuote,
  goRegexpSplit,
  goTrimLeftSpace,
  goTrimSpace,
  isGoSpace,
  toByteString,
} from './go-compat.ts';
import { emptyEnv, ShellLex } from './shell-lex.ts';

/**
 * A here-document attached to RUN, COPY or ADD. `content` is the raw body (line endings kept,
 * leading tabs not yet removed); `chomp` (`<<-`) asks for leading tabs to be stripped from each
 * line (see chompHeredocContent); `expand` is false when the delimiter was quoted.
 */
export interface Heredoc {
  name: string;
  content: string;
  expand: boolean;
  chomp: boolean;
  fileDescriptor: number;
}

/** A node of buildkit's parse tree: root -> instructions (children) -> arguments (next chain). */
export interface Node {
  /** Keyword lower-cased for instruction nodes; argument text for argument nodes. */
  value: string;
  /** The argument chain. */
  next: Node | null;
  /** Root: the instructions. ONBUILD: its single argument node holds the nested instruction. */
  children: Node[];
  /** `--flag[=value]` words before the arguments, as written (quotes removed). */
  flags: string[];
  /** json: the arguments were a JSON array (exec form). */
  attributes?: { json?: boolean };
  /** The instruction's text with continuation lines joined, as buildkit keeps it. */
  original: string;
  heredocs: Heredoc[];
  /** 1-based lines the instruction spans (heredoc bodies included). Nested ONBUILD nodes copy their parent's. */
  startLine: number;
  endLine: number;
}

export interface ParseResult {
  ast: Node;
  escapeToken: string;
  /** Parser directives found at the top of the file (`syntax`, `escape`, `check`), by lower-case name. */
  directives: Record<string, string>;
  warnings: string[];
}

/**
 * A Dockerfile that cannot be parsed (kind 'invalid-argument'). `line` is where buildkit locates
 * the error, when it does.
 */
export class DockerfileParseError extends BerthError {
  readonly line?: number;
  constructor(message: string, line?: number, options?: ErrorOptions) {
    super('invalid-argument', message, options);
    this.name = 'DockerfileParseError';
    if (line !== undefined) this.line = line;
  }
}

const RE_WHITESPACE = /[\t\v\f\r ]+/;
const RE_HEREDOC = /^([0-9]*)<<(-?)([^<]*)$/;
const RE_DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+?)[\t\n\f\r ]*$/u;
const VALID_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC_DIRECTIVES = new Set(['add', 'copy', 'run']);
const HEREDOC_COMPOUND_DIRECTIVES = new Set(['onbuild']);
// bufio.MaxScanTokenSize: buildkit reads the Dockerfile with a bufio.Scanner.
const MAX_LINE_BYTES = 64 * 1024;

/** Parser state: the directives seen so far and the current escape token. */
class Directives {
  escapeToken = '\\';
  lineContinuation = continuationRegExp('\\');
  readonly values: Record<string, string> = {};
  #done = false;
  readonly #seen = new Set<string>();

  setEscapeToken(s: string): void {
    if (s !== '`' && s !== '\\') throw new Error(`invalid escape token '${s}' does not match \` or \\`);
    this.escapeToken = s;
    this.lineContinuation = continuationRegExp(s);
  }

  /** Looks for `# name=value` before the first instruction or other comment; true if it was one. */
  possibleParserDirective(line: string): boolean {
    if (this.#done) return false;
    const m = RE_DIRECTIVE.exec(line);
    const key = m?.[1]?.toLowerCase();
    if (!m || key === undefined || !VALID_DIRECTIVES.has(key)) {
      this.#done = true;
      return false;
    }
    if (this.#seen.has(key)) throw new Error(`only one ${key} parser directive can be used`);
    this.#seen.add(key);
    const value = m[2] ?? '';
    if (key === 'escape') this.setEscapeToken(value);
    this.values[key] = value;
    return true;
  }
}

/**
 * The escape token ends a line to continue it, unless it is itself escaped. Like buildkit,
 * an escaped escape token ("foo \\\\") is not recognised as such.
 */
function continuationRegExp(token: string): RegExp {
  const t = token === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${t}])${t}[ \\t]*$|^${t}[ \\t]*$`, 'u');
}

/** bufio.Scanner with buildkit's line splitter: lines keep their "\n"; an over-long line stops the scan. */
class LineScanner {
  readonly #lines: string[] = [];
  #i = 0;
  error: string | undefined;

  constructor(text: string) {
    let start = 0;
    while (start < text.length) {
      const nl = text.indexOf('\n', start);
      const end = nl < 0 ? text.length : nl + 1;
      this.#lines.push(text.slice(start, end));
      start = end;
    }
  }

  scan(): string | undefined {
    if (this.error !== undefined) return undefined;
    const line = this.#lines[this.#i];
    if (line === undefined) return undefined;
    const bytes = Buffer.byteLength(line, 'utf8');
    if (bytes > MAX_LINE_BYTES || (bytes === MAX_LINE_BYTES && !line.endsWith('\n'))) {
      this.error = `dockerfile line greater than max allowed size of ${MAX_LINE_BYTES - 1}`;
      return undefined;
    }
    this.#i++;
    return line;
  }
}

const trimNewline = (s: string): string => s.replace(/[\r\n]+$/, '');
const trimLeadingTabs = (s: string): string => s.replace(/^\t+/, '');

function isComment(line: string): boolean {
  return goTrimLeftSpace(line).startsWith('#');
}

/** Removes leading tabs from every line, as `<<-` asks. */
export function chompHeredocContent(content: string): string {
  return content.replace(/^\t+/gm, '');
}

function processLine(d: Directives, token: string, stripLeftWhitespace: boolean): string {
  let t = trimNewline(token);
  if (stripLeftWhitespace) t = goTrimLeftSpace(t);
  d.possibleParserDirective(t);
  return isComment(t) ? '' : t;
}

function trimContinuationCharacter(line: string, d: Directives): [string, boolean] {
  if (d.lineContinuation.test(line)) return [line.replace(d.lineContinuation, '$1'), false];
  return [line, true];
}

function newNode(value: string, next: Node | null = null): Node {
  return { value, next, children: [], flags: [], original: '', heredocs: [], startLine: 0, endLine: 0 };
}

/** Chains `values` into argument nodes. */
function chain(values: readonly string[]): Node | null {
  let head: Node | null = null;
  for (let i = values.length - 1; i >= 0; i--) head = newNode(values[i] ?? '', head);
  return head;
}

interface LineParse {
  next: Node | null;
  json?: boolean;
}

type LineParser = (rest: string, d: Directives) => LineParse;

const ERR_NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/**
 * Splits on whitespace outside quotes, keeping quotes and escapes in the words (they are
 * removed later by word expansion).
 */
export function parseWords(rest: string, escapeToken = '\\'): string[] {
  const IN_SPACES = 0;
  const IN_WORD = 1;
  const IN_QUOTE = 2;
  const cps = Array.from(rest);
  const words: string[] = [];
  let phase = IN_SPACES;
  let word = '';
  let quote = '';
  let blankOK = false;
  let ch = '';
  for (let pos = 0; pos <= cps.length; pos++) {
    if (pos !== cps.length) ch = cps[pos] ?? '';
    if (phase === IN_SPACES) {
      if (pos === cps.length) break;
      if (isGoSpace(ch.codePointAt(0) ?? 0)) continue;
      phase = IN_WORD;
    }
    if ((phase === IN_WORD || phase === IN_QUOTE) && pos === cps.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === IN_WORD) {
      if (isGoSpace(ch.codePointAt(0) ?? 0)) {
        phase = IN_SPACES;
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = IN_QUOTE;
      }
      if (ch === escapeToken) {
        if (pos + 1 === cps.length) continue; // an escape token at the end of the line is dropped
        // Outside quotes an escape token and the next character are kept as they are, even a quote.
        word += ch;
        pos++;
        ch = cps[pos] ?? '';
      }
      word += ch;
      continue;
    }
    // IN_QUOTE
    if (ch === quote) phase = IN_WORD;
    // The escape token escapes nothing inside single quotes.
    if (ch === escapeToken && quote !== "'") {
      if (pos + 1 === cps.length) {
        phase = IN_WORD;
        continue;
      }
      pos++;
      word += ch;
      ch = cps[pos] ?? '';
    }
    word += ch;
  }
  return words;
}

/** ENV and LABEL: `KEY value` (legacy) or `KEY=value ...`; each pair is key, value, separator. */
function parseNameVal(rest: string, key: string, d: Directives): Node | null {
  const words = parseWords(rest, d.escapeToken);
  const first = words[0];
  if (first === undefined) return null;
  if (!first.includes('=')) {
    const parts = goRegexpSplit(RE_WHITESPACE, rest, 2);
    if (parts.length < 2) throw new Error(`${key} must have two arguments`);
    return chain([parts[0] ?? '', parts[1] ?? '', '']);
  }
  const values: string[] = [];
  for (const word of words) {
    const i = word.indexOf('=');
    if (i < 0) throw new Error(`Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`);
    values.push(word.slice(0, i), word.slice(i + 1), '=');
  }
  return chain(values);
}

const parseEnv: LineParser = (rest, d) => ({ next: parseNameVal(rest, 'ENV', d) });
const parseLabel: LineParser = (rest, d) => ({ next: parseNameVal(rest, 'LABEL', d) });

/** ARG: whitespace-separated `name` or `name=value` words, quotes kept. */
const parseNameOrNameVal: LineParser = (rest, d) => ({ next: chain(parseWords(rest, d.escapeToken)) });

const parseStringsWhitespaceDelimited: LineParser = (rest) => ({
  next: rest === '' ? null : chain(goRegexpSplit(RE_WHITESPACE, rest, -1)),
});

const parseString: LineParser = (rest) => ({ next: rest === '' ? null : newNode(rest) });

const parseIgnore: LineParser = () => ({ next: newNode('') });

class NotJSON extends Error {}

/**
 * The end of the JSON value starting at `s[0]` (a '['), as Go's json.Decoder reads one value
 * and ignores what follows. -1 when the input ends first.
 */
function jsonValueEnd(s: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function parseJSON(rest: string): LineParse {
  const s = goTrimLeftSpace(rest);
  if (!s.startsWith('[')) throw new NotJSON();
  const end = jsonValueEnd(s);
  if (end < 0) throw new NotJSON();
  let value: unknown;
  try {
    value = JSON.parse(s.slice(0, end));
  } catch {
    throw new NotJSON();
  }
  if (!Array.isArray(value)) throw new NotJSON();
  const strings: string[] = [];
  for (const v of value as unknown[]) {
    if (typeof v !== 'string') throw new Error(ERR_NOT_STRING_ARRAY);
    // Go's decoder turns unpaired \uD800-style escapes into U+FFFD.
    strings.push(v.replace(LONE_SURROGATE, '\ufffd'));
  }
  return { next: chain(strings), json: true };
}

/** RUN, CMD, ENTRYPOINT, SHELL: a JSON string array, else the whole rest as one string. */
const parseMaybeJSON: LineParser = (rest) => {
  if (rest === '') return { next: null };
  try {
    return parseJSON(rest);
  } catch (err) {
    if (!(err instanceof NotJSON)) throw err;
  }
  return { next: newNode(rest) };
};

/** ADD, COPY, VOLUME: a JSON string array, else whitespace-separated words. */
const parseMaybeJSONToList: LineParser = (rest, d) => {
  try {
    return parseJSON(rest);
  } catch (err) {
    if (!(err instanceof NotJSON)) throw err;
  }
  return parseStringsWhitespaceDelimited(rest, d);
};

/** HEALTHCHECK: the type (CMD or NONE) then parseMaybeJSON of the rest. Byte-indexed, as buildkit. */
const parseHealthConfig: LineParser = (rest, d) => {
  const b = toByteString(rest);
  let sep = 0;
  while (sep < b.length && !isGoSpace(b.charCodeAt(sep))) sep++;
  let next = sep;
  while (next < b.length && isGoSpace(b.charCodeAt(next))) next++;
  if (sep === 0) return { next: null };
  const cmd = parseMaybeJSON(fromByteString(b.slice(next)), d);
  const out: LineParse = { next: newNode(fromByteString(b.slice(0, sep)), cmd.next) };
  if (cmd.json) out.json = true;
  return out;
};

/** ONBUILD: the rest is an instruction of its own. */
const parseSubCommand: LineParser = (rest, d) => {
  if (rest === '') return { next: null };
  const holder = newNode('');
  holder.children.push(newNodeFromLine(rest, d));
  return { next: holder };
};

const DISPATCH: Record<string, LineParser> = {
  add: parseMaybeJSONToList,
  arg: parseNameOrNameVal,
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: parseEnv,
  expose: parseStringsWhitespaceDelimited,
  from: parseStringsWhitespaceDelimited,
  healthcheck: parseHealthConfig,
  label: parseLabel,
  maintainer: parseString,
  onbuild: parseSubCommand,
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
};

/**
 * Takes the leading `--flag` words off the arguments. Stops at the first word not starting
 * with `--`; a lone `--` ends the flags and is dropped. Quotes and the escape token are
 * processed inside flags.
 */
function extractBuilderFlags(line: string, d: Directives): [string, string[]] {
  // compat: buildkit walks this part byte by byte (rune(line[pos])), so non-ASCII text in a
  // flag comes out as Latin-1 characters and bytes 0x85/0xA0 count as spaces. A byte string
  // reproduces that.
  const b = toByteString(line);
  const IN_SPACES = 0;
  const IN_WORD = 1;
  const IN_QUOTE = 2;
  const words: string[] = [];
  let phase = IN_SPACES;
  let word = '';
  let quote = '';
  let blankOK = false;
  let ch = '';
  for (let pos = 0; pos <= b.length; pos++) {
    if (pos !== b.length) ch = b[pos] ?? '';
    if (phase === IN_SPACES) {
      if (pos === b.length) break;
      if (isGoSpace(ch.charCodeAt(0))) continue;
      if (ch !== '-' || pos + 1 === b.length || b[pos + 1] !== '-') return [fromByteString(b.slice(pos)), words];
      phase = IN_WORD;
    }
    if ((phase === IN_WORD || phase === IN_QUOTE) && pos === b.length) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === IN_WORD) {
      if (isGoSpace(ch.charCodeAt(0))) {
        phase = IN_SPACES;
        if (word === '--') return [fromByteString(b.slice(pos)), words];
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = IN_QUOTE;
        continue;
      }
      if (ch === d.escapeToken) {
        if (pos + 1 === b.length) continue;
        pos++;
        ch = b[pos] ?? '';
      }
      word += ch;
      continue;
    }
    // IN_QUOTE
    if (ch === quote) {
      phase = IN_WORD;
      continue;
    }
    if (ch === d.escapeToken) {
      if (pos + 1 === b.length) {
        phase = IN_WORD;
        continue;
      }
      pos++;
      ch = b[pos] ?? '';
    }
    word += ch;
  }
  return ['', words];
}

function splitCommand(line: string, d: Directives): { cmd: string; flags: string[]; args: string } {
  const cmdline = goRegexpSplit(RE_WHITESPACE, goTrimSpace(line), 2);
  let args = '';
  let flags: string[] = [];
  if (cmdline.length === 2) [args, flags] = extractBuilderFlags(cmdline[1] ?? '', d);
  return { cmd: cmdline[0] ?? '', flags, args: goTrimSpace(args) };
}

function newNodeFromLine(line: string, d: Directives): Node {
  const { cmd, flags, args } = splitCommand(line, d);
  const value = cmd.toLowerCase();
  // Unknown instructions are not a parse error; instructions.ts rejects them.
  const fn = DISPATCH[value] ?? parseIgnore;
  const { next, json } = fn(args, d);
  const node = newNode(value, next);
  node.flags = flags;
  node.original = line;
  if (json) node.attributes = { json: true };
  return node;
}

function canContainHeredoc(node: Node): boolean {
  let n = node;
  const nested = n.next?.children[0];
  if (HEREDOC_COMPOUND_DIRECTIVES.has(n.value) && nested) n = nested;
  return HEREDOC_DIRECTIVES.has(n.value) && n.attributes?.json !== true;
}

/**
 * Reads a heredoc word (`<<EOF`, `<<-EOF`, `3<<"EOF"`). Returns undefined when `word` is not one;
 * throws when it looks like one but its delimiter does not lex (`<<'EOF`).
 */
export function parseHeredocWord(word: string): Heredoc | undefined {
  const m = RE_HEREDOC.exec(word);
  if (!m) return undefined;
  const rest = m[3] ?? '';
  if (rest === '') return undefined;
  const fd = m[1] === '' || m[1] === undefined ? 0 : Number(m[1]);
  // The delimiter is quoted (so the body is not expanded) if lexing with and without
  // raw quotes gives different quote counts.
  const words = new ShellLex('\\', { skipUnsetEnv: true }).processWords(rest, emptyEnv);
  const word0 = words[0];
  if (words.length !== 1 || word0 === undefined) return undefined;
  const raw = new ShellLex('\\', { skipUnsetEnv: true, rawQuotes: true }).processWords(rest, emptyEnv);
  if (raw.length !== words.length) throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const quotes = (s: string): number => s.split('').filter((c) => c === "'" || c === '"').length;
  return { name: word0, content: '', expand: quotes(word0) === quotes(raw[0] ?? ''), chomp: m[2] === '-', fileDescriptor: fd };
}

function heredocsFromLine(line: string): Heredoc[] {
  let words: string[];
  try {
    words = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).processWords(line, emptyEnv);
  } catch {
    words = []; // compat: buildkit ignores this error; the line simply has no heredocs
  }
  const docs: Heredoc[] = [];
  for (const w of words) {
    const h = parseHeredocWord(w);
    if (h) docs.push(h);
  }
  return docs;
}

/**
 * Parses a Dockerfile into buildkit's AST. Unknown instructions are kept (see instructions.ts).
 * Throws DockerfileParseError with buildkit's message ("file with no instructions",
 * "ENV must have two arguments", "unterminated heredoc", ...).
 */
export function parseDockerfile(text: string): ParseResult {
  const d = new Directives();
  const scanner = new LineScanner(text);
  const root = newNode('');
  root.startLine = -1;
  const warnings: string[] = [];
  let currentLine = 0;
  const fail = (err: unknown, line: number): DockerfileParseError =>
    err instanceof DockerfileParseError ? err : new DockerfileParseError(messageOf(err), line, { cause: err });

  for (let raw = scanner.scan(); raw !== undefined; raw = scanner.scan()) {
    // First line: strip the byte-order mark.
    const first = currentLine === 0 && raw.startsWith('\ufeff') ? raw.slice(1) : raw;
    let bytesRead: string;
    try {
      bytesRead = processLine(d, first, true);
    } catch (err) {
      throw fail(err, currentLine); // compat: buildkit reports the previous line here
    }
    currentLine++;
    const startLine = currentLine;
    let [line, isEndOfLine] = trimContinuationCharacter(bytesRead, d);
    if (isEndOfLine && line === '') continue;

    let hasEmptyContinuationLine = false;
    while (!isEndOfLine) {
      const cont = scanner.scan();
      if (cont === undefined) break;
      let processed: string;
      try {
        processed = processLine(d, cont, false);
      } catch (err) {
        throw fail(err, currentLine);
      }
      currentLine++;
      if (isComment(cont)) continue; // comments inside a continuation are dropped
      if (goTrimLeftSpace(trimNewline(processed)) === '') {
        hasEmptyContinuationLine = true;
        continue;
      }
      let piece: string;
      [piece, isEndOfLine] = trimContinuationCharacter(processed, d);
      line += piece;
    }

    if (hasEmptyContinuationLine) warnings.push(`Empty continuation line found in: ${line}`);

    let child: Node;
    try {
      child = newNodeFromLine(line, d);
    } catch (err) {
      throw fail(err, startLine);
    }

    if (canContainHeredoc(child) && line.includes('<<')) {
      let heredocs: Heredoc[];
      try {
        heredocs = heredocsFromLine(line);
      } catch (err) {
        throw fail(err, startLine);
      }
      for (const heredoc of heredocs) {
        let terminated = false;
        for (let body = scanner.scan(); body !== undefined; body = scanner.scan()) {
          currentLine++;
          let possibleTerminator = trimNewline(body);
          if (heredoc.chomp) possibleTerminator = trimLeadingTabs(possibleTerminator);
          if (possibleTerminator === heredoc.name) {
            terminated = true;
            break;
          }
          heredoc.content += body;
        }
        if (!terminated) throw new DockerfileParseError('unterminated heredoc', startLine);
        child.heredocs.push(heredoc);
      }
    }

    child.startLine = startLine;
    child.endLine = currentLine;
    for (const n of child.next?.children ?? []) {
      n.startLine = startLine;
      n.endLine = currentLine;
    }
    if (root.startLine < 0) root.startLine = startLine;
    root.endLine = currentLine;
    root.children.push(child);
  }

  if (root.startLine < 0) throw new DockerfileParseError('file with no instructions', currentLine);
  if (scanner.error !== undefined) throw new DockerfileParseError(scanner.error, currentLine);
  return { ast: root, escapeToken: d.escapeToken, directives: { ...d.values }, warnings };
}

/** buildkit's Node.Dump(): the s-expression form used by the conformance `result` files (without the final "\n"). */
export function dumpAst(root: Node): string {
  let s = root.value.toLowerCase();
  if (root.flags.length > 0) s += ` [${root.flags.map(goQuote).join(' ')}]`;
  for (const c of root.children) s += `(${dumpAst(c)})\n`;
  for (let n = root.next; n !== null; n = n.next) {
    s += ' ' + (n.children.length > 0 ? dumpAst(n) : goQuote(n.value));
  }
  return goTrimSpace(s);
}
