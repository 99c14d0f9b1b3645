// docker/go-units sizes and durations, and the small display helpers of docker's formatter
// package (TruncateID, Ellipsis) and of the daemon's container State.String().
import { humanDuration } from '../../common/index.ts';
import { formatFloat } from './go-value.ts';
import { isWide } from './width.ts';

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function sizeAndUnit(size: number, base: number, units: readonly string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i] as string];
}

/**
 * go-units HumanSizeWithPrecision: decimal units and `%.<precision>g`, e.g. "1.57MB", "4.26kB",
 * "0B". docker images, ps and history use precision 3 (the default here); go-units' HumanSize
 * (docker system df) uses 4. Like Go, 999_950 bytes at precision 3 prints "1e+03kB".
 */
export function humanSize(size: number, precision = 3): string {
  const [n, unit] = sizeAndUnit(size, 1000, DECIMAL);
  return formatFloat(n, 'g', precision) + unit;
}

/** go-units BytesSize: binary units and `%.4g`, as docker stats shows memory ("1.953MiB / 23.41GiB"). */
export function bytesSize(size: number): string {
  const [n, unit] = sizeAndUnit(size, 1024, BINARY);
  return formatFloat(n, 'g', 4) + unit;
}


/** A time as a Date, or undefined for Go's zero time ("0001-01-01T00:00:00Z"), empty or invalid input. */
function toDate(t: Date | string | number | null | undefined): Date | undefined {
  if (t === null || t === undefined || t === '') return undefined;
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() <= 1) return undefined;
  return d;
}

/** docker's CREATED column: "5 minutes ago". */
export function timeAgo(t: Date | string | number, now: number = Date.now()): string {
  const d = toDate(t);
  return `${humanDuration(now - (d?.getTime() ?? 0))} ago`;
}

/** The parts of an Engine API container `State` (inspect, wire casing) the status line needs. */
export interface ContainerStateInfo {
  Status?: string; // "created", "running", "paused", "restarting", "removing", "exited", "dead"
  Running?: boolean;
  Paused?: boolean;
  Restarting?: boolean;
  Dead?: boolean;
  ExitCode?: number;
  StartedAt?: string | Date | null;
  FinishedAt?: string | Date | null;
  Health?: { Status?: string } | null;
}

/**
 * The human status docker ps shows (the daemon's State.String()): "Up 5 minutes",
 * "Up 5 minutes (Paused)", "Up 2 hours (healthy)", "Up 3 seconds (health: starting)",
 * "Restarting (1) 2 seconds ago", "Exited (0) 3 seconds ago", "Created", "Removal In Progress",
 * "Dead"; "" for a container that started but has no finish time.
 */
export function containerStatus(state: ContainerStateInfo, now: number = Date.now()): string {
  const started = toDate(state.StartedAt);
  const finished = toDate(state.FinishedAt);
  const since = (d: Date | undefined): string => humanDuration(now - (d?.getTime() ?? 0));
  const running = state.Running ?? (state.Status === 'running' || state.Status === 'paused' || state.Status === 'restarting');
  if (running) {
    if (state.Paused ?? state.Status === 'paused') return `Up ${since(started)} (Paused)`;
    if (state.Restarting ?? state.Status === 'restarting') return `Restarting (${state.ExitCode ?? 0}) ${since(finished)} ago`;
    const health = state.Health?.Status;
    if (health && health !== 'none') {
      return `Up ${since(started)} (${health === 'starting' ? 'health: starting' : health})`;
    }
    return `Up ${since(started)}`;
  }
  if (state.Status === 'removing') return 'Removal In Progress';
  if (state.Dead || state.Status === 'dead') return 'Dead';
  if (!started) return 'Created';
  if (!finished) return '';
  return `Exited (${state.ExitCode ?? 0}) ${since(finished)} ago`;
}

/** docker's TruncateID: drops an algorithm prefix ("sha256:") and keeps 12 characters. */
export function truncateId(id: string): string {
  const i = id.indexOf(':');
  const hex = i >= 0 ? id.slice(i + 1) : id;
  return hex.length > 12 ? hex.slice(0, 12) : hex;
}

/**
 * docker's Ellipsis: truncates to `maxWidth` display columns (wide characters count 2), ending
 * with "…". docker ps truncates COMMAND with width 20 before quoting it.
 */
export function ellipsis(s: string, maxWidth: number): string {
  if (maxWidth <= 0) return '';
  const rs = [...s];
  if (maxWidth === 1) return rs[0] ?? '';
  if (/^[\x00-\x7f]*$/.test(s)) {
    return rs.length <= maxWidth ? s : `${rs.slice(0, maxWidth - 1).join('')}…`;
  }
  const display: number[] = [];
  let width = 0;
  for (const r of rs) {
    width += isWide(r.codePointAt(0) as number) ? 2 : 1;
    display.push(width);
  }
  if (width <= maxWidth) return s;
  for (let i = 0; i < display.length - 1; i++) {
    if ((display[i] as number) <= maxWidth - 1 && (display[i + 1] as number) > maxWidth - 1) {
      return `${rs.slice(0, i + 1).join('')}…`;
    }
  }
  return s;
}

export { humanDuration };
