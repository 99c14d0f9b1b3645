// Per-verb formatter contexts: the fields docker's formatter package offers to `--format`
// templates (`{{.ID}}`, `{{.Ports}}`, `{{.Label "x"}}`), with its default table formats and headers.
import type { ContainerStats, ContainerSummary, HistoryResponseItem, ImageSummary, Network, Port, Volume } from '../api/index.ts';
import { bytesSize, ellipsis, humanSize, renderFormat, timeAgo, truncateId } from './format/index.ts';

/** A formatter context: string fields, `Label(name)`, and `{{json .}}` giving only the fields. */
export type View = Record<string, unknown>;

function view(fields: Record<string, string | null>, labels?: Record<string, string> | null): View {
  const v: View = { ...fields };
  v['Label'] = (name: unknown): string => labels?.[String(name)] ?? '';
  v['toJSON'] = () => fields;
  return v;
}

/** Renders `format` (or the verb's default when empty or `table`) over views. */
export function renderList(format: string | undefined, defaultTable: string, views: View[], headers: Record<string, string>): string {
  let f = format ?? '';
  if (f === '' || f === 'table') f = defaultTable;
  if (f === 'json') {
    // compat: docker marshals its formatter contexts with encoding/json: sorted keys, HTML escaped.
    return views.map((v) => `${goEscape(JSON.stringify(sortKeys((v['toJSON'] as () => object)())))}\n`).join('');
  }
  return renderFormat(f, views, headers);
}

