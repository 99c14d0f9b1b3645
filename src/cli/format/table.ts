// docker's list formatting: `--format` strings with the `table` prefix (a header row, then one
// row per item, aligned by a tabwriter) or without it (one rendered line per item), and `json`.
import { goMap, type ObjectMode } from './go-value.ts';
import { HEADER_FUNCS, parseTemplate, render, TemplateError } from './template.ts';
import { displayWidth } from './width.ts';

export interface TabwriterOptions {
  /** Minimal cell width, padding included. docker: 10. */
  minwidth?: number;
  /** Spaces added after the widest cell of a column. docker: 3. */
  padding?: number;
  /** Right-align cell text (Go's tabwriter.AlignRight). */
  alignRight?: boolean;
}

interface Cell {
  text: string;
  width: number;
  htab: boolean; // terminated by '\t' (not '\v')
}

/**
 * Go's text/tabwriter with docker's settings (`NewWriter(out, 10, 1, 3, ' ', 0)`) by default:
 * cells end at '\t'; a column is a run of consecutive lines that have a cell in it; each cell of a
 * column is padded with spaces to max(widest cell + padding, minwidth); the last cell of a line
 * is not part of a column and is never padded. Rows are joined with '\t' and each ended by '\n'.
 */
export function tabwrite(input: string | readonly (readonly string[])[], opts: TabwriterOptions = {}): string {
  const text = typeof input === 'string' ? input : input.map((row) => `${row.join('\t')}\n`).join('');
  // A formfeed ends every column, like a flush; it is written as a newline.
  return text
    .split('\f')
    .map((section) => formatSection(section, opts))
    .join('\n');
}

function formatSection(text: string, opts: TabwriterOptions): string {
  const minwidth = opts.minwidth ?? 10;
  const padding = opts.padding ?? 3;
  const lines: Cell[][] = text.split('\n').map((line) => {
    const cells: Cell[] = [];
    let start = 0;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (c === '\t' || c === '\v') {
        const t = line.slice(start, i);
        cells.push({ text: t, width: displayWidth(t), htab: c === '\t' });
        start = i + 1;
      }
    }
    // The text before '\n' is a cell even when empty.
    const rest = line.slice(start);
    cells.push({ text: rest, width: displayWidth(rest), htab: false });
    return cells;
  });
  // At the end of the input Go adds the unterminated cell only when it is not empty.
  const last = lines[lines.length - 1];
  if (last && last[last.length - 1]?.text === '') last.pop();

  const widths: number[] = [];
  let out = '';
  const pad = (n: number): string => (n > 0 ? ' '.repeat(n) : '');

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i] as Cell[];
      line.forEach((c, j) => {
        const w = widths[j];
        if (c.text === '') {
          if (w !== undefined) out += pad(w - c.width);
        } else if (opts.alignRight) {
          if (w !== undefined) out += pad(w - c.width);
          out += c.text;
        } else {
          out += c.text;
          if (w !== undefined) out += pad(w - c.width);
        }
      });
      if (i + 1 < lines.length) out += '\n';
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= (lines[t] as Cell[]).length - 1) continue;
      // This line has a cell in this column: a column block starts here.
      writeLines(line0, t);
      line0 = t;
      let width = minwidth;
      for (; t < line1; t++) {
        const line = lines[t] as Cell[];
        if (column >= line.length - 1) break;
        const c = line[column] as Cell;
        width = Math.max(width, c.width + padding);
      }
      widths.push(width);
      format(line0, t);
      widths.pop();
      line0 = t;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out;
}

export interface RenderFormatOptions {
  /** How plain objects nested in items behave in the template, see `goMap`. */
  objects?: ObjectMode;
}

/**
 * Renders a list the way docker's formatter.Context does. `format` is:
 * - `json`: each item as one JSON object per line (`{{json .}}`), keys sorted as docker's are;
 * - `table …`: a header row then a row per item, aligned with `tabwrite`; the header comes from
 *   rendering the template against `headers` (field name → column title, e.g. `ID` →
 *   `CONTAINER ID`), with `.Label "x"` giving `X` and the text functions returning their input;
 * - anything else: the template rendered once per item, each followed by a newline.
 * The literal sequences `\t` and `\n` in `format` become a tab and a newline. The bare `table`
 * and empty formats mean the verb's default table format, which the caller substitutes first.
 * Items that are plain objects act as maps, as docker's contexts do in `{{json .}}`.
 * Throws TemplateError, message prefixed with docker's `template parsing error: `, when the
 * template does not parse or fails to execute.
 */
export function renderFormat(
  format: string,
  items: readonly unknown[],
  headers: Readonly<Record<string, string>> = {},
  opts: RenderFormatOptions = {},
): string {
  const isTable = format.startsWith('table');
  let src = isTable ? format.slice('table'.length) : format === 'json' ? '{{json .}}' : format;
  src = src.replace(/^ +| +$/g, '').replace(/\\t|\\n/g, (m) => (m === '\\t' ? '\t' : '\n'));
  try {
    const tpl = parseTemplate(src);
    const renderOpts = { objects: opts.objects };
    let rows = '';
    for (const item of items) rows += `${render(tpl, asContext(item), renderOpts)}\n`;
    if (!isTable) return rows;
    const headerContext = goMap({
      Label: (name: unknown) => String(name).toUpperCase(),
      ...headers,
    });
    const header = render(tpl, headerContext, { ...renderOpts, funcs: HEADER_FUNCS });
    return tabwrite(`${header}\n${rows}`);
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`template parsing error: ${err.message}`);
    throw err;
  }
}

function asContext(item: unknown): unknown {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
  const proto = Object.getPrototypeOf(item) as object | null;
  if (proto !== Object.prototype && proto !== null) return item;
  return goMap({ ...item });
}
