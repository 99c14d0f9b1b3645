// The docker CLI against a real berthd (runc + conmon): the container lifecycle.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';

const skip = skipReason();

describe('containers through the docker CLI', { skip }, () => {
  const d = new TestDaemon();
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());

  test('run prints stdout and stderr and exits with the container code', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('run -i passes piped stdin and the container sees EOF', async () => {
    const r = await d.docker(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'wc -l; echo done'], { input: 'a\nb\nc\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '3\ndone\n');
  });

  test('a missing command exits 127 with docker\'s message', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /exec: "nosuchcmd": executable file not found in \$PATH/);
  });

  test('run -d, ps, inspect, logs, stop, rm', async () => {
    const name = `web-${randomSuffix()}`;
    const run = await d.docker(['run', '-d', '--name', name, '-l', 'tier=web', 'busybox', 'sh', '-c', 'echo started; trap "exit 0" TERM; while true; do sleep 0.1; done']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    const ps = await d.docker(['ps', '--format', '{{.Names}} {{.Status}} {{.Labels}}']);
    assert.match(ps.stdout, new RegExp(`^${name} Up .* tier=web$`, 'm'));
    const insp = await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.Name}} {{json .Config.Cmd}} {{.HostConfig.RestartPolicy.Name}}', name]);
    assert.equal(insp.stdout.trim(), `running true /${name} ["sh","-c","echo started; trap \\"exit 0\\" TERM; while true; do sleep 0.1; done"] no`);
    for (let i = 0; i < 50; i++) {
      if ((await d.docker(['logs', name])).stdout === 'started\n') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await d.docker(['logs', name])).stdout, 'started\n');
    const t0 = Date.now();
    const stop = await d.docker(['stop', name]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout.trim(), name);
    assert.ok(Date.now() - t0 < 5000, 'the TERM trap ends it well before the 10 s timeout');
    const st = await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name]);
    assert.equal(st.stdout.trim(), 'exited 0');
    const ps2 = await d.docker(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Status}}']);
    assert.match(ps2.stdout, /^Exited \(0\) /);
    assert.equal((await d.docker(['rm', name])).code, 0);
    const gone = await d.docker(['inspect', name]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`No such object: ${name}`));
  });

  test('errors carry docker\'s status texts', async () => {
    const r = await d.docker(['stop', 'nope-nothing']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such container: nope-nothing/);
    const name = `dup-${randomSuffix()}`;
    assert.equal((await d.docker(['create', '--name', name, 'busybox'])).code, 0);
    const dup = await d.docker(['create', '--name', name, 'busybox']);
    assert.equal(dup.code, 1); // the docker CLI exits 1 for create errors (125 is for run)
    assert.match(dup.stderr, new RegExp(`Conflict. The container name "/${name}" is already in use`));
    const img = await d.docker(['run', '--rm', '--pull', 'never', 'nosuchimage:1']);
    assert.equal(img.code, 125);
    assert.match(img.stderr, /No such image: nosuchimage:1/);
    await d.docker(['rm', name]);
  });

  test('start of a running container is a 304, and rm of a running one is refused', async () => {
    const name = `busy-${randomSuffix()}`;
    await d.docker(['run', '-d', '--name', name, 'busybox', 'sleep', '1000']);
    const start = await d.docker(['start', name]);
    assert.equal(start.code, 0);
    const rm = await d.docker(['rm', name]);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /container is running: stop the container before removing or force remove/);
    assert.equal((await d.docker(['rm', '-f', name])).code, 0);
  });

  test('nsenter into the container sees its hostname', async () => {
    const name = `ns-${randomSuffix()}`;
    await d.docker(['run', '-d', '--name', name, '-h', 'berthhost', 'busybox', 'sleep', '1000']);
    const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', name])).stdout.trim();
    assert.match(pid, /^[1-9]\d*$/);
    const ns = spawnSync('nsenter', ['--target', pid, '--mount', '--uts', '--ipc', '--net', '--pid', 'hostname'], { encoding: 'utf8' });
    assert.equal(ns.stdout.trim(), 'berthhost');
    await d.docker(['rm', '-f', name]);
  });

  test('pause, unpause, kill, restart, rename, wait, top', async () => {
    const name = `life-${randomSuffix()}`;
    await d.docker(['run', '-d', '--name', name, 'busybox', 'sleep', '1000']);
    assert.equal((await d.docker(['pause', name])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', name])).stdout.trim(), 'paused true');
    assert.equal((await d.docker(['unpause', name])).code, 0);
    const top = await d.docker(['top', name]);
    assert.match(top.stdout, /sleep 1000/);
    const renamed = `${name}-2`;
    assert.equal((await d.docker(['rename', name, renamed])).code, 0);
    const waiter = d.docker(['wait', renamed]);
    assert.equal((await d.docker(['kill', '-s', 'KILL', renamed])).code, 0);
    const w = await waiter;
    assert.equal(w.stdout.trim(), '137');
    assert.equal((await d.docker(['restart', '-t', '1', renamed])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', renamed])).stdout.trim(), 'running');
    assert.equal((await d.docker(['rm', '-f', renamed])).code, 0);
  });

  test('diff, commit and export', async () => {
    const name = `fs-${randomSuffix()}`;
    const r = await d.docker(['run', '--name', name, 'busybox', 'sh', '-c', 'mkdir /data && echo hi > /data/f && rm /bin/vi']);
    assert.equal(r.code, 0, r.stderr);
    const diff = await d.docker(['diff', name]);
    assert.deepEqual(diff.stdout.trim().split('\n').sort(), ['A /data', 'A /data/f', 'C /bin', 'D /bin/vi'].sort());
    const tag = `committed-${randomSuffix()}:v1`;
    const c = await d.docker(['commit', '-m', 'msg', '-c', 'CMD ["cat", "/data/f"]', name, tag]);
    assert.equal(c.code, 0, c.stderr);
    const out = await d.docker(['run', '--rm', tag]);
    assert.equal(out.stdout, 'hi\n');
    const ex = spawnSync('sh', ['-c', `docker export ${name} | tar -t | grep -c '^data/f$'`], { env: d.env, encoding: 'utf8' });
    assert.equal(ex.stdout.trim(), '1');
    await d.docker(['rm', name]);
    await d.docker(['rmi', tag]);
  });

  test('restart policy on-failure restarts until the count is reached', async () => {
    const name = `rp-${randomSuffix()}`;
    await d.docker(['run', '-d', '--name', name, '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 4']);
    let status = '';
    for (let i = 0; i < 60; i++) {
      status = (await d.docker(['inspect', '-f', '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}', name])).stdout.trim();
      if (status === '2 exited 4') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, '2 exited 4');
    await d.docker(['rm', '-f', name]);
  });

  test('--rm removes the container after it exits', async () => {
    const name = `rm-${randomSuffix()}`;
    const r = await d.docker(['run', '--rm', '--name', name, 'busybox', 'true']);
    assert.equal(r.code, 0);
    const ps = await d.docker(['ps', '-a', '--filter', `name=${name}`, '-q']);
    assert.equal(ps.stdout.trim(), '');
  });

  // The rootfs is unmounted in the background after an exit (an overlay unmount syncs the whole
  // upper filesystem, slow after a chatty container): whatever comes next must wait for it.
  test('right after an exit with a dirty page cache: start again, cp out, commit, rm leave no mount behind', async () => {
    const name = `ex-${randomSuffix()}`;
    const r = await d.docker(['run', '--name', name, 'busybox', 'sh', '-c', 'head -c 20000000 /dev/zero | od; echo $$ > /pid-file']);
    assert.equal(r.code, 0, r.stderr);
    const again = await d.docker(['start', '-a', name]);
    assert.equal(again.code, 0, again.stderr);
    const cp = spawnSync('sh', ['-c', `docker cp ${name}:/pid-file - | tar -xO`], { env: d.env, encoding: 'utf8' });
    assert.equal(cp.stdout.trim(), '1');
    const tag = `ex-${randomSuffix()}:c`;
    assert.equal((await d.docker(['commit', name, tag])).code, 0);
    assert.equal((await d.docker(['run', '--rm', tag, 'cat', '/pid-file'])).stdout, '1\n');
    const id = (await d.docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
    assert.equal((await d.docker(['rm', name])).code, 0);
    assert.equal((await d.docker(['rmi', tag])).code, 0);
    const mounts = spawnSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' }).stdout;
    assert.ok(!mounts.includes(id), 'no mount of the removed container is left');
  });

  // conmon ends an attach stream when the container exits; the socket closes only when both sides
  // are done, so berthd must close its side: it kept one fd (and the attach's listeners) per run
  test('attached runs and build steps leave no attach socket open in berthd', async () => {
    const pid = d.proc?.pid;
    assert.ok(pid, 'berthd runs');
    const fds = (): number => readdirSync(`/proc/${pid}/fd`).length;
    assert.equal((await d.docker(['run', '--rm', 'busybox', 'true'])).code, 0);
    await new Promise((r) => setTimeout(r, 300));
    const before = fds();
    for (let i = 0; i < 6; i++) assert.equal((await d.docker(['run', '--rm', 'busybox', 'echo', String(i)])).stdout, `${i}\n`);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(fds() <= before + 1, `berthd's open files went from ${before} to ${fds()} over 6 attached runs`);
  });
});