/** `k=v,k=v`, sorted (Go's map order is random; sorting keeps output stable). */
function joinLabels(labels: Record<string, string> | null | undefined): string {
  return Object.entries(labels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Go's time.Time.String() for a local time: `2024-01-02 15:04:05 +0000 UTC` (`frac`: fractional-second digits, `.361`). */
export function goTimeString(d: Date, frac = ''): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  let zone = off === 0 ? 'UTC' : '';
  if (!zone) {
    zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '';
    if (/^GMT/.test(zone)) zone = `${sign}${p(Math.floor(abs / 60))}`;
  }
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${frac} ${sign}${p(Math.floor(abs / 60))}${p(abs % 60)} ${zone}`;
}

/** Go's time.RFC3339 in local time: `2024-01-02T15:04:05Z` or `…+02:00`. */
export function rfc3339(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${zone}`;
}

// ------------------------------------------------------------------------------------- ps

export const PS_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
export const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

/** docker's DisplayablePorts: groups consecutive ports, `0.0.0.0:8080->80/tcp`. */
export function displayablePorts(input: Port[]): string {
  const ports = [...input].sort((a, b) => {
    if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
    if ((a.IP ?? '') !== (b.IP ?? '')) return (a.IP ?? '') < (b.IP ?? '') ? -1 : 1;
    if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
    return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  const form = (key: string, first: number, last: number): string => {
    const slash = key.lastIndexOf('/');
    const ip = slash >= 0 ? key.slice(0, slash) : '';
    const type = slash >= 0 ? key.slice(slash + 1) : key;
    let g = String(first);
    if (first !== last) g = `${g}-${last}`;
    if (ip) g = `${ip}:${g}->${g}`;
    return `${g}/${type}`;
  };
  for (const port of ports) {
    const current = port.PrivatePort;
    let key: string = port.Type;
    if (port.IP) {
      if (port.PublicPort !== current) {
        const host = port.IP.includes(':') ? `[${port.IP}]` : port.IP;
        hostMappings.push(`${host}:${port.PublicPort ?? 0}->${port.PrivatePort}/${port.Type}`);
        continue;
      }
      key = `${port.IP}/${port.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(form(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const [key, g] of groups) result.push(form(key, g.first, g.last));
  result.push(...hostMappings);
  return result.join(', ');
}

export function containerView(c: ContainerSummary, opts: { trunc: boolean; now?: number }): View {
  const created = new Date((c.Created ?? 0) * 1000);
  let image = c.Image ?? '';
  if (opts.trunc && /^sha256:[0-9a-f]{64}$/.test(image)) image = truncateId(image);
  const names = (c.Names ?? [])
    .filter((n) => !opts.trunc || n.slice(1).split('/').length === 1)
    .map((n) => n.replace(/^\//, ''));
  const mounts = (c.Mounts ?? []).map((m) => {
    const name = m.Name || m.Source || '';
    return opts.trunc ? ellipsis(name, 15) : name;
  });
  const srw = humanSize(c.SizeRw ?? 0);
  const size = (c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${humanSize(c.SizeRootFs ?? 0)})` : srw;
  const cmd = opts.trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? '');
  return view(
    {
      ID: opts.trunc ? truncateId(c.Id ?? '') : (c.Id ?? ''),
      Image: image,
      Command: JSON.stringify(cmd),
      CreatedAt: goTimeString(created),
      RunningFor: timeAgo(created, opts.now),
      Ports: displayablePorts(c.Ports ?? []),
      State: c.State ?? '',
      Status: c.Status ?? '',
      Size: size,
      Names: names.join(','),
      Labels: joinLabels(c.Labels),
      Mounts: mounts.join(','),
      LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
      Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
      // compat: docker's ps context has no platform for Linux daemons; `{{json .}}` shows null.
      Platform: null,
    },
    c.Labels,
  );
}

// ------------------------------------------------------------------------------------- images

export const IMAGES_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
export const IMAGES_DIGEST_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
export const IMAGES_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
};

/** `docker.io/library/busybox` → `busybox` (reference.FamiliarName). */
export function familiarName(name: string): string {
  return name.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '').replace(/^index\.docker\.io\/library\//, '');
}

function splitRepoTag(ref: string): [string, string] | undefined {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon <= slash) return undefined;
  return [ref.slice(0, colon), ref.slice(colon + 1)];
}

/** One row per repository:tag (and digest with --digests), as docker's imageFormat expands them. */
export function imageViews(img: ImageSummary, opts: { trunc: boolean; digests: boolean; now?: number }): View[] {
  const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  const digestRefs = (img.RepoDigests ?? []).filter((d) => d !== '<none>@<none>');
  const rows: [string, string, string][] = [];
  if (!tags.length && !digestRefs.length) rows.push(['<none>', '<none>', '<none>']);
  else {
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const t of tags) {
      const rt = splitRepoTag(t);
      if (!rt) continue;
      const repo = familiarName(rt[0]);
      repoTags.set(repo, [...(repoTags.get(repo) ?? []), rt[1]]);
    }
    for (const d of digestRefs) {
      const at = d.indexOf('@');
      if (at < 0) continue;
      const repo = familiarName(d.slice(0, at));
      repoDigests.set(repo, [...(repoDigests.get(repo) ?? []), d.slice(at + 1)]);
    }
    for (const [repo, ts] of repoTags) {
      const digests = opts.digests ? (repoDigests.get(repo) ?? []) : [];
      repoDigests.delete(repo);
      for (const tag of ts) {
        if (!digests.length) rows.push([repo, tag, '<none>']);
        else for (const d of digests) rows.push([repo, tag, d]);
      }
    }
    for (const [repo, ds] of repoDigests) {
      if (opts.digests) for (const d of ds) rows.push([repo, '<none>', d]);
      else rows.push([repo, '<none>', '']);
    }
  }
  const created = new Date(img.Created * 1000);
  const na = (n: number | undefined): string => (n === undefined || n < 0 ? 'N/A' : humanSize(n));
  return rows.map(([repo, tag, digest]) =>
    view(
      {
        ID: opts.trunc ? truncateId(img.Id) : img.Id,
        Repository: repo,
        Tag: tag,
        Digest: digest,
        CreatedSince: img.Created ? timeAgo(created, opts.now) : 'N/A',
        CreatedAt: goTimeString(created),
        Size: humanSize(img.Size),
        Containers: img.Containers < 0 ? 'N/A' : String(img.Containers),
        VirtualSize: humanSize(img.VirtualSize ?? img.Size),
        SharedSize: na(img.SharedSize),
        UniqueSize: img.SharedSize < 0 ? 'N/A' : humanSize(img.Size - img.SharedSize),
      },
      img.Labels,
    ),
  );
}

// ------------------------------------------------------------------------------------- history

export const HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
export const HISTORY_RAW_TABLE = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
export const HISTORY_HEADERS: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

export function historyView(h: HistoryResponseItem, opts: { trunc: boolean; human: boolean; now?: number }): View {
  const created = new Date(h.Created * 1000);
  const createdAt = opts.human ? rfc3339(created) : rfc3339(created);
  const createdBy = h.CreatedBy.replaceAll('\t', ' ');
  return view({
    ID: opts.trunc && h.Id !== '<missing>' ? truncateId(h.Id) : h.Id,
    CreatedSince: opts.human ? timeAgo(created, opts.now) : createdAt,
    CreatedAt: createdAt,
    CreatedBy: opts.trunc ? ellipsis(createdBy, 45) : createdBy,
    Size: opts.human ? humanSize(h.Size) : String(h.Size),
    Comment: h.Comment,
  });
}

// ------------------------------------------------------------------------------------- volumes

export const VOLUME_TABLE = 'table {{.Driver}}\t{{.Name}}';
export const VOLUME_HEADERS: Record<string, string> = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Group: 'GROUP',
  Availability: 'AVAILABILITY',
  Status: 'STATUS',
};

