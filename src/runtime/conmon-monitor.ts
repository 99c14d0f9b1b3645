import { spawn } from 'node:child_process';
import { open, readFile, stat, unlink, mkdir, appendFile, writeFile } from 'node:fs/promises';
import { watch } from 'node:fs';
import { join } from 'node:path';
import { BerthError, isErrno } from '../common/index.ts';
import type { ExecHandle, ExitInfo, Monitor, MonitorIo } from './monitor.ts';
import type { OciRuntime } from './oci-runtime.ts';

/**
 * conmon 2.1.x as the per-container monitor. conmon runs `<runtime> create`; the engine runs
 * `<runtime> start`. Exit codes land in `<exitDir>/<id>`; after an OOM kill conmon also writes
 * `<bundle>/oom` (its persist dir is the bundle).
 */
export class ConmonMonitor implements Monitor {
  constructor(
    private readonly conmonPath: string,
    private readonly runtime: OciRuntime,
    private readonly exitDir: string,
  ) {}

  async create(id: string, bundle: string, io: MonitorIo): Promise<{ pid: number }> {
    await mkdir(this.exitDir, { recursive: true });
    await unlink(join(this.exitDir, id)).catch(() => {});
    const args = [
      '--api-version', '1', '-c', id, '-u', id, '-n', id,
      '-r', this.runtime.path, '-b', bundle, '-p', join(bundle, 'pidfile'),
      '--exit-dir', this.exitDir, '-0', bundle,
      // logPath '' = --log-driver none: conmon writes no log at all. --no-sync-log: like docker's
      // json-file, no fsync of the log when the container exits (100 MB of output took seconds)
      '-l', io.logPath ? `k8s-file:${io.logPath}` : 'none:/dev/null', '--no-sync-log', '--log-level', 'error', '--syslog',
      '--full-attach', '--socket-dir-path', bundle, '--conmon-pidfile', join(bundle, 'conmon.pid'),
      ...this.runtime.globalArgs.flatMap((a) => ['--runtime-arg', a]),
    ];
    // conmon 2.1.6's own limit empties the log (open <log>.tmp O_TRUNC, rename over <log>) once
    // that many bytes were written since its last such reopen, REOPEN_LOGS not counting: lossy.
    // The engine rotates logs itself (engine/logs.ts) and leaves this unset.
    if (io.logSizeMax) args.push('--log-size-max', String(io.logSizeMax));
    if (io.tty) args.push('-t');
    // compat: without --leave-stdin-open conmon closes stdin when the first attach client leaves,
    // which is exactly StdinOnce; otherwise stdin must outlive every client
    if (io.stdin) args.push('-i', ...(io.stdinOnce ? [] : ['--leave-stdin-open']));
    const errLog = await open(join(bundle, 'conmon.err'), 'a');
    const child = spawn(this.conmonPath, args, {
      stdio: ['ignore', errLog.fd, errLog.fd, 'pipe', 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' },
      // conmon writes an `oom` marker into its working directory too: keep it in the bundle
      cwd: bundle,
      detached: true,
    });
    await errLog.close();
    child.unref();
    const sync = child.stdio[3] as NodeJS.ReadableStream;
    const start = child.stdio[4] as NodeJS.WritableStream;
    start.write('\0');
    const text = await new Promise<string>((resolve, reject) => {
      let buf = '';
      sync.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('}')) resolve(buf);
      });
      sync.on('end', () => resolve(buf));
      child.on('error', (e) => reject(new BerthError('internal', `conmon: ${e.message}`)));
    });
    (sync as unknown as { destroy(): void }).destroy();
    (start as unknown as { destroy(): void }).destroy();
    let msg: { data?: number; message?: string };
    try {
      msg = JSON.parse(text.slice(0, text.indexOf('}') + 1)) as { data?: number; message?: string };
    } catch {
      const err = await readFile(join(bundle, 'conmon.err'), 'utf8').catch(() => '');
      throw new BerthError('internal', `conmon failed to create the container: ${err.trim() || 'no reply'}`);
    }
    if (typeof msg.data !== 'number' || msg.data < 0) {
      throw new BerthError('internal', cleanRuntimeMessage(msg.message ?? 'container create failed'));
    }
    return { pid: msg.data };
  }

  async exec(id: string, execId: string, dir: string, process: object, io: { tty: boolean; stdin: boolean }): Promise<ExecHandle> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const spec = join(dir, 'process.json');
    await writeFile(spec, JSON.stringify(process));
    // conmon's exec API: the exit file is named after the container id, so each session has its own exit dir
    const args = [
      '--api-version', '1', '-c', id, '-u', execId, '-n', id,
      '-r', this.runtime.path, '-b', dir, '-p', join(dir, 'pidfile'),
      '--exit-dir', dir, '-0', dir, '-l', `k8s-file:${join(dir, 'log')}`, '--log-level', 'error', '--syslog',
      '--full-attach', '--socket-dir-path', dir,
      '-e', '--exec-attach', '--exec-process-spec', spec,
      ...this.runtime.globalArgs.flatMap((a) => ['--runtime-arg', a]),
    ];
    if (io.tty) args.push('-t');
    if (io.stdin) args.push('-i');
    const errLog = await open(join(dir, 'conmon.err'), 'a');
    const child = spawn(this.conmonPath, args, {
      stdio: ['ignore', errLog.fd, errLog.fd, 'pipe', 'pipe', 'pipe'],
      env: { ...globalThis.process.env, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', _OCI_ATTACHPIPE: '5' },
      cwd: dir,
      detached: true,
    });
    await errLog.close();
    child.unref();
    const sync = syncMessages(child.stdio[3] as NodeJS.ReadableStream);
    const attach = syncMessages((child.stdio as unknown as NodeJS.ReadableStream[])[5]!);
    const startPipe = child.stdio[4] as NodeJS.WritableStream & { destroy(): void };
    startPipe.write('\0'); // conmon's first start read: it may now set up the session
    const ready = await attach.next();
    if (ready.done) {
      const err = await readFile(join(dir, 'conmon.err'), 'utf8').catch(() => '');
      throw new BerthError('internal', `conmon exec failed: ${err.trim() || 'no attach socket'}`);
    }
    let resolveExit!: (code: number) => void;
    const exited = new Promise<number>((r) => (resolveExit = r));
    return {
      attachSocket: join(dir, 'attach'),
      start: async () => {
        startPipe.write('\0'); // second read: the attach clients are connected, run `runtime exec`
        const first = await sync.next();
        const pid = first.done ? undefined : first.value;
        if (!pid || typeof pid.data !== 'number' || pid.data <= 0) {
          resolveExit(pid?.data && pid.data < 0 ? -pid.data : 126);
          startPipe.destroy();
          throw new BerthError('invalid-argument', cleanRuntimeMessage(pid?.message ?? 'exec failed'));
        }
        void sync.next().then((r) => {
          startPipe.destroy();
          resolveExit(r.done || typeof r.value.data !== 'number' ? 255 : r.value.data);
        });
        return pid.data;
      },
      exited,
      resize: (rows, cols) => appendFile(join(dir, 'ctl'), `1 ${rows} ${cols}\n`),
    };
  }

  async exit(id: string): Promise<ExitInfo | undefined> {
    const f = join(this.exitDir, id);
    let text: string;
    let mtime: Date;
    try {
      [text, mtime] = await Promise.all([readFile(f, 'utf8'), stat(f).then((s) => s.mtime)]);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
    if (text.trim() === '') return undefined; // being written
    const code = Number.parseInt(text.trim(), 10);
    return { code: Number.isNaN(code) ? 255 : code, oomKilled: false, finishedAt: mtime };
  }

  async clearExit(id: string): Promise<void> {
    await unlink(join(this.exitDir, id)).catch(() => {});
  }

  attachSocket(bundle: string): string {
    return join(bundle, 'attach');
  }

  async resize(bundle: string, rows: number, cols: number): Promise<void> {
    // conmon's ctl fifo: "<type> <rows> <cols>\n", type 1 = resize
    await appendFile(join(bundle, 'ctl'), `1 ${rows} ${cols}\n`);
  }

  watchExits(fn: (id: string) => void): () => void {
    const w = watch(this.exitDir, (_ev, name) => {
      if (name && !name.startsWith('.')) fn(name.toString());
    });
    return () => w.close();
  }
}

