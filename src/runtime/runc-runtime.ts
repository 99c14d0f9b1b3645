import { join } from 'node:path';
import { BerthError, isErrno, run, notFound } from '../common/index.ts';
import type { OciRuntime, OciState } from './oci-runtime.ts';
import { writeFile, unlink, mkdtemp, rm, stat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';

/** runc (or crun, which takes the same verbs) driven by its command line, with its own --root. */
export class RuncRuntime implements OciRuntime {
  readonly globalArgs: string[];
  readonly #stateRoot: string;
  constructor(
    readonly name: string,
    readonly path: string,
    stateRoot: string,
  ) {
    this.globalArgs = [`--root=${stateRoot}`];
    this.#stateRoot = stateRoot;
  }

  async exists(id: string): Promise<boolean> {
    // runc and crun both keep one directory per container under --root
    return stat(join(this.#stateRoot, id)).then(() => true, () => false);
  }

  async list(): Promise<string[]> {
    return readdir(this.#stateRoot).catch(() => []);
  }

  #run(args: string[], input?: string) {
    return run(this.path, [...this.globalArgs, ...args], { input });
  }

  async start(id: string): Promise<void> {
    await this.#run(['start', id]);
  }
  async kill(id: string, signal: string, opts?: { all?: boolean }): Promise<void> {
    await this.#run(['kill', ...(opts?.all ? ['--all'] : []), id, signal.replace(/^SIG/, '')]);
  }
  async delete(id: string, opts?: { force?: boolean }): Promise<void> {
    const r = await run(this.path, [...this.globalArgs, 'delete', ...(opts?.force ? ['--force'] : []), id], { allowFail: true });
    if (r.code !== 0 && !/does not exist|not found/i.test(r.stderr)) throw new BerthError('internal', `${this.name} delete: ${r.stderr.trim()}`);
  }
  async state(id: string): Promise<OciState> {
    const r = await run(this.path, [...this.globalArgs, 'state', id], { allowFail: true });
    if (r.code !== 0) {
      if (/does not exist|not found/i.test(r.stderr)) throw notFound('container', id);
      throw new BerthError('internal', `${this.name} state: ${r.stderr.trim()}`);
    }
    return JSON.parse(r.stdout) as OciState;
  }
  async pause(id: string): Promise<void> {
    await this.#run(['pause', id]);
  }
  async resume(id: string): Promise<void> {
    await this.#run(['resume', id]);
  }
  async pids(id: string): Promise<number[]> {
    const r = await this.#run(['ps', '--format', 'json', id]);
    return (JSON.parse(r.stdout || '[]') as number[] | null) ?? [];
  }
  async update(id: string, resources: object): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'berth-update-'));
    const f = join(dir, 'resources.json');
    try {
      await writeFile(f, JSON.stringify(resources));
      await this.#run(['update', '--resources', f, id]);
    } finally {
      await unlink(f).catch((e: unknown) => { if (!isErrno(e, 'ENOENT')) throw e; });
      await rm(dir, { recursive: true, force: true });
    }
  }
}
