import type { Endpoint, NetworkDriver } from '../driver.ts';

/** `--net none`: a private namespace with only `lo`, which the runtime brings up. */
export class NoneDriver implements NetworkDriver {
  readonly name = 'null';
  async setup(): Promise<void> {}
  async join(_ep: Endpoint, _netnsPath: string, _opts?: { defaultRoute?: boolean }): Promise<void> {}
  async leave(_ep: Endpoint, _opts?: { wait?: boolean }): Promise<void> {}
  async prune(_keep: ReadonlySet<string>): Promise<string[]> {
    return [];
  }
}
