import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderFormat, tabwrite } from './table.ts';
import { TemplateError } from './template.ts';

describe('tabwrite (Go text/tabwriter, minwidth 10, padding 3, spaces)', () => {
  it('pads each column to max(widest cell + 3, 10) and leaves the last cell unpadded', () => {
    const out = tabwrite([
      ['CONTAINER ID', 'IMAGE', 'NAMES'],
      ['abc', 'alpine:latest', 'x'],
    ]);
    assert.equal(out, 'CONTAINER ID   IMAGE           NAMES\nabc            alpine:latest   x\n');
  });

  it("matches docker ps's empty table header", () => {
    const out = tabwrite('CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n');
    assert.equal(out, 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
  });

  it('pads empty cells and keeps an empty trailing cell', () => {
    assert.equal(tabwrite('\tx\n'), '          x\n');
    assert.equal(tabwrite('a\t\nbb\t\n'), 'a         \nbb        \n');
  });

  it('a column is a block of consecutive lines that have it', () => {
    // The middle line has no tab, so it ends the block: the last line is aligned on its own.
    const out = tabwrite('aaaaaaaaaaaa\tb\nno tabs here\nc\td\n');
    assert.equal(out, 'aaaaaaaaaaaa   b\nno tabs here\nc         d\n');
    // A line with fewer cells ends only the columns it lacks.
    assert.equal(tabwrite('a\tb\tc\nd\te\nf\tg\th\n'), 'a         b         c\nd         e\nf         g         h\n');
  });

  it('handles input without a final newline, and text after the last tab', () => {
    assert.equal(tabwrite('a\tb'), 'a         b');
    assert.equal(tabwrite('a\t'), 'a');
    assert.equal(tabwrite(''), '');
  });

  it('counts wide characters as two columns', () => {
    assert.equal(tabwrite('名前名前名前\tx\nab\ty\n'), '名前名前名前   x\nab             y\n');
  });

  it('supports other widths and right alignment', () => {
    assert.equal(tabwrite('a\tb\nccc\td\n', { minwidth: 0, padding: 1 }), 'a   b\nccc d\n');
    assert.equal(tabwrite('a\tb\nccc\td\n', { minwidth: 0, padding: 1, alignRight: true }), '   ab\n cccd\n');
  });
});

describe('renderFormat (docker formatter.Context)', () => {
  const rows = [
    { ID: '0123456789ab', Names: 'web', Image: 'nginx', Label: (k: string) => (k === 'tier' ? 'front' : '') },
    { ID: 'ba9876543210', Names: 'database-primary', Image: 'postgres:16', Label: () => '' },
  ];
  const headers = { ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE' };

  it('prints a header row from the column titles, then aligned rows', () => {
    assert.equal(
      renderFormat('table {{.ID}}\\t{{.Names}}', rows, headers),
      'CONTAINER ID   NAMES\n0123456789ab   web\nba9876543210   database-primary\n',
    );
  });

  it('accepts real tabs too, and prints the header for an empty list', () => {
    assert.equal(renderFormat('table {{.ID}}\t{{.Image}}', [], headers), 'CONTAINER ID   IMAGE\n');
  });

  it('keeps column titles intact through text functions, uppercases .Label names', () => {
    assert.equal(
      renderFormat('table {{.Names | upper}}\\t{{.Label "tier"}}\\t{{truncate .Image 3}}', rows, headers),
      'NAMES              TIER      IMAGE\nWEB                front     ngi\nDATABASE-PRIMARY             pos\n',
    );
  });

  it('renders one line per item without the table prefix, with no header', () => {
    assert.equal(renderFormat('{{.Names}}: {{.Image}}', rows, headers), 'web: nginx\ndatabase-primary: postgres:16\n');
    assert.equal(renderFormat('{{.ID}}\\n', rows.slice(0, 1), headers), '0123456789ab\n\n');
    assert.equal(renderFormat('  {{.ID}}  ', rows.slice(0, 1), headers), '0123456789ab\n');
  });

  it('json prints one object per line with sorted keys', () => {
    const out = renderFormat('json', [{ Names: 'web', ID: 'abc', Ports: '80/tcp', Labels: 'a=<b>' }], headers);
    assert.equal(out, '{"ID":"abc","Labels":"a=<b>","Names":"web","Ports":"80/tcp"}\n');
    assert.equal(renderFormat('{{json .}}', [{ b: 1, a: 2 }]), '{"a":2,"b":1}\n');
  });

  it("prefixes errors with docker's 'template parsing error: '", () => {
    assert.throws(
      () => renderFormat('table {{.ID}', rows, headers),
      (err: unknown) =>
        err instanceof TemplateError && err.message === 'template parsing error: template: :1: unexpected "}" in operand',
    );
    assert.throws(() => renderFormat('{{.Names.X}}', rows, headers), /^TemplateError: template parsing error: template: :1:2: executing "" at <.Names.X>: can't evaluate field X in type string$/);
  });
});
