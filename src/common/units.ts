// Docker's go-units helpers shared by the daemon (ps Status words) and the CLI.

/** go-units HumanDuration, for a duration in milliseconds ("Less than a second", "About an hour", "3 weeks"). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** Go's time.ParseDuration, in nanoseconds; throws Go's message. */
export function parseGoDuration(value: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let s = value;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (!s) throw new Error(`time: invalid duration ${JSON.stringify(value)}`);
  let total = 0;
  while (s) {
    const m = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/.exec(s);
    if (!m) throw new Error(`time: ${/^(\d+\.?\d*|\.\d+)/.test(s) ? 'missing unit in' : 'invalid'} duration ${JSON.stringify(value)}`);
    total += Number(m[1]) * (units[m[2] ?? ''] ?? 0);
    s = s.slice(m[0].length);
  }
  return sign * Math.round(total);
}
