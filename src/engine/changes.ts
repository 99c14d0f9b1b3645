import { invalid } from '../common/index.ts';
import type { ImageRunConfig } from '../oci/index.ts';
import { parseHealthcheckInstruction } from './health.ts';

/**
 * Apply `--change` instructions (`CMD ["sh"]`, `ENV A=b`, `EXPOSE 80`, …) of `docker commit` and
 * `docker import` to an image config. Only the instructions Docker allows there are accepted.
 */
export function applyChanges(base: ImageRunConfig, changes: string[]): ImageRunConfig {
  const c: ImageRunConfig = { ...base };
  for (const raw of changes) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(\S+)\s*(.*)$/s.exec(line);
    const instr = (m?.[1] ?? '').toUpperCase();
    const rest = (m?.[2] ?? '').trim();
    switch (instr) {
      case 'CMD':
        c.Cmd = cmdForm(rest);
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = cmdForm(rest);
        break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of keyValues(rest, 'ENV')) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(keyValues(rest, 'LABEL')) };
        break;
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of rest.split(/\s+/).filter(Boolean)) ports[p.includes('/') ? p : `${p}/tcp`] = {};
        c.ExposedPorts = ports;
        break;
      }
      case 'USER':
        c.User = rest;
        break;
      case 'WORKDIR':
        c.WorkingDir = rest;
        break;
      case 'STOPSIGNAL':
        c.StopSignal = rest;
        break;
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        const list = rest.startsWith('[') ? jsonList(rest) : rest.split(/\s+/).filter(Boolean);
        for (const v of list) vols[v] = {};
        c.Volumes = vols;
        break;
      }
      case 'HEALTHCHECK':
        c.Healthcheck = parseHealthcheckInstruction(rest);
        break;
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), rest];
        break;
      default:
        throw invalid(`${instr} is not a valid change command`);
    }
  }
  return c;
}

function jsonList(s: string): string[] {
  try {
    const j = JSON.parse(s) as unknown;
    if (Array.isArray(j) && j.every((x) => typeof x === 'string')) return j as string[];
  } catch {
    /* fall through */
  }
  throw invalid(`invalid JSON array: ${s}`);
}

function cmdForm(s: string): string[] {
  if (s.startsWith('[')) {
    try {
      return jsonList(s);
    } catch {
      /* shell form, as Docker falls back */
    }
  }
  return ['/bin/sh', '-c', s];
}

function keyValues(s: string, what: string): [string, string][] {
  if (!s.includes('=')) {
    const m = /^(\S+)\s+(.*)$/s.exec(s);
    if (!m) throw invalid(`${what} must have two arguments`);
    return [[m[1]!, m[2]!]];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|(?:[^\s\\]|\\.)*)/g;
  for (const m of s.matchAll(re)) {
    let v = m[2] ?? '';
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (v.startsWith("'")) v = v.slice(1, -1);
    else v = v.replace(/\\(.)/g, '$1');
    out.push([m[1]!, v]);
  }
  return out;
}
