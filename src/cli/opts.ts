// Flag value parsers with the docker CLI's semantics and error wording (pflag, go-units, docker/cli opts).
import type { Command } from 'commander';
import type { Filters } from '../api/index.ts';
import { UsageError, invalidFlag } from './errors.ts';
import { parseGoDuration } from '../common/index.ts';

/** The pflag label of an option: `-n, --last <int>` → `-n, --last`. */
export function flagLabel(flags: string): string {
  return flags.replace(/\s*[<[].*$/, '').trim();
}

type Parser<T> = (value: string, previous: T) => T;

/** Adds a value option whose parse errors read like pflag's. */
export function valueOption<T>(cmd: Command, flags: string, description: string, parse: (value: string) => T, defaultValue?: T): Command {
  const label = flagLabel(flags);
  const p: Parser<T> = (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw invalidFlag(value, label, (err as Error).message);
    }
  };
  return defaultValue === undefined ? cmd.option(flags, description, p) : cmd.option(flags, description, p, defaultValue);
}

/** Adds a repeatable option collecting its values (optionally validated) into an array. */
export function listOption(cmd: Command, flags: string, description: string, validate?: (value: string) => string): Command {
  const label = flagLabel(flags);
  const p: Parser<string[]> = (value, previous) => {
    let v = value;
    if (validate) {
      try {
        v = validate(value);
      } catch (err) {
        throw invalidFlag(value, label, (err as Error).message);
      }
    }
    return [...previous, v];
  };
  return cmd.option(flags, description, p, [] as string[]);
}

/** strconv.ParseInt semantics. */
export function parseGoInt(value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  return Number(value);
}

/** strconv.ParseUint semantics. */
export function parseGoUint(value: string): number {
  if (!/^\+?\d+$/.test(value)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(value)}: invalid syntax`);
  return Number(value);
}

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units RAMInBytes: `64m` → 67108864; k/m/g/t/p are binary; optional `b`/`ib`. */
export function ramInBytes(value: string): number {
  let sep = -1;
  for (let i = value.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(value[i] ?? '')) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${value}'`);
  const num = value[sep] === ' ' ? value.slice(0, sep) : value.slice(0, sep + 1);
  let sfx = value.slice(sep + 1);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  let size = Number(num);
  if (size < 0) throw new Error(`invalid size: '${value}'`);
  if (!sfx) return Math.trunc(size);
  const bad = (): Error => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(size);
  }
  const mul = BINARY[sfx[0] ?? ''];
  if (mul === undefined) throw bad();
  size *= mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(size);
}

/** `--memory-swap`: `-1` means unlimited, else a RAMInBytes size. */
export function memSwapBytes(value: string): number {
  if (value === '-1') return -1;
  return ramInBytes(value);
}

/** `--cpus 1.5` → NanoCpus 1500000000 (docker's NanoCPUs option). */
export function nanoCpus(value: string): number {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(value);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new Error(`failed to parse ${value} as a rational number`);
  const frac = m[3] ?? '';
  if (frac.replace(/0+$/, '').length > 9) throw new Error('value is too precise');
  const nanos = Number(m[2] || '0') * 1e9 + Number((frac + '000000000').slice(0, 9));
  return m[1] === '-' ? -nanos : nanos;
}

export { parseGoDuration };

/**
 * docker/api timetypes.GetTimestamp: a Go duration means "that long before now", a date or
 * RFC 3339 time becomes `seconds.nanoseconds`, and a bare Unix timestamp passes through.
 */
export function getTimestamp(value: string, now: Date = new Date()): string {
  if (value !== '0') {
    try {
      const d = parseGoDuration(value);
      return String(Math.floor((now.getTime() - d / 1e6) / 1000));
    } catch {
      // not a duration
    }
  }
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  let text = value;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) text += 'T00:00:00';
  const hasZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(text.slice(10));
  const ms = Date.parse(hasZone ? text : text);
  if (Number.isNaN(ms)) throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  const frac = /\.(\d+)/.exec(text.slice(19))?.[1] ?? '';
  const nanos = (frac + '000000000').slice(0, 9);
  return `${Math.floor(ms / 1000)}.${nanos}`;
}

/** `--filter key=value`, repeated, → `{"key": ["value", …]}`. */
export function parseFilters(values: string[] | undefined): Filters {
  const filters: Filters = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i < 0) throw new UsageError(`bad format of filter (expected name=value)`);
    const key = v.slice(0, i).trim().toLowerCase();
    const val = v.slice(i + 1).trim();
    (filters[key] ??= []).push(val);
  }
  return filters;
}

/** Validates `--filter` values at parse time. */
export function filterValue(v: string): string {
  if (!v.includes('=')) throw new Error('bad format of filter (expected name=value)');
  return v;
}

/** `key=value` lists (labels, sysctls, log opts) into a map; a bare key maps to "". */
export function keyValueMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i < 0) out[v] = '';
    else out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}
