import os from 'node:os';
import type { Command } from 'commander';
import type { SystemVersion } from '../../api/index.ts';
import { API_VERSION } from '../../client/index.ts';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { BERTH_VERSION } from '../version.ts';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };

function clientVersion(): Record<string, unknown> {
  return {
    Platform: { Name: 'Berth' },
    Version: BERTH_VERSION,
    ApiVersion: API_VERSION,
    DefaultAPIVersion: API_VERSION,
    GitCommit: '',
    GoVersion: process.version,
    Os: os.platform(),
    Arch: ARCH[os.arch()] ?? os.arch(),
    BuildTime: '',
    Context: 'default',
  };
}

function pad(label: string, width = 19): string {
  return `${label}:`.padEnd(width);
}

/** docker's version layout for the server part. */
export function formatServerVersion(v: SystemVersion): string {
  let s = `Server:${v.Platform?.Name ? ` ${v.Platform.Name}` : ''}\n`;
  const comps = v.Components?.length ? v.Components : [{ Name: 'Engine', Version: v.Version ?? '', Details: null }];
  for (const c of comps) {
    s += ` ${c.Name}:\n`;
    if (c.Name === 'Engine') {
      s += `  ${pad('Version', 18)}${v.Version ?? c.Version}\n`;
      s += `  ${pad('API version', 18)}${v.ApiVersion ?? ''} (minimum version ${v.MinAPIVersion ?? ''})\n`;
      s += `  ${pad('Go version', 18)}${v.GoVersion ?? ''}\n`;
      s += `  ${pad('Git commit', 18)}${v.GitCommit ?? ''}\n`;
      s += `  ${pad('Built', 18)}${v.BuildTime ?? ''}\n`;
      s += `  ${pad('OS/Arch', 18)}${v.Os ?? ''}/${v.Arch ?? ''}\n`;
      s += `  ${pad('Experimental', 18)}${v.Experimental ? 'true' : 'false'}\n`;
    } else {
      s += `  ${pad('Version', 18)}${c.Version}\n`;
      for (const [k, val] of Object.entries(c.Details ?? {})) s += `  ${pad(k, 18)}${String(val)}\n`;
    }
  }
  return s;
}

/** `version [--format]`: the client part always, then the server's (exit 1 when unreachable). */
export function registerVersion(parent: Command, ctx: CliContext, name = 'version'): Command {
  const cmd = verb(parent, name, '[OPTIONS]', 'Show the Docker version information', { max: 0 });
  cmd.option('-f, --format <string>', 'Format output using a custom template');
  return action<{ format?: string }>(cmd, async (_args, o) => {
    const client = clientVersion();
    if (o.format) {
      let server: SystemVersion | undefined;
      let error: unknown;
      try {
        server = await ctx.client.version();
      } catch (err) {
        error = err;
      }
      // compat: templates use Go's field names (APIVersion), not the JSON ones (ApiVersion)
      const data = { Client: goVersionFields(client), Server: server ? goVersionFields(server as unknown as Record<string, unknown>) : null };
      if (o.format === 'json') ctx.out(`${JSON.stringify(data)}\n`);
      else {
        // Loaded here: the template engine is most of this verb's code, and only --format uses it.
        const { parseTemplate, render } = await import('../format/template.ts');
        ctx.out(`${render(parseTemplate(o.format), data)}\n`);
      }
      if (error) throw error;
      return;
    }
    ctx.out(
      `Client:\n ${pad('Version')}${BERTH_VERSION}\n ${pad('API version')}${API_VERSION}\n ${pad('Node version')}${process.version}\n` +
        ` ${pad('OS/Arch')}${String(client['Os'])}/${String(client['Arch'])}\n ${pad('Context')}default\n\n`,
    );
    const server = await ctx.client.version();
    ctx.out(formatServerVersion(server));
  });
}

function goVersionFields(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...v };
  if ('ApiVersion' in v) out.APIVersion = v.ApiVersion;
  if ('MinAPIVersion' in v) out.MinAPIVersion = v.MinAPIVersion;
  if ('DefaultAPIVersion' in v) out.DefaultAPIVersion = v.DefaultAPIVersion;
  return out;
}