/** conmon's sync messages: `{"data": N, "message": "…"}` objects, one after another. */
async function* syncMessages(stream: NodeJS.ReadableStream): AsyncGenerator<{ data?: number; message?: string }> {
  let buf = '';
  for await (const chunk of stream) {
    buf += (chunk as Buffer).toString();
    for (;;) {
      const end = buf.indexOf('}');
      if (end < 0) break;
      const text = buf.slice(buf.indexOf('{'), end + 1);
      buf = buf.slice(end + 1);
      try {
        yield JSON.parse(text) as { data?: number; message?: string };
      } catch {
        yield { data: -1, message: text };
      }
    }
  }
}

/** OOM: conmon writes `<persist dir>/oom`; the persist dir is the bundle. */
export async function wasOomKilled(bundle: string): Promise<boolean> {
  try {
    await stat(join(bundle, 'oom'));
    return true;
  } catch {
    return false;
  }
}

function cleanRuntimeMessage(m: string): string {
  // conmon relays runc's log line, escaped once more: `runc create failed: … msg=\"…\"`
  let text = m.replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  const j = /"msg":"((?:[^"\\]|\\.)*)"/.exec(text);
  if (j) text = JSON.parse(`"${j[1]}"`) as string;
  return text.trim().replace(/time="[^"]*" level=\w+ msg="?/, '').replace(/"+$/, '').trim();
}