export function volumeView(v: Volume): View {
  return view(
    {
      Name: v.Name,
      Driver: v.Driver,
      Scope: v.Scope,
      Mountpoint: v.Mountpoint,
      Labels: joinLabels(v.Labels),
      Links: v.UsageData && v.UsageData.RefCount >= 0 ? String(v.UsageData.RefCount) : 'N/A',
      Size: v.UsageData && v.UsageData.Size >= 0 ? humanSize(v.UsageData.Size) : 'N/A',
      Group: '',
      Availability: 'N/A',
      Status: 'N/A',
    },
    v.Labels,
  );
}

// ------------------------------------------------------------------------------------- networks

export const NETWORK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
export const NETWORK_HEADERS: Record<string, string> = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv4: 'IPV4',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
};

export function networkView(n: Network, noTrunc: boolean): View {
  return view(
    {
      ID: noTrunc ? n.Id ?? '' : truncateId(n.Id ?? ''),
      Name: n.Name ?? '',
      Driver: n.Driver ?? '',
      Scope: n.Scope ?? '',
      IPv4: String(!!n.EnableIPv4),
      IPv6: String(!!n.EnableIPv6),
      Internal: String(!!n.Internal),
      Labels: joinLabels(n.Labels),
      // compat: Go prints the fraction of a second it parsed, without trailing zeros
      CreatedAt: n.Created ? goTimeString(new Date(n.Created), (/\.(\d+)/.exec(n.Created)?.[1] ?? '').replace(/0+$/, '').replace(/^(?=\d)/, '.')) : '',
    },
    n.Labels,
  );
}

// ------------------------------------------------------------------------------------- stats

export const STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
export const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

export interface StatsEntry {
  container: string;
  name: string;
  id: string;
  cpuPercent: number;
  memory: number;
  memoryLimit: number;
  memoryPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
  /** Set when the container could not be read: the row shows `--`. */
  invalid?: boolean;
}

/** docker's stats arithmetic for Linux daemons (calculateCPUPercentUnix, memory minus cache…). */
export function statsEntry(container: string, s: ContainerStats): StatsEntry {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  let online = s.cpu_stats?.online_cpus ?? 0;
  if (!online) online = s.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0;
  const cpuPercent = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const mem = s.memory_stats ?? {};
  let usage = mem.usage ?? 0;
  const v1 = mem.stats?.['total_inactive_file'];
  const v2 = mem.stats?.['inactive_file'];
  if (v1 !== undefined && v1 < usage) usage -= v1;
  else if (v2 !== undefined && v2 < usage) usage -= v2;
  const limit = mem.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') read += e.value;
    else if (op === 'write') write += e.value;
  }
  return {
    container,
    name: (s.name ?? '').replace(/^\//, ''),
    id: s.id ?? '',
    cpuPercent,
    memory: usage,
    memoryLimit: limit,
    memoryPercent: limit ? (usage / limit) * 100 : 0,
    netRx: rx,
    netTx: tx,
    blockRead: read,
    blockWrite: write,
    pids: s.pids_stats?.current ?? 0,
  };
}

export function statsView(e: StatsEntry, opts: { trunc: boolean }): View {
  const dash = e.invalid;
  return view({
    Container: e.container,
    ID: e.id ? (opts.trunc ? truncateId(e.id) : e.id) : '--',
    Name: e.name || '--',
    CPUPerc: dash ? '--' : `${e.cpuPercent.toFixed(2)}%`,
    MemUsage: dash ? '-- / --' : `${bytesSize(e.memory)} / ${bytesSize(e.memoryLimit)}`,
    MemPerc: dash ? '--' : `${e.memoryPercent.toFixed(2)}%`,
    NetIO: dash ? '--' : `${humanSize(e.netRx)} / ${humanSize(e.netTx)}`,
    BlockIO: dash ? '--' : `${humanSize(e.blockRead)} / ${humanSize(e.blockWrite)}`,
    PIDs: dash ? '--' : String(e.pids),
  });
}

/** Docker's inspect output: a JSON array indented 4 spaces (docker 28 does not HTML-escape it). */
export function inspectJson(value: unknown): string {
  return JSON.stringify(value, null, 4);
}

function sortKeys(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Go's encoding/json escapes <, >, & and U+2028/9 inside strings. */
export function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
