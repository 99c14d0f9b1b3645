import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sprintf } from './go-fmt.ts';
import { formatFloat, goQuote } from './go-value.ts';

describe('formatFloat (Go strconv.FormatFloat)', () => {
  it('shortest %g switches to an exponent at 1e+06 and below 1e-04', () => {
    assert.equal(formatFloat(1e6, 'g', -1), '1e+06');
    assert.equal(formatFloat(999999.5, 'g', -1), '999999.5');
    assert.equal(formatFloat(0.0001, 'g', -1), '0.0001');
    assert.equal(formatFloat(0.00001, 'g', -1), '1e-05');
    assert.equal(formatFloat(0, 'g', -1), '0');
  });

  it('fixed precision rounds the exact binary value, ties to even', () => {
    assert.equal(formatFloat(2.5, 'f', 0), '2');
    assert.equal(formatFloat(3.5, 'f', 0), '4');
    assert.equal(formatFloat(1.005, 'f', 2), '1.00'); // 1.00499999999999989…
    assert.equal(formatFloat(0, 'e', 6), '0.000000e+00');
    assert.equal(formatFloat(-123456.789, 'e', 3), '-1.235e+05');
    assert.equal(formatFloat(100, 'g', 3), '100');
    assert.equal(formatFloat(Infinity, 'g', -1), '+Inf');
  });
});

describe('goQuote (Go strconv.Quote) and sprintf', () => {
  it('escapes like Go', () => {
    assert.equal(goQuote('a\tb"\\\x00\x7fé\u00a0😀'), '"a\\tb\\"\\\\\\x00\\x7fé\\u00a0😀"');
  });

  it('sprintf flags and verbs', () => {
    assert.equal(sprintf('%+d % d %#x %#o %b %c %U %8.3f|%-8.2e|%G', [5, 5, 255, 8, 5, 65, 0x1f600, Math.PI, 12345.678, 1e21]), '+5  5 0xff 010 101 A U+1F600    3.142|1.23e+04|1E+21');
    assert.equal(sprintf('%*d|%.*f|%', [5, 42, 1, 2.25]), '   42|2.2|%!(NOVERB)');
    assert.equal(sprintf('%z %v %s', [1, null, null]), '%!z(int=1) <nil> %!s(<nil>)');
  });
});
