import { messageOf } from '../../common/index.ts';
import type { Router } from '../router.ts';
import { hijack } from '../router.ts';
import { frame, qInt, readJson, sendJson } from '../http.ts';
import type { Backends } from '../backends.ts';
import { consoleSize, execConfigFrom } from '../convert.ts';
import { parseDetachKeys, relay } from '../detach.ts';

export function execRoutes(r: Router, b: Backends): void {
  r.post('/containers/{id}/exec', async (req) => {
    const cfg = execConfigFrom(await readJson(req));
    if (cfg.detachKeys) parseDetachKeys(cfg.detachKeys);
    const id = b.exec.create(req.params.id!, cfg);
    sendJson(req.res, 201, { Id: id });
  });

  r.get('/exec/{id}/json', (req) => {
    const e = b.exec.get(req.params.id!);
    const [entrypoint = '', ...args] = e.config.cmd;
    sendJson(req.res, 200, {
      CanRemove: false, ContainerID: e.containerId, DetachKeys: e.config.detachKeys, ExitCode: e.exitCode, ID: e.id,
      OpenStderr: e.config.attachStderr, OpenStdin: e.config.attachStdin, OpenStdout: e.config.attachStdout,
      ProcessConfig: { arguments: args, entrypoint, privileged: e.config.privileged, tty: e.config.tty, ...(e.config.user ? { user: e.config.user } : {}) },
      Running: e.running, Pid: e.pid,
    });
  });

  r.post('/exec/{id}/resize', async (req) => {
    await b.exec.resize(req.params.id!, qInt(req.query, 'h') ?? 0, qInt(req.query, 'w') ?? 0);
    req.res.writeHead(200, { 'Content-Type': 'text/plain' }).end();
  });

  r.post('/exec/{id}/start', async (req) => {
    const body = ((await readJson(req)) ?? {}) as { Detach?: unknown; Tty?: unknown; ConsoleSize?: unknown };
    const id = req.params.id!;
    const e = b.exec.assertStartable(id); // 404/409 while a status code can still be sent
    const tty = body.Tty === true || (body.Tty === undefined && e.config.tty);
    const cs = consoleSize(body.ConsoleSize) ?? undefined;
    if (body.Detach === true) {
      await b.exec.start(id, { attach: false, tty, consoleSize: cs });
      req.res.writeHead(200, { 'Content-Type': 'application/json' }).end();
      return;
    }
    const sock = hijack(req, tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    let session;
    try {
      session = await b.exec.start(id, { attach: true, tty, consoleSize: cs });
    } catch (err) {
      // compat: dockerd writes a start failure into the hijacked stream; the CLI then reads ExitCode from inspect
      const text = Buffer.from(`${messageOf(err)}\r\n`);
      sock.end(tty ? text : frame(1, text));
      return;
    }
    const s = session;
    relay(sock, s, { stdin: e.config.attachStdin, detachKeys: e.config.detachKeys });
    sock.on('close', () => s.close());
    await s.done;
    if (sock.writable) sock.end();
  });
}
