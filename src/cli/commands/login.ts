import type { Command } from 'commander';
import { ClientError } from '../../client/index.ts';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { HUB_SERVER, configPath, loadConfig, saveConfig, serverKey, setCredentials, storedCredentials } from '../docker-config.ts';
import { StatusError } from '../errors.ts';
import { readLineFrom, readSecret } from '../prompt.ts';

/**
 * `login [-u USER] [-p PASS | --password-stdin] [SERVER]`: checks the credentials through the
 * daemon (`POST /auth`) and keeps them in the docker config.json (mode 0600), as the docker CLI.
 */
export function registerLogin(parent: Command, ctx: CliContext): Command {
  const cmd = verb(parent, 'login', '[OPTIONS] [SERVER]', 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.', { max: 1 });
  cmd
    .option('-p, --password <string>', 'Password or Personal Access Token (PAT)')
    .option('--password-stdin', 'Take the Password or Personal Access Token (PAT) from stdin')
    .option('-u, --username <string>', 'Username');
  return action<{ password?: string; passwordStdin?: boolean; username?: string }>(cmd, async ([server], o) => {
    if (o.password !== undefined && o.passwordStdin) throw new StatusError('conflicting options: cannot specify both --password and --password-stdin', 1);
    if (o.passwordStdin && !o.username) throw new StatusError('the --password-stdin option requires --username to be set', 1);
    if (o.password !== undefined) ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    const key = serverKey(server);
    const cfg = await loadConfig(ctx.io.env);
    let username = o.username?.trim() ?? '';
    let password = o.password ?? '';
    if (o.passwordStdin) password = (await readLineFrom(ctx.io.stdin, true)).replace(/\r?\n$/, '').replace(/\r$/, '');
    const stored = storedCredentials(cfg, key);
    let identityToken: string | undefined;
    if (!o.username && o.password === undefined && stored) {
      // compat: docker tries the stored credentials first
      ctx.out(`Authenticating with existing credentials... [Username: ${stored.username}]\n`);
      try {
        const r = await ctx.client.registryLogin(stored.identityToken ? { username: stored.username, identitytoken: stored.identityToken, serveraddress: key } : { username: stored.username, password: stored.password, serveraddress: key });
        await save(ctx, key, { ...stored, identityToken: r.IdentityToken || stored.identityToken });
        return;
      } catch (err) {
        if (!(err instanceof ClientError) || !ctx.io.stdin.isTTY) throw err;
        ctx.err(`Login did not succeed, error: ${err.message}\n`);
      }
    }
    if (!username || (!password && !o.passwordStdin)) {
      if (!ctx.io.stdin.isTTY) throw new StatusError('Error: Cannot perform an interactive login from a non TTY device', 1);
      if (!username) {
        ctx.out(stored?.username ? `Username (${stored.username}): ` : 'Username: ');
        username = (await readLineFrom(ctx.io.stdin, false)).trim() || stored?.username || '';
        if (!username) throw new StatusError('Error: Non-null Username Required', 1);
      }
      if (!password) {
        password = await readSecret(ctx, 'Password: ');
        if (!password) throw new StatusError('Error: Password Required', 1);
      }
    }
    const r = await ctx.client.registryLogin({ username, password, serveraddress: key === HUB_SERVER ? HUB_SERVER : key });
    identityToken = r.IdentityToken || undefined;
    await save(ctx, key, { username, password, serverAddress: key, ...(identityToken ? { identityToken } : {}) });
  });
}

async function save(ctx: CliContext, key: string, creds: { username: string; password: string; identityToken?: string; serverAddress: string }): Promise<void> {
  const cfg = await loadConfig(ctx.io.env);
  await saveConfig(ctx.io.env, setCredentials(cfg, key, creds));
  ctx.err(`\nWARNING! Your credentials are stored unencrypted in '${configPath(ctx.io.env)}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`);
  ctx.out('Login Succeeded\n');
}

/** `logout [SERVER]`: drops the stored credentials (Docker Hub's without a server). */
export function registerLogout(parent: Command, ctx: CliContext): Command {
  const cmd = verb(parent, 'logout', '[SERVER]', 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.', { max: 1 });
  return action<object>(cmd, async ([server]) => {
    const key = serverKey(server);
    // compat: docker names the server as given (its host name), Docker Hub by its URL
    ctx.out(`Removing login credentials for ${key}\n`);
    const cfg = await loadConfig(ctx.io.env);
    if (!storedCredentials(cfg, key) && !Object.keys(cfg.auths ?? {}).some((k) => serverKey(k) === key)) return;
    await saveConfig(ctx.io.env, setCredentials(cfg, key, undefined));
  });
}
