import type { Endpoint, NetworkDriver } from '../driver.ts';

/** `--net host`: the container uses the host's namespace; there is nothing to plug. */
export class HostDriver implements NetworkDriver {
  readonly name = 'host';
  async setup(): Promise<void> {}
  async join(_ep: Endpoint, _netnsPath: string, _opts?: { defaultRoute?: boolean }): Promise<void> {}
  async leave(_ep: Endpoint, _opts?: { wait?: boolean }): Promise<void> {}
  async prune(_keep: ReadonlySet<string>): Promise<string[]> {
    return [];
  }
}
