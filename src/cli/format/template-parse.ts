// Lexer and parser for Go's text/template syntax, following text/template/parse so that the
// same input produces the same tree, and the same first error, as Go does.

export class TemplateParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateParseError';
  }
}

// ---------------------------------------------------------------------------------------------
// Lexer

type ItemType =
  | 'error'
  | 'eof'
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'dot'
  | 'bool'
  | 'number'
  | 'charConstant'
  | 'string'
  | 'rawString'
  | 'declare'
  | 'assign'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'char'
  | 'keyword';

interface Item {
  typ: ItemType;
  val: string;
  pos: number;
  line: number;
}

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'nil', 'template', 'with']);

function itemString(i: Item): string {
  if (i.typ === 'eof') return 'EOF';
  if (i.typ === 'error') return i.val;
  if (i.typ === 'keyword') return `<${i.val}>`;
  const runes = [...i.val];
  if (runes.length > 10) return `${quoteGo(runes.slice(0, 10).join(''))}...`;
  return quoteGo(i.val);
}

function quoteGo(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlphaNumeric = (c: string | undefined): boolean => c !== undefined && /^[\p{L}\p{Nd}_]$/u.test(c);

function formatU(c: string): string {
  const cp = c.codePointAt(0) as number;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}

function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let start = 0;
  let line = 1;
  let startLine = 1;
  let parenDepth = 0;

  const emit = (typ: ItemType, val = input.slice(start, pos)): void => {
    items.push({ typ, val, pos: start, line: startLine });
    start = pos;
    startLine = line;
  };
  const error = (msg: string): void => {
    items.push({ typ: 'error', val: msg, pos: start, line: startLine });
  };
  const advance = (to: number): void => {
    for (let i = pos; i < to; i++) if (input[i] === '\n') line++;
    pos = to;
  };
  /** Past the opening `quote`: consume up to and including the closing one (backslash escapes); false when unterminated. */
  const scanQuoted = (quote: string): boolean => {
    while (pos < input.length) {
      const c = input[pos];
      if (c === '\\') {
        advance(pos + 1);
        if (input[pos] === undefined || input[pos] === '\n') return false;
      } else if (c === '\n') return false;
      else if (c === quote) {
        advance(pos + 1);
        return true;
      }
      advance(pos + 1);
    }
    return false;
  };
  const ignore = (): void => {
    start = pos;
    startLine = line;
  };
  const peekRune = (): string | undefined => {
    const cp = input.codePointAt(pos);
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  };
  // A right delimiter, optionally preceded by the " -" trim marker.
  const atRightDelim = (p: number): { delim: boolean; trim: boolean } => {
    if (isSpace(input[p]) && input[p + 1] === '-' && input.startsWith('}}', p + 2)) return { delim: true, trim: true };
    return { delim: input.startsWith('}}', p), trim: false };
  };
  const atTerminator = (): boolean => {
    const c = input[pos];
    // Go checks only the first rune of the right delimiter, so `{{.Foo}` lexes `.Foo` then `}`.
    return c === undefined || isSpace(c) || '.,|:)(}'.includes(c);
  };
  const skipLeadingSpace = (): void => {
    let p = pos;
    while (isSpace(input[p])) p++;
    advance(p);
    ignore();
  };

  for (;;) {
    // Text until the next left delimiter.
    const x = input.indexOf('{{', pos);
    if (x < 0) {
      advance(input.length);
      if (pos > start) emit('text');
      items.push({ typ: 'eof', val: '', pos, line });
      return items;
    }
    const trimLeft = input[x + 2] === '-' && isSpace(input[x + 3]);
    let textEnd = x;
    if (trimLeft) while (textEnd > start && isSpace(input[textEnd - 1])) textEnd--;
    advance(textEnd);
    if (pos > start) emit('text');
    advance(x);
    ignore();

    // Left delimiter; maybe a comment.
    const afterMarker = trimLeft ? 2 : 0;
    if (input.startsWith('/*', x + 2 + afterMarker)) {
      advance(x + 2 + afterMarker);
      const end = input.indexOf('*/', pos + 2);
      if (end < 0) {
        error('unclosed comment');
        return items;
      }
      advance(end + 2);
      const { delim, trim } = atRightDelim(pos);
      if (!delim) {
        error('comment ends before closing delimiter');
        return items;
      }
      advance(pos + (trim ? 2 : 0) + 2);
      ignore();
      if (trim) skipLeadingSpace();
      continue;
    }
    advance(x + 2);
    emit('leftDelim');
    advance(pos + afterMarker);
    ignore();

    // Inside the action.
    for (;;) {
      const { delim, trim } = atRightDelim(pos);
      if (delim) {
        if (parenDepth !== 0) {
          error('unclosed left paren');
          return items;
        }
        if (trim) {
          advance(pos + 2);
          ignore();
        }
        advance(pos + 2);
        emit('rightDelim');
        if (trim) skipLeadingSpace();
        break;
      }
      const r = peekRune();
      if (r === undefined) {
        error('unclosed action');
        return items;
      }
      if (isSpace(r)) {
        let p = pos;
        while (isSpace(input[p])) {
          p++;
          // Stop before a space that starts a trim-marked right delimiter.
          if (input[p] === '-' && input.startsWith('}}', p + 1)) {
            p--;
            break;
          }
        }
        if (p > pos) {
          advance(p);
          emit('space');
        }
        continue;
      }
      advance(pos + r.length);
      if (r === '=') emit('assign');
      else if (r === ':') {
        if (input[pos] !== '=') {
          error('expected :=');
          return items;
        }
        advance(pos + 1);
        emit('declare');
      } else if (r === '|') emit('pipe');
      else if (r === '"') {
        if (!scanQuoted('"')) {
          error('unterminated quoted string');
          return items;
        }
        emit('string');
      } else if (r === '`') {
        const end = input.indexOf('`', pos);
        if (end < 0) {
          error('unterminated raw quoted string');
          return items;
        }
        advance(end + 1);
        emit('rawString');
      } else if (r === "'") {
        if (!scanQuoted("'")) {
          error('unterminated character constant');
          return items;
        }
        emit('charConstant');
      } else if (r === '$' || (r === '.' && !/[0-9]/.test(input[pos] ?? ''))) {
        // Field or variable.
        if (atTerminator()) {
          emit(r === '$' ? 'variable' : 'dot');
          continue;
        }
        while (isAlphaNumeric(peekRune())) advance(pos + (peekRune() as string).length);
        if (!atTerminator()) {
          error(`bad character ${formatU(peekRune() as string)}`);
          return items;
        }
        emit(r === '$' ? 'variable' : 'field');
      } else if (r === '+' || r === '-' || r === '.' || (r >= '0' && r <= '9')) {
        advance(pos - 1);
        if (!scanNumber()) {
          error(`bad number syntax: ${quoteGo(input.slice(start, pos))}`);
          return items;
        }
        emit('number');
      } else if (isAlphaNumeric(r)) {
        while (isAlphaNumeric(peekRune())) advance(pos + (peekRune() as string).length);
        if (!atTerminator()) {
          error(`bad character ${formatU(peekRune() as string)}`);
          return items;
        }
        const word = input.slice(start, pos);
        if (KEYWORDS.has(word)) emit('keyword');
        else if (word === 'true' || word === 'false') emit('bool');
        else emit('identifier');
      } else if (r === '(') {
        emit('leftParen');
        parenDepth++;
      } else if (r === ')') {
        emit('rightParen');
        parenDepth--;
        if (parenDepth < 0) {
          error('unexpected right paren');
          return items;
        }
      } else if (r.length === 1 && r >= ' ' && r <= '~') {
        emit('char');
      } else {
        error(`unrecognized character in action: ${formatU(r)}`);
        return items;
      }
    }
  }

  function scanNumber(): boolean {
    const accept = (set: string): boolean => {
      const c = input[pos];
      if (c !== undefined && set.includes(c)) {
        pos++;
        return true;
      }
      return false;
    };
    const acceptRun = (set: string): void => {
      while (accept(set));
    };
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    if (isAlphaNumeric(peekRune())) {
      pos += (peekRune() as string).length;
      return false;
    }
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Tree

export type Arg =
  | { type: 'field'; pos: number; ident: string[] }
  | { type: 'variable'; pos: number; ident: string[] }
  | { type: 'identifier'; pos: number; name: string }
  | { type: 'dot'; pos: number }
  | { type: 'nil'; pos: number }
  | { type: 'bool'; pos: number; value: boolean }
  | { type: 'number'; pos: number; value: number; text: string }
  | { type: 'string'; pos: number; value: string; quoted: string }
  | { type: 'pipe'; pos: number; pipe: Pipe }
  | { type: 'chain'; pos: number; node: Arg; field: string[] };

export interface Command {
  pos: number;
  args: Arg[];
}

export interface Pipe {
  pos: number;
  isAssign: boolean;
  decl: string[];
  cmds: Command[];
}

export interface ControlNode {
  type: 'if' | 'with' | 'range';
  pos: number;
  pipe: Pipe;
  list: Node[];
  elseList: Node[] | null;
}

export type Node =
  | { type: 'text'; pos: number; text: string }
  | { type: 'action'; pos: number; pipe: Pipe }
  | ControlNode
  | { type: 'break' | 'continue'; pos: number };

export function argString(a: Arg): string {
  switch (a.type) {
    case 'field':
      return `.${a.ident.join('.')}`;
    case 'variable':
      return a.ident.join('.');
    case 'identifier':
      return a.name;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(a.value);
    case 'number':
      return a.text;
    case 'string':
      return a.quoted;
    case 'pipe':
      return `(${pipeString(a.pipe)})`;
    case 'chain':
      return `${argString(a.node)}.${a.field.join('.')}`;
  }
}

export function commandString(c: Command): string {
  return c.args.map((a) => argString(a)).join(' ');
}

export function pipeString(p: Pipe): string {
  const decl = p.decl.length > 0 ? `${p.decl.join(', ')} ${p.isAssign ? '=' : ':='} ` : '';
  return decl + p.cmds.map(commandString).join(' | ');
}

// ---------------------------------------------------------------------------------------------
// Parser

/** Parses `text` into a list of nodes. `hasFunction` says which identifiers are functions. */
export function parse(text: string, name: string, hasFunction: (name: string) => boolean): Node[] {
  const items = lex(text);
  let index = 0;
  let vars: string[] = ['$'];
  let rangeDepth = 0;
  let actionLine = 0;

  const fail = (line: number, msg: string): never => {
    throw new TemplateParseError(`template: ${name}:${line}: ${msg}`);
  };
  const next = (): Item => items[Math.min(index++, items.length - 1)] as Item;
  const backup = (): void => {
    index--;
  };
  const peek = (): Item => items[Math.min(index, items.length - 1)] as Item;
  const nextNonSpace = (): Item => {
    let t = next();
    while (t.typ === 'space') t = next();
    return t;
  };
  const peekNonSpace = (): Item => {
    const t = nextNonSpace();
    backup();
    return t;
  };
  const errorf = (msg: string): never => fail(items[Math.max(0, Math.min(index - 1, items.length - 1))]?.line ?? 1, msg);
  const unexpected = (token: Item, context: string): never => {
    if (token.typ === 'error') {
      const extra = actionLine !== 0 && actionLine !== token.line ? ` in action started at ${name}:${actionLine}` : '';
      return fail(token.line, `${itemString(token)}${extra}`);
    }
    return fail(token.line, `unexpected ${itemString(token)} in ${context}`);
  };
  const expect = (typ: ItemType, context: string): Item => {
    const token = nextNonSpace();
    if (token.typ !== typ) unexpected(token, context);
    return token;
  };
  const isKeyword = (t: Item, word: string): boolean => t.typ === 'keyword' && t.val === word;

  const useVar = (pos: number, val: string): Arg => {
    const ident = val.split('.');
    if (!vars.includes(ident[0] as string)) errorf(`undefined variable ${quoteGo(ident[0] as string)}`);
    return { type: 'variable', pos, ident };
  };

  function term(): Arg | null {
    const token = nextNonSpace();
    switch (token.typ) {
      case 'identifier':
        if (!hasFunction(token.val)) errorf(`function ${quoteGo(token.val)} not defined`);
        return { type: 'identifier', pos: token.pos, name: token.val };
      case 'dot':
        return { type: 'dot', pos: token.pos };
      case 'keyword':
        if (token.val === 'nil') return { type: 'nil', pos: token.pos };
        break;
      case 'variable':
        return useVar(token.pos, token.val);
      case 'field':
        return { type: 'field', pos: token.pos, ident: token.val.slice(1).split('.') };
      case 'bool':
        return { type: 'bool', pos: token.pos, value: token.val === 'true' };
      case 'charConstant':
      case 'number':
        return { type: 'number', pos: token.pos, value: parseNumber(token), text: token.val };
      case 'leftParen':
        return { type: 'pipe', pos: token.pos, pipe: pipeline('parenthesized pipeline', 'rightParen') };
      case 'string':
      case 'rawString':
        return { type: 'string', pos: token.pos, value: unquote(token), quoted: token.val };
      default:
        break;
    }
    backup();
    return null;
  }

  function parseNumber(token: Item): number {
    if (token.typ === 'charConstant') {
      const s = unquoteChars(token.val.slice(1, -1), "'", token.line);
      if ([...s].length !== 1) errorf(`malformed character constant: ${token.val}`);
      return s.codePointAt(0) as number;
    }
    let t = token.val.replace(/_/g, '');
    if (t.endsWith('i')) return errorf(`complex numbers are not supported: ${token.val}`);
    let sign = 1;
    if (t[0] === '+' || t[0] === '-') {
      if (t[0] === '-') sign = -1;
      t = t.slice(1);
    }
    let v: number;
    if (/^0[xX][0-9a-fA-F]+$/.test(t)) v = parseInt(t.slice(2), 16);
    else if (/^0[oO][0-7]+$/.test(t)) v = parseInt(t.slice(2), 8);
    else if (/^0[bB][01]+$/.test(t)) v = parseInt(t.slice(2), 2);
    else if (/^0[0-7]+$/.test(t)) v = parseInt(t.slice(1), 8);
    else if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) v = Number(t);
    else return errorf(`illegal number syntax: ${quoteGo(token.val)}`);
    return sign * v;
  }

  function unquote(token: Item): string {
    if (token.typ === 'rawString') return token.val.slice(1, -1).replace(/\r/g, '');
    return unquoteChars(token.val.slice(1, -1), '"', token.line);
  }

  function unquoteChars(body: string, quote: string, line: number): string {
    const bytes: number[] = [];
    const pushString = (s: string): void => {
      bytes.push(...Buffer.from(s, 'utf8'));
    };
    for (let i = 0; i < body.length; ) {
      const c = body[i] as string;
      if (c !== '\\') {
        const cp = body.codePointAt(i) as number;
        const ch = String.fromCodePoint(cp);
        if (ch === quote) fail(line, 'invalid syntax');
        pushString(ch);
        i += ch.length;
        continue;
      }
      const e = body[i + 1];
      i += 2;
      const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
      if (e !== undefined && simple[e] !== undefined) pushString(simple[e]);
      else if (e === quote) pushString(e);
      else if (e === 'x') {
        const h = body.slice(i, i + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) fail(line, 'invalid syntax');
        bytes.push(parseInt(h, 16));
        i += 2;
      } else if (e === 'u' || e === 'U') {
        const len = e === 'u' ? 4 : 8;
        const h = body.slice(i, i + len);
        const cp = parseInt(h, 16);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          fail(line, 'invalid syntax');
        }
        pushString(String.fromCodePoint(cp));
        i += len;
      } else if (e !== undefined && e >= '0' && e <= '7') {
        const o = body.slice(i - 1, i + 2);
        if (!/^[0-7]{3}$/.test(o) || parseInt(o, 8) > 255) fail(line, 'invalid syntax');
        bytes.push(parseInt(o, 8));
        i += 2;
      } else {
        fail(line, 'invalid syntax');
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }

  function operand(): Arg | null {
    const node = term();
    if (node === null) return null;
    if (peek().typ !== 'field') return node;
    const field: string[] = [];
    while (peek().typ === 'field') field.push(...next().val.slice(1).split('.'));
    switch (node.type) {
      case 'field':
        return { type: 'field', pos: node.pos, ident: [...node.ident, ...field] };
      case 'variable':
        return { type: 'variable', pos: node.pos, ident: [...node.ident, ...field] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return errorf(`unexpected . after term ${quoteGo(argString(node))}`);
      default:
        return { type: 'chain', pos: node.pos, node, field };
    }
  }

  function command(): Command {
    const cmd: Command = { pos: peekNonSpace().pos, args: [] };
    for (;;) {
      peekNonSpace();
      const op = operand();
      if (op !== null) cmd.args.push(op);
      const token = next();
      if (token.typ === 'space') continue;
      if (token.typ === 'rightDelim' || token.typ === 'rightParen') backup();
      else if (token.typ !== 'pipe') unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) errorf('empty command');
    return cmd;
  }

  function pipeline(context: string, end: ItemType): Pipe {
    const token0 = peekNonSpace();
    const pipe: Pipe = { pos: token0.pos, isAssign: false, decl: [], cmds: [] };
    decls: for (;;) {
      const v = peekNonSpace();
      if (v.typ !== 'variable') break;
      nextNonSpace();
      const nxt = peekNonSpace();
      if (nxt.typ === 'assign' || nxt.typ === 'declare') {
        pipe.isAssign = nxt.typ === 'assign';
        nextNonSpace();
        pipe.decl.push(v.val);
        vars.push(v.val);
        break;
      }
      if (nxt.typ === 'char' && nxt.val === ',') {
        nextNonSpace();
        pipe.decl.push(v.val);
        vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = peekNonSpace();
          if (p.typ === 'variable' || p.typ === 'rightDelim' || p.typ === 'rightParen') continue decls;
          errorf('range can only initialize variables');
        }
        errorf(`too many declarations in ${context}`);
      }
      // Not a declaration: put the variable (and any space after it) back.
      index = items.indexOf(v);
      break;
    }
    for (;;) {
      const token = nextNonSpace();
      if (token.typ === end) {
        checkPipeline(pipe, context);
        return pipe;
      }
      switch (token.typ) {
        case 'bool':
        case 'charConstant':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          backup();
          pipe.cmds.push(command());
          break;
        case 'keyword':
          if (token.val === 'nil') {
            backup();
            pipe.cmds.push(command());
            break;
          }
          unexpected(token, context);
          break;
        default:
          unexpected(token, context);
      }
    }
  }

  function checkPipeline(pipe: Pipe, context: string): void {
    if (pipe.cmds.length === 0) errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = c.args[0]?.type;
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  type Ctl = { type: 'end' } | { type: 'else'; pos: number; line: number };
  type Parsed = Node | Ctl;

  function itemList(): { list: Node[]; next: Ctl } {
    const list: Node[] = [];
    while (peekNonSpace().typ !== 'eof') {
      const n = textOrAction();
      if (n.type === 'end' || n.type === 'else') return { list, next: n };
      list.push(n);
    }
    return errorf('unexpected EOF');
  }

  function parseControl(allowElse: 'if' | 'with' | null, context: 'if' | 'with' | 'range', pos: number): Node {
    const mark = vars.length;
    try {
      const pipe = pipeline(context, 'rightDelim');
      if (context === 'range') rangeDepth++;
      const body = itemList();
      if (context === 'range') rangeDepth--;
      let elseList: Node[] | null = null;
      if (body.next.type === 'else') {
        const p = peekNonSpace();
        // {{else if …}} and {{else with …}} nest a control inside the else branch; one {{end}} closes both.
        if (allowElse !== null && isKeyword(p, allowElse)) {
          next();
          elseList = [parseControl(allowElse, allowElse, p.pos)];
        } else {
          const rest = itemList();
          if (rest.next.type !== 'end') errorf('expected end; found {{else}}');
          elseList = rest.list;
        }
      }
      return { type: context, pos, pipe, list: body.list, elseList };
    } finally {
      vars = vars.slice(0, mark);
    }
  }

  function action(): Parsed {
    const token = nextNonSpace();
    if (token.typ === 'keyword') {
      switch (token.val) {
        case 'else': {
          const p = peekNonSpace();
          if (isKeyword(p, 'if') || isKeyword(p, 'with')) return { type: 'else', pos: p.pos, line: p.line };
          const t = expect('rightDelim', 'else');
          return { type: 'else', pos: t.pos, line: t.line };
        }
        case 'end':
          expect('rightDelim', 'end');
          return { type: 'end' };
        case 'if':
          return parseControl('if', 'if', token.pos);
        case 'with':
          return parseControl('with', 'with', token.pos);
        case 'range':
          return parseControl(null, 'range', token.pos);
        case 'break':
        case 'continue':
          if (rangeDepth === 0) errorf(`{{${token.val}}} outside {{range}}`);
          expect('rightDelim', token.val);
          return { type: token.val, pos: token.pos };
        case 'block':
        case 'define':
        case 'template':
          return errorf(`{{${token.val}}} is not supported`);
        default:
          break;
      }
    }
    backup();
    const pos = peek().pos;
    actionLine = peek().line;
    return { type: 'action', pos, pipe: pipeline('command', 'rightDelim') };
  }

  function textOrAction(): Parsed {
    const token = nextNonSpace();
    switch (token.typ) {
      case 'text':
        return { type: 'text', pos: token.pos, text: token.val };
      case 'leftDelim': {
        actionLine = token.line;
        try {
          return action();
        } finally {
          actionLine = 0;
        }
      }
      default:
        return unexpected(token, 'input');
    }
  }

  const root: Node[] = [];
  while (peek().typ !== 'eof') {
    const n = textOrAction();
    if (n.type === 'end') errorf('unexpected {{end}}');
    if (n.type === 'else') errorf('unexpected {{else}}');
    root.push(n as Node);
  }
  return root;
}
